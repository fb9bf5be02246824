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
from pathlib import Path
from typing import Any

from gen_topics.registry import SchemaRegistryClient
from generator.commands.history import check_entry, history_from_registry, history_from_set
from generator.commands.registry_url import checked_registry_url
from generator.commands.report import FORMATS, INPUT_ERRORS, Issue, emit
from generator.commands.sources import (
    SchemaSet,
    SourceError,
    is_registry_url,
    load_git,
    load_path,
)
from generator.compat import parse_level

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


async def _run(args: argparse.Namespace) -> tuple[list[Issue], list[dict[str, Any]]]:
    new = load_path(args.new)
    forced = parse_level(args.level) if args.level else None
    issues: list[Issue] = []
    results: list[dict[str, Any]] = []
    old: SchemaSet | None = None
    client: SchemaRegistryClient | None = None
    revision: str | None = None
    # A file at a git revision is a single file too.
    single = args.new.is_file()
    if args.against.startswith("git:"):
        revision = args.against
        old = load_git(args.against[4:], args.new)
    elif is_registry_url(args.against):
        client = SchemaRegistryClient(checked_registry_url(args.against, "--against", SourceError))
    else:
        old = load_path(Path(args.against))
        single = single and Path(args.against).is_file()
    try:
        for entry in new.entries.values():
            level = forced or parse_level(entry.level or "BACKWARD")
            if client is not None:
                history = await history_from_registry(client, entry, level.transitive)
            else:
                assert old is not None
                history = history_from_set(entry, old, revision, single=single)
            if history is None:
                results.append({"subject": entry.subject, "level": level.value, "status": "new"})
                continue
            found = check_entry(entry, history, level, new)
            issues += found
            status = "incompatible" if found else "compatible"
            results.append({"subject": entry.subject, "level": level.value, "status": status})
    finally:
        if client is not None:
            await client.close()
    return issues, results


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
