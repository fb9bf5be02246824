"""``gen-topics push SCHEMAS --registry URL``: register every topic's key and value schema.

Each schema goes under its subject (the descriptor's subject name strategy);
schemas referenced by others (JSON Schema files named by ``$ref``) are registered
first and passed as references. Before anything is registered, every schema is
checked against the subject's registered versions, locally (at the descriptor's
level, else the subject's level in the registry) and by the registry itself; one
incompatible schema stops the push. Every subject whose descriptor sets a
``compatibility`` level gets that level in the registry, whether its schema changed or
not: a subject left at the registry's default (Apicurio: NONE) would let a producer
with auto-registration register an incompatible version unchecked. ``--dry-run``
checks and reports only, level drift included.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from gen_topics.registry import (
    SchemaNotFoundError,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
    SubjectNotFoundError,
)
from generator.commands.history import check_entry, history_from_registry
from generator.commands.registry_url import registry_url_argument
from generator.commands.report import FORMATS, INPUT_ERRORS, Issue, emit
from generator.commands.sources import SchemaEntry, SchemaSet, SourceError, load_path
from generator.compat import parse_level

__all__ = ["main", "push_order"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-topics push",
        description="Register every topic's key and value schema with a schema registry.",
    )
    parser.add_argument("schemas", type=Path, help="the schemas folder (or one schema file)")
    parser.add_argument(
        "--registry", required=True, type=registry_url_argument, help="registry base URL"
    )
    parser.add_argument("--dry-run", action="store_true", help="check only, register nothing")
    parser.add_argument("--format", choices=FORMATS, default="text")
    return parser


def push_order(schemas: SchemaSet) -> list[SchemaEntry]:
    """Entries with every referenced subject before the subjects that reference it."""
    ordered: list[SchemaEntry] = []
    state: dict[str, str] = {}

    def visit(subject: str, chain: tuple[str, ...]) -> None:
        if state.get(subject) == "done":
            return
        if state.get(subject) == "active":
            raise SourceError(f"schema references form a cycle: {' -> '.join((*chain, subject))}")
        state[subject] = "active"
        entry = schemas.entries[subject]
        for _, target in entry.references:
            if target in schemas.entries:
                visit(target, (*chain, subject))
        state[subject] = "done"
        ordered.append(entry)

    for subject in sorted(schemas.entries):
        visit(subject, ())
    return ordered


async def _registry_level(client: SchemaRegistryClient, subject: str) -> str:
    """The level the registry applies to ``subject``: its own, else the global one."""
    try:
        return (await client.get_config(subject)).upper()
    except SchemaRegistryError:
        return (await client.get_config()).upper()


async def _level(client: SchemaRegistryClient, entry: SchemaEntry) -> str:
    if entry.level:
        return entry.level
    return await _registry_level(client, entry.subject)


def _level_issue(entry: SchemaEntry, severity: str, message: str) -> Issue:
    """An issue about ``entry``'s level, at the descriptor's ``compatibility:`` line."""
    file, line = (entry.level_file, entry.level_line) if entry.level_file else (entry.file, 0)
    return Issue(severity, entry.subject, message, file, line or entry.line, "LEVEL_DRIFT")


async def _sync_level(
    client: SchemaRegistryClient, entry: SchemaEntry, *, dry_run: bool
) -> Issue | None:
    """Give ``entry``'s subject the descriptor's level (``dry_run``: only compare)."""
    if not entry.level:
        return None
    wanted = parse_level(entry.level).value
    current = await _registry_level(client, entry.subject)
    if dry_run:
        if current == wanted:
            return None
        return _level_issue(
            entry,
            "warning",
            f"compatibility level drift: the registry applies {current}, the descriptor says "
            f"{wanted}; push sets {wanted}",
        )
    # Set even when the registry already applies it: a level inherited from the global
    # setting changes with it; a subject's own level does not.
    await client.set_config(wanted, entry.subject)
    if current == wanted:
        return None
    return _level_issue(entry, "notice", f"compatibility level set to {wanted} (was {current})")


async def _check(
    client: SchemaRegistryClient, entry: SchemaEntry, schemas: SchemaSet
) -> list[Issue]:
    level = parse_level(await _level(client, entry))
    history = await history_from_registry(client, entry, level.transitive)
    if history is None:
        return []
    issues = check_entry(entry, history, level, schemas)
    if not issues and not entry.references:
        # The registry has the last word (it may apply rules we do not know).
        try:
            verdict = await client.test_compatibility(entry.subject, entry.text, entry.schema_type)
        except SchemaRegistryError as exc:
            # Apicurio answers 500 for some JSON Schema drafts; the local check stands.
            return [
                Issue(
                    "warning",
                    entry.subject,
                    f"the registry could not run its own compatibility check: {exc}",
                    entry.file,
                    entry.line,
                )
            ]
        if not verdict.is_compatible and level.value != "NONE":
            reasons = "; ".join(verdict.messages) or "no reason given"
            issues.append(
                Issue(
                    "error",
                    entry.subject,
                    f"the registry rejects this schema at level {level.value}: {reasons}",
                    entry.file,
                    entry.line,
                    "REGISTRY_INCOMPATIBLE",
                )
            )
    return issues


async def _register(
    client: SchemaRegistryClient, entry: SchemaEntry, versions: dict[str, int]
) -> tuple[int, int, bool]:
    refs = [SchemaReference(name, target, versions[target]) for name, target in entry.references]
    try:
        found = await client.lookup(entry.subject, entry.text, entry.schema_type, refs)
        if found.version is not None:
            return found.schema_id, found.version, False
    except (SchemaNotFoundError, SubjectNotFoundError):
        pass
    schema_id = await client.register(entry.subject, entry.text, entry.schema_type, refs)
    found = await client.lookup(entry.subject, entry.text, entry.schema_type, refs)
    return schema_id, found.version or 0, True


async def _run(args: argparse.Namespace) -> tuple[list[Issue], list[dict[str, Any]], bool]:
    schemas = load_path(args.schemas)
    ordered = push_order(schemas)
    issues: list[Issue] = []
    results: list[dict[str, Any]] = []
    async with SchemaRegistryClient(args.registry) as client:
        for entry in ordered:
            issues += await _check(client, entry, schemas)
        if any(issue.severity == "error" for issue in issues):
            return issues, results, False
        versions: dict[str, int] = {}
        for entry in ordered:
            # Before registering: the registry then checks the new version at this level too.
            level_issue = await _sync_level(client, entry, dry_run=args.dry_run)
            if level_issue is not None:
                issues.append(level_issue)
            if args.dry_run:
                results.append({"subject": entry.subject, "status": "checked"})
                issues.append(
                    Issue(
                        "notice",
                        entry.subject,
                        "compatible; would register",
                        entry.file,
                        entry.line,
                    )
                )
                # Referencing entries need a version number even in a dry run.
                versions[entry.subject] = 1
                continue
            schema_id, version, created = await _register(client, entry, versions)
            versions[entry.subject] = version
            status = "registered" if created else "unchanged"
            results.append(
                {"subject": entry.subject, "status": status, "id": schema_id, "version": version}
            )
            issues.append(
                Issue(
                    "notice",
                    entry.subject,
                    f"{status}: id {schema_id}, version {version}",
                    entry.file,
                    entry.line,
                )
            )
    return issues, results, True


def main(argv: list[str]) -> int:
    """Run ``gen-topics push``; return the exit status (0 ok, 1 incompatible, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        issues, results, ok = asyncio.run(_run(args))
    except INPUT_ERRORS as exc:
        emit("push", [Issue("error", "-", str(exc))], "push: failed", args.format, ok=False)
        return 2
    if not ok:
        bad = sorted({i.subject for i in issues if i.severity == "error"})
        emit(
            "push",
            issues,
            f"push: nothing registered; incompatible: {', '.join(bad)}",
            args.format,
            ok=False,
        )
        return 1
    verb = "checked" if args.dry_run else "pushed"
    drifted = sum(1 for issue in issues if issue.rule == "LEVEL_DRIFT")
    levels = ""
    if drifted:
        levels = f", {drifted} with level drift" if args.dry_run else f", {drifted} levels set"
    emit(
        "push",
        issues,
        f"push: {verb} {len(results)} subjects{levels}",
        args.format,
        ok=True,
        extra={"results": results},
    )
    return 0
