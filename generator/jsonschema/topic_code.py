"""Source lines a topic module needs for a JSON Schema key or value.

The module embeds the schema text and the text of every document it ``$ref``s (each
document once per module, shared by key and value), and builds its ``JsonModelCodec``
with those documents as registry references, named and placed under the subjects that
``gen-topics push`` uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from generator.jsonschema.references import JsonReference, subject_of
from generator.model import JsonPayload, TopicModel
from generator.source_text import py_string
from runtime.registry.subjects import SubjectNameError, subject_name

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
    """The referenced documents one topic module embeds, by document path -> constant."""

    constants: dict[str, str] = field(default_factory=dict)

    def constant(self, document: str) -> tuple[str, bool]:
        """The constant holding ``document``'s text, and whether it is new to the module."""
        if document in self.constants:
            return self.constants[document], False
        base = "REF_" + (re.sub(r"\W+", "_", document.removesuffix(".json")).strip("_").upper())
        name, n = base, 2
        while name in self.constants.values():
            name, n = f"{base}_{n}", n + 1
        self.constants[document] = name
        return name, True


@dataclass(frozen=True)
class JsonSideCode:
    """Assignments for one side: ``<LABEL>_SCHEMA`` and referenced documents, the codec.

    ``documents`` are the referenced documents (paths under the schemas folder), for the
    module's list of sources.
    """

    schema_assign: str
    codec_assign: str
    documents: tuple[str, ...]


def json_side_code(
    label: str,
    type_name: str,
    schema_text: str,
    references: Sequence[JsonReference],
    topic_subjects: dict[str, str],
    documents: ModuleDocuments,
) -> JsonSideCode:
    """Code for a JSON Schema key (``label`` ``KEY``) or value (``VALUE``) of type ``type_name``."""
    assigns: list[str] = []
    used: list[str] = []
    expression = _tuple(references, topic_subjects, documents, assigns, used, "")
    assigns.append(f"{label}_SCHEMA: Final = {py_string(schema_text)}")
    args = [type_name, f"{label}_SCHEMA"]
    if references:
        assigns.append(
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
    return JsonSideCode("\n\n".join(assigns), codec, tuple(dict.fromkeys(used)))


def _tuple(
    references: Sequence[JsonReference],
    topic_subjects: dict[str, str],
    documents: ModuleDocuments,
    assigns: list[str],
    used: list[str],
    indent: str,
) -> str:
    inner = indent + "    "
    items = []
    for ref in references:
        constant, new = documents.constant(ref.document)
        used.append(ref.document)
        if new:
            assigns.append(f"{constant}: Final = {py_string(ref.schema_text)}")
        args = [
            py_string(ref.name),
            py_string(subject_of(ref, topic_subjects)),
            constant,
        ]
        if ref.references:
            args.append(
                _tuple(ref.references, topic_subjects, documents, assigns, used, inner + "    ")
            )
        body = "".join(f"{inner}    {arg},\n" for arg in args)
        items.append(f"{inner}SchemaRef(\n{body}{inner}),\n")
    return "(\n" + "".join(items) + f"{indent})"
