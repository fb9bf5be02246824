"""Source lines a topic module needs for a JSON Schema key or value.

The schema text and the text of every document it ``$ref``s come from the generated model
modules' ``SCHEMA_TEXT`` constants (one copy per schema, however many topics use it); the
topic module exposes them as ``<LABEL>_SCHEMA`` and builds its ``JsonModelCodec`` with the
referenced documents as registry references, named and placed under the subjects that
``gen-topics push`` uses. A model module without the constant (none was generated for a
document) makes the topic module embed that text itself, once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gen_topics.registry.subjects import SubjectNameError, subject_name
from generator.jsonschema.references import JsonReference, subject_of
from generator.jsonschema.render import SCHEMA_CONSTANT, SCHEMA_CONSTANT_MARKER
from generator.model import JsonPayload, TopicModel
from generator.naming import module_alias
from generator.source_text import py_string

__all__ = ["JsonSideCode", "ModuleDocuments", "json_side_code", "json_topic_subjects"]


def json_topic_subjects(topics: Sequence[TopicModel]) -> dict[str, str]:
    """Document (path under the schemas folder) -> subject, for documents that are a topic's
    key or value schema.

    ``push`` registers such a document under that topic's subject, and when several topics
    use it, under the last one's (descriptors in path order, key before value); so here.
    """
    out: dict[str, str] = {}
    for topic in topics:
        desc = topic.descriptor
        for is_key, payload in ((True, topic.key), (False, topic.value)):
            if not isinstance(payload, JsonPayload):
                continue
            try:
                out[payload.source] = subject_name(
                    desc.subject_name_strategy,
                    topic=desc.topic,
                    is_key=is_key,
                    schema_type="JSON",
                    schema_text=payload.json_type.schema_text,
                )
            except SubjectNameError:
                continue  # the codec reports it, with the topic, when it registers
    return out


@dataclass
class ModuleDocuments:
    """Where one topic module finds schema texts, and under which subjects they go.

    ``json_files`` are the rendered model modules (output path -> source); texts of
    documents whose module has no ``SCHEMA_TEXT`` become module constants, once each.
    ``subjects`` is :func:`json_topic_subjects` of all topics (computed once per run).
    """

    json_files: Mapping[str, str]
    subjects: Mapping[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)

    def in_module(self, module: str) -> str | None:
        """``<module alias>.SCHEMA_TEXT`` if the model module ``module`` has the constant."""
        source = self.json_files.get(module.replace(".", "/") + ".py")
        if source is None or SCHEMA_CONSTANT_MARKER not in source:
            return None
        return f"{module_alias(tuple(module.split('.')))}.{SCHEMA_CONSTANT}"

    def text(self, document: str, module: str, text: str) -> tuple[str, str | None, str | None]:
        """``(expression, module to import, new assignment)`` for one document's text."""
        expression = self.in_module(module)
        if expression is not None:
            return expression, module, None
        if document in self.constants:
            return self.constants[document], None, None
        base = "REF_" + re.sub(r"\W+", "_", document.removesuffix(".json")).strip("_").upper()
        name, n = base, 2
        while name in self.constants.values():
            name, n = f"{base}_{n}", n + 1
        self.constants[document] = name
        return name, None, f"{name}: Final = {py_string(text)}"


@dataclass(frozen=True)
class JsonSideCode:
    """Assignments for one side (``<LABEL>_SCHEMA``, ``<LABEL>_REFERENCES``) and its codec.

    ``modules`` are the model modules (dotted) the assignments read ``SCHEMA_TEXT`` from;
    ``documents`` the referenced documents (paths under the schemas folder), for the
    module's list of sources.
    """

    schema_assign: str
    codec_assign: str
    modules: tuple[str, ...]
    documents: tuple[str, ...]


@dataclass
class _Collected:
    assigns: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)


def json_side_code(
    label: str,
    type_name: str,
    schema: JsonReference,
    documents: ModuleDocuments,
) -> JsonSideCode:
    """Code for a JSON Schema key (``label`` ``KEY``) or value (``VALUE``) of type ``type_name``.

    ``schema`` describes the key/value schema itself (its ``references`` are the documents
    it ``$ref``s; its ``name`` is unused).
    """
    found = _Collected()
    root = documents.in_module(schema.module)
    if root is not None:
        found.modules.append(schema.module)
    elif schema.document in documents.constants:
        root = documents.constants[schema.document]
    else:
        # Its own copy, under its usual name; later references to it in the module use it.
        root = py_string(schema.schema_text)
        documents.constants[schema.document] = f"{label}_SCHEMA"
    expression = _tuple(schema.references, documents, found, "")
    found.assigns.append(f"{label}_SCHEMA: Final = {root}")
    args = [type_name, f"{label}_SCHEMA"]
    if schema.references:
        found.assigns.append(
            f"#: Documents {label}_SCHEMA $refs: registered first, as its references.\n"
            f"{label}_REFERENCES: Final = {expression}"
        )
        args.append(f"references={label}_REFERENCES")
    codec = f"{label}_CODEC: Final = JsonModelCodec({', '.join(args)})"
    if len(codec) > 100:
        codec = (
            f"{label}_CODEC: Final = JsonModelCodec(\n"
            + "".join(f"    {arg},\n" for arg in args)
            + ")"
        )
    return JsonSideCode(
        "\n\n".join(found.assigns),
        codec,
        tuple(dict.fromkeys(found.modules)),
        tuple(dict.fromkeys(found.documents)),
    )


def _tuple(
    references: Sequence[JsonReference],
    documents: ModuleDocuments,
    found: _Collected,
    indent: str,
) -> str:
    inner = indent + "    "
    items = []
    for ref in references:
        text, module, assign = documents.text(ref.document, ref.module, ref.schema_text)
        found.documents.append(ref.document)
        if module:
            found.modules.append(module)
        if assign:
            found.assigns.append(assign)
        args = [py_string(ref.name), py_string(subject_of(ref, documents.subjects)), text]
        if ref.references:
            args.append(_tuple(ref.references, documents, found, inner + "    "))
        body = "".join(f"{inner}    {arg},\n" for arg in args)
        items.append(f"{inner}SchemaRef(\n{body}{inner}),\n")
    return "(\n" + "".join(items) + f"{indent})"
