"""``gen-topics compat NEW --against OLD``: fail CI on an incompatible schema change.

NEW is a schemas folder or a schema file. OLD is the same kind of path, a git
revision (``git:main``: NEW's path as it is at that revision) or a registry URL
(each subject's registered versions). The level is ``--level``, else the topic
descriptor's ``compatibility``, else BACKWARD. Exit status: 0 compatible,
1 incompatible, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from generator.commands.report import FORMATS, Issue, emit
from generator.commands.sources import (
    SchemaEntry,
    SchemaSet,
    SourceError,
    is_registry_url,
    load_git,
    load_path,
)
from generator.compat import (
    CompatibilityLevel,
    InvalidLevelError,
    UnsupportedSchemaType,
    check_compatibility,
    parse_level,
)
from generator.compat.avro_schema import AvroSchemaError
from generator.compat.jsonschema_model import JsonSchemaError
from generator.json_lines import line_of
from runtime.registry import SchemaRegistryClient, SchemaRegistryError, SubjectNotFoundError
from runtime.registry.references import inline_avro_references

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-topics compat",
        description="Check schemas for breaking changes against git, files or a registry.",
    )
    parser.add_argument("new", type=Path, help="schemas folder or schema file (the new version)")
    parser.add_argument(
        "--against",
        required=True,
        help="old version: a path, git:REV (e.g. git:main) or a registry URL",
    )
    parser.add_argument("--level", help="NONE, BACKWARD (default), FORWARD, FULL, *_TRANSITIVE")
    parser.add_argument("--format", choices=FORMATS, default="text")
    return parser


class _History:
    """Earlier versions of one subject: texts oldest first, labels, JSON context."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.labels: list[str] = []
        self.bases: list[str] = []
        self.documents: dict[str, Any] = {}


def _from_set(entry: SchemaEntry, old: SchemaSet, label: str) -> _History | None:
    previous = old.entries.get(entry.subject)
    if previous is None and len(old.entries) == 1 and old.root is not None:
        # Two single files: compare them whatever their subjects are called.
        previous = next(iter(old.entries.values()))
    if previous is None:
        return None
    history = _History()
    history.texts.append(previous.text)
    history.labels.append(f"{label}:{previous.file}")
    history.bases.append(previous.base)
    history.documents = old.documents
    return history


async def _from_registry(
    client: SchemaRegistryClient, entry: SchemaEntry, transitive: bool
) -> _History | None:
    try:
        versions = await client.get_versions(entry.subject)
    except SubjectNotFoundError:
        return None
    history = _History()
    for version in versions if transitive else versions[-1:]:
        registered = await client.get_version(entry.subject, version)
        text = registered.schema
        referenced: dict[str, str] = {}
        pending = list(registered.references)
        while pending:
            ref = pending.pop()
            if ref.name in referenced:
                continue
            target = await client.get_version(ref.subject, ref.version)
            referenced[ref.name] = target.schema
            pending.extend(target.references)
        if registered.schema_type == "AVRO" and referenced:
            text = inline_avro_references(text, referenced)
        for name, ref_text in referenced.items():
            data = json.loads(ref_text)
            history.documents[name] = data
            own = json.loads(text).get("$id") if registered.schema_type == "JSON" else None
            if isinstance(own, str):
                history.documents[urljoin(own, name)] = data
        history.texts.append(text)
        history.labels.append(f"{entry.subject} v{version}")
        history.bases.append("")
    return history


_AVRO_PART = re.compile(r"/([^/]+)")


def _json_path(path: str) -> str:
    parts = [p for p in path.lstrip("#").split("/") if p]
    return "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)


def _line(entry: SchemaEntry, path: str) -> int:
    file = Path(entry.file)
    if file.exists() and file.suffix in (".avsc", ".json"):
        text = file.read_text(encoding="utf-8")
        if entry.schema_type == "JSON" or text == entry.text:
            return line_of(text, _json_path(path))
    return entry.line


def _check_entry(
    entry: SchemaEntry, history: _History, level: CompatibilityLevel, new: SchemaSet
) -> list[Issue]:
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
    return [
        Issue(
            severity="error",
            subject=entry.subject,
            message=f"{finding.message} ({finding.direction} against {finding.version})",
            file=entry.file,
            line=_line(entry, finding.path),
            rule=finding.rule,
            path=finding.path,
        )
        for finding in report.findings
    ]


async def _run(args: argparse.Namespace) -> tuple[list[Issue], list[dict[str, Any]]]:
    new = load_path(args.new)
    forced = parse_level(args.level) if args.level else None
    issues: list[Issue] = []
    results: list[dict[str, Any]] = []
    old: SchemaSet | None = None
    client: SchemaRegistryClient | None = None
    if args.against.startswith("git:"):
        old = load_git(args.against[4:], args.new)
    elif is_registry_url(args.against):
        client = SchemaRegistryClient(args.against)
    else:
        old = load_path(Path(args.against))
    try:
        for entry in new.entries.values():
            level = forced or parse_level(entry.level or "BACKWARD")
            if client is not None:
                history = await _from_registry(client, entry, level.transitive)
            else:
                assert old is not None
                history = _from_set(entry, old, args.against)
            if history is None:
                results.append({"subject": entry.subject, "level": level.value, "status": "new"})
                continue
            found = _check_entry(entry, history, level, new)
            issues += found
            status = "incompatible" if found else "compatible"
            results.append({"subject": entry.subject, "level": level.value, "status": status})
    finally:
        if client is not None:
            await client.close()
    return issues, results


#: What `compat` and `push` report as bad input (exit 2) rather than as a crash.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    SourceError,
    InvalidLevelError,
    AvroSchemaError,
    JsonSchemaError,
    UnsupportedSchemaType,
    SchemaRegistryError,
)


def main(argv: list[str]) -> int:
    """Run ``gen-topics compat``; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        issues, results = asyncio.run(_run(args))
    except INPUT_ERRORS as exc:
        emit("compat", [Issue("error", "-", str(exc))], "compat: bad input", args.format, ok=False)
        return 2
    bad = sorted({i.subject for i in issues})
    checked = sum(1 for r in results if r["status"] != "new")
    fresh = sum(1 for r in results if r["status"] == "new")
    summary = (
        f"compat: {len(bad)} of {checked} subjects incompatible ({', '.join(bad)})"
        if bad
        else f"compat: {checked} subjects compatible, {fresh} new"
    )
    emit("compat", issues, summary, args.format, ok=not bad, extra={"results": results})
    return 1 if bad else 0
