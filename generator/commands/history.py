"""Earlier versions of a subject (from files, git or a registry) and checking a schema
against them: what ``compat`` and ``push`` share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from gen_topics.registry import SchemaRegistryClient, SubjectNotFoundError
from gen_topics.registry.references import inline_avro_references
from generator.commands.avro_locations import finding_location
from generator.commands.report import Issue
from generator.commands.sources import SchemaEntry, SchemaSet, SourceError
from generator.compat import CompatibilityLevel, check_compatibility
from generator.compat.check import NEW
from generator.compat.findings import Finding, SchemaTextError
from generator.json_lines import line_of

__all__ = ["History", "check_entry", "history_from_registry", "history_from_set"]


@dataclass
class History:
    """Earlier versions of one subject: texts oldest first, labels, JSON context."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    documents: dict[str, Any] = field(default_factory=dict)


def history_from_set(
    entry: SchemaEntry, old: SchemaSet, revision: str | None = None, *, single: bool = False
) -> History | None:
    """``entry``'s subject in ``old`` (files, or files at git ``revision`` such as
    ``git:main``), or None when it is new. Labelled by file (and revision). ``single``:
    two single files are compared, so the old file's subject need not match."""
    previous = old.entries.get(entry.subject)
    if previous is None and single and len(old.entries) == 1:
        # Two single files: compare them whatever their subjects are called.
        previous = next(iter(old.entries.values()))
    if previous is None:
        return None
    return History(
        texts=[previous.text],
        labels=[f"{revision}:{previous.file}" if revision else previous.file],
        bases=[previous.base],
        documents=old.documents,
    )


async def history_from_registry(
    client: SchemaRegistryClient, entry: SchemaEntry, transitive: bool
) -> History | None:
    """The registered versions ``entry`` is checked against (every one when ``transitive``,
    else the latest), references resolved; None when the subject is not registered."""
    try:
        versions = await client.get_versions(entry.subject)
    except SubjectNotFoundError:
        return None
    history = History()
    for version in versions if transitive else versions[-1:]:
        registered = await client.get_version(entry.subject, version)
        text = registered.schema
        referenced = await client.get_references(registered.references)
        if registered.schema_type == "AVRO" and referenced:
            text = inline_avro_references(text, referenced)
        own = json.loads(text).get("$id") if registered.schema_type == "JSON" else None
        for name, ref_text in referenced.items():
            data = json.loads(ref_text)
            history.documents[name] = data
            if isinstance(own, str):
                history.documents[urljoin(own, name)] = data
        history.texts.append(text)
        history.labels.append(f"{entry.subject} v{version}")
        history.bases.append("")
    return history


def _json_path(path: str) -> str:
    parts = [p for p in path.lstrip("#").split("/") if p]
    return "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)


def _file_text(entry: SchemaEntry) -> str | None:
    """The text of ``entry``'s file when lines in it locate paths of ``entry``'s schema."""
    file = Path(entry.file)
    if file.exists() and file.suffix in (".avsc", ".json"):
        text = file.read_text(encoding="utf-8")
        if entry.schema_type == "JSON" or text == entry.text:
            return text
    return None


def _line(entry: SchemaEntry, text: str | None, path: str) -> int:
    return entry.line if text is None else line_of(text, _json_path(path))


def check_entry(
    entry: SchemaEntry, history: History, level: CompatibilityLevel, new: SchemaSet
) -> list[Issue]:
    """One error issue per incompatibility, naming the file and line of the new schema.

    Raises :class:`SourceError` naming the file and line (new schema) or the version
    (earlier schema) when a schema cannot be read.
    """
    try:
        report = check_compatibility(
            entry.schema_type,
            entry.text,
            history.texts,
            level,
            labels=history.labels,
            new_base=entry.base,
            new_documents=new.documents,
            history_bases=history.bases,
            history_documents=history.documents,
        )
    except SchemaTextError as exc:
        where = exc.path or ""
        if exc.source == NEW:
            line = _line(entry, _file_text(entry), where) if where else entry.line
            place = f"{entry.file}:{line}"
        else:
            place = f"{exc.source} (compared with {entry.file})"
        at = f" (at {where})" if where else ""
        raise SourceError(
            f"{place}: subject {entry.subject!r}: not a valid {entry.schema_type} schema: "
            f"{exc.problem}{at}"
        ) from None
    text = _file_text(entry) if report.findings else None  # read once for every finding
    files = dict(entry.named_files)
    issues = []
    for finding in report.findings:
        file, line = entry.file, _line(entry, text, finding.path)
        if entry.schema_type == "AVRO" and finding.record:
            if finding.record not in files and entry.file.endswith(".avsc"):
                files[finding.record] = entry.file
            located = finding_location(finding, files)
            if located is not None:
                file, line = located
        issues.append(
            Issue(
                severity="error",
                subject=entry.subject,
                message=f"{_describe(finding)} ({finding.direction} against {finding.version})",
                file=file,
                line=line,
                rule=finding.rule,
                path=finding.path,
            )
        )
    return issues


def _describe(finding: Finding) -> str:
    """The finding for the person who edits the schema: where (record, field) and what."""
    if finding.record is None:
        return finding.message
    where = (
        f"in record {finding.record}, field {finding.field}"
        if finding.field
        else f"in {finding.record}"
    )
    if finding.rule == "READER_FIELD_MISSING_DEFAULT_VALUE":
        what = (
            "new field without a default: data written before has no value for it"
            if finding.direction == "BACKWARD"
            else "removed, but the earlier schema has no default for it: readers on the earlier "
            "schema cannot read data written without it"
        )
        return f"{where}: {what}"
    return f"{where}: {finding.message}"
