"""``gen-topics pull --registry URL [--subject S ...] -o schemas/``: fetch registered schemas.

Writes each subject's latest version, and every schema it references, as files
``gen-topics`` compiles: Avro as ``avro/<full name>.avsc`` (named types resolve
across files), JSON Schema as ``json/<subject>.json`` (a referenced document is
written where the ``$ref`` that names it points). When subjects follow the topic
strategy (``<topic>-key`` / ``<topic>-value``), ``pulled.topic.yaml`` declares those
topics too, so the pulled folder compiles to topic classes as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import posixpath
import re
from pathlib import Path
from typing import Any

from gen_topics.registry import RegisteredSchema, SchemaRegistryClient, SchemaRegistryError
from gen_topics.registry.avro_names import PRIMITIVES, root_full_name
from generator.commands.registry_url import registry_url_argument
from generator.commands.report import FORMATS, Issue, emit

__all__ = ["main"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-topics pull", description="Fetch the latest schemas from a schema registry."
    )
    parser.add_argument(
        "--registry", required=True, type=registry_url_argument, help="registry base URL"
    )
    parser.add_argument(
        "--subject", action="append", default=[], help="subject to pull (repeat; default: all)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write into")
    parser.add_argument("--format", choices=FORMATS, default="text")
    return parser


def _avro_name(text: str, fallback: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return fallback
    return root_full_name(data) or fallback


def _avro_branch(schema: Any) -> str | None:
    """How a descriptor names one Avro type: a primitive or a named type's full name."""
    if isinstance(schema, str):
        return schema
    if isinstance(schema, dict):
        if schema.get("type") in PRIMITIVES:
            # A logical type rides on its primitive; the descriptor names the primitive.
            return str(schema["type"])
        return root_full_name(schema)
    return None


def _avro_descriptor_type(text: str) -> str | list[str] | None:
    """The descriptor's ``key``/``value`` for an Avro schema: a name, a list of them for a
    union, or None when the root is a type a descriptor cannot name (array, map)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, list):
        named = [b for b in map(_avro_branch, data) if b is not None]
        return named if len(named) == len(data) else None
    return _avro_branch(data)


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._") or "schema"


class _Writer:
    def __init__(self, client: SchemaRegistryClient, out: Path) -> None:
        self.client = client
        self.out = out
        self.written: dict[tuple[str, int], str] = {}  # (subject, version) -> relative path
        self.issues: list[Issue] = []

    def write(self, rel: str, text: str) -> None:
        """Write ``text`` to ``rel`` under the output folder, refusing paths outside it."""
        target = (self.out / rel).resolve()
        if self.out.resolve() not in target.parents:
            raise SchemaRegistryError(f"refusing to write {rel!r} outside {self.out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")

    async def pull(self, found: RegisteredSchema, rel_hint: str | None = None) -> str:
        key = (found.subject or "", found.version or 0)
        if key in self.written:
            return self.written[key]
        subject = found.subject or f"id-{found.schema_id}"
        if found.schema_type == "AVRO":
            rel = f"avro/{_safe(_avro_name(found.schema, subject))}.avsc"
        elif found.schema_type == "JSON":
            name = _safe(subject)
            rel = rel_hint or f"json/{name if name.endswith('.json') else name + '.json'}"
        else:
            self.issues.append(
                Issue("warning", subject, f"skipped: {found.schema_type} schemas are not compiled")
            )
            return ""
        self.written[key] = rel
        for ref in found.references:
            target = await self.client.get_version(ref.subject, ref.version)
            hint = None
            if found.schema_type == "JSON" and "://" not in ref.name:
                # A relative $ref must still resolve from where this file is written.
                hint = posixpath.normpath(posixpath.join(posixpath.dirname(rel), ref.name))
                if hint.startswith(".."):
                    hint = None
            await self.pull(target, hint)
        self.write(rel, found.schema)
        self.issues.append(
            Issue("notice", subject, f"version {found.version} (id {found.schema_id})", rel, 1)
        )
        return rel


def _descriptor(pulled: dict[str, tuple[RegisteredSchema, str]], issues: list[Issue]) -> str | None:
    """The topics of the topic-strategy subjects; one warning per subject left out."""
    topics: dict[str, dict[str, str | list[str] | None]] = {}
    for subject, (found, rel) in pulled.items():
        for suffix, role in (("-value", "value"), ("-key", "key")):
            if subject.endswith(suffix) and rel:
                topic = subject[: -len(suffix)]
                typed = _avro_descriptor_type(found.schema) if found.schema_type == "AVRO" else rel
                if typed is None:
                    issues.append(
                        Issue(
                            "warning",
                            subject,
                            f"version {found.version}: no descriptor entry for topic {topic!r}: "
                            "its root schema is neither a primitive, a named type nor a union "
                            "of them; write its descriptor by hand",
                            rel,
                            1,
                        )
                    )
                if isinstance(typed, list) and "null" in typed:
                    # A null value is a tombstone (a null Kafka record), never an Avro null.
                    typed = [t for t in typed if t != "null"]
                    typed = typed[0] if len(typed) == 1 else typed
                    issues.append(
                        Issue(
                            "notice",
                            subject,
                            f"version {found.version}: the union's null branch is left out of "
                            f"topic {topic!r}'s {role}: a null {role} is sent as a tombstone",
                            rel,
                            1,
                        )
                    )
                topics.setdefault(topic, {})[role] = typed
    topics = {
        t: roles
        for t, roles in topics.items()
        if "value" in roles and all(v is not None for v in roles.values())
    }
    if not topics:
        return None
    lines = [
        "# Generated by gen-topics pull from the registry's topic-strategy subjects.",
        "topics:",
    ]
    for topic in sorted(topics):
        lines.append(f"  {json.dumps(topic)}:")
        for role in ("key", "value"):
            if role in topics[topic]:
                lines.append(f"    {role}: {json.dumps(topics[topic][role])}")
    return "\n".join(lines) + "\n"


async def _run(args: argparse.Namespace) -> tuple[list[Issue], dict[str, Any]]:
    async with SchemaRegistryClient(args.registry) as client:
        subjects = args.subject or await client.get_subjects()
        writer = _Writer(client, args.output)
        pulled: dict[str, tuple[RegisteredSchema, str]] = {}
        for subject in subjects:
            latest = await client.get_latest(subject)
            pulled[subject] = (latest, await writer.pull(latest))
        descriptor = _descriptor(pulled, writer.issues)
        if descriptor is not None:
            writer.write("pulled.topic.yaml", descriptor)
        files = sorted(set(writer.written.values()) - {""})
        return writer.issues, {"files": files, "descriptor": descriptor is not None}


def main(argv: list[str]) -> int:
    """Run ``gen-topics pull``; return the exit status (0 ok, 2 registry or input error)."""
    args = _parser().parse_args(argv)
    try:
        issues, extra = asyncio.run(_run(args))
    except (SchemaRegistryError, OSError) as exc:
        emit("pull", [Issue("error", "-", str(exc))], "pull: failed", args.format, ok=False)
        return 2
    summary = f"pull: wrote {len(extra['files'])} schema files to {args.output}"
    if extra["descriptor"]:
        summary += " and pulled.topic.yaml"
    emit("pull", issues, summary, args.format, ok=True, extra=extra)
    return 0
