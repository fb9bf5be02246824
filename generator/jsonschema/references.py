"""The documents a JSON Schema ``$ref``s, as a schema registry references them.

A registry resolves a schema's external ``$ref`` through the schema's ``references``: one
``{name, subject, version}`` per referenced document, ``name`` being the ``$ref`` as
written. Generated topic codecs carry these so that a producer registers exactly what
``gen-topics push`` registers (generator/commands/sources.py): the same names, in the same
order (first use in the document), the same texts and the same subjects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.jsonschema.index import SchemaFile, SchemaIndex, iter_refs, split_ref
from generator.jsonschema.staging import plan_module

__all__ = ["JsonReference", "document_references", "subject_of"]


@dataclass(frozen=True)
class JsonReference:
    """One document a schema ``$ref``s.

    ``name`` is the ``$ref`` without its fragment, as written; ``document`` the file's path
    under the schemas folder (POSIX), which is its registry subject unless it is also a
    topic's key or value schema (see :func:`subject_of`); ``module`` the dotted model module
    generated for it (``jsonmodels.common.address``); ``references`` are its own.
    """

    name: str
    document: str
    schema_text: str
    module: str
    references: tuple[JsonReference, ...] = ()


def document_references(index: SchemaIndex, schema: SchemaFile) -> tuple[JsonReference, ...]:
    """The external documents ``schema`` references, each with the ones it references.

    A reference back to a document already on the path is left out: registries need
    referenced schemas registered first, which a cycle makes impossible.
    """
    return _references(index, schema, (schema.relative.as_posix(),))


def _references(
    index: SchemaIndex, schema: SchemaFile, path: tuple[str, ...]
) -> tuple[JsonReference, ...]:
    out: list[JsonReference] = []
    seen: set[str] = set()
    for ref in iter_refs(schema.require_document()):
        base, _ = split_ref(ref)
        if not base or base in seen:
            continue
        seen.add(base)
        target = index.locate(base, schema)
        if target is None or target is schema:
            continue  # index.closure() has reported unresolvable references already
        document = target.relative.as_posix()
        if document in path:
            continue
        nested = _references(index, target, (*path, document))
        module = plan_module(target).dotted
        out.append(JsonReference(base, document, target.text, module, nested))
    return tuple(out)


def subject_of(reference: JsonReference, topic_subjects: Mapping[str, str]) -> str:
    """The registry subject of a referenced document.

    ``topic_subjects`` maps a document (path under the schemas folder) that is also a
    topic's key or value schema to that topic's subject, which is where ``push`` registers
    it; any other document is registered under its own path.
    """
    return topic_subjects.get(reference.document, reference.document)
