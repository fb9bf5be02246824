"""``gen-topics asyncapi SCHEMAS``: write the topics as one AsyncAPI 3.0 document.

YAML, or JSON when the output file ends in ``.json``; deterministic, so ``--check`` can
fail CI when the committed document is stale. Exit status: 0 written (or up to date),
1 ``--check`` found the file stale or missing, 2 invalid input or usage.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path

from generator.asyncapi.export import Server, dump_document, export_document
from generator.compiler import build_model
from generator.errors import GeneratorError
from generator.github import annotation, first_difference

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-topics asyncapi",
        description="Write the topics of a schemas folder as one AsyncAPI 3.0 document: a "
        "channel per topic with Kafka bindings, a message per value type, Avro and JSON "
        "Schema payloads, the key schema in the message binding.",
    )
    parser.add_argument("schemas", type=Path, help="the schemas folder")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="the document to write (.yaml/.yml: YAML, .json: JSON); default: YAML on stdout",
    )
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a Kafka cluster to name in the document, e.g. prod=kafka://broker:9092 "
        "(kafka-secure:// for TLS); repeatable",
    )
    parser.add_argument(
        "--registry",
        metavar="URL",
        help="the schema registry (Confluent-compatible API) the schemas are registered in: "
        "the bindings then describe the wire format (schema id in the payload); needs --server",
    )
    parser.add_argument("--title", default="Kafka topics", help="info.title (default: %(default)s)")
    parser.add_argument(
        "--version", dest="doc_version", default="1.0.0", help="info.version (default: %(default)s)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a unified diff if the output file is stale or missing",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="report format (github: workflow annotations on the files, for GitHub Actions)",
    )
    return parser


def _error(fmt: str, file: str, line: int, message: str) -> None:
    if fmt == "json":
        print(
            json.dumps({"ok": False, "errors": [{"file": file, "line": line, "message": message}]})
        )
    elif fmt == "github":
        sys.stdout.write(
            annotation("error", message, file=file, line=line, title="gen-topics asyncapi")
        )
    else:
        prefix = (
            "error"
            if os.environ.get("NO_COLOR") or not sys.stderr.isatty()
            else ("\033[31merror\033[0m")
        )
        where = f"{file}:{line}" if file and line else (file or "gen-topics asyncapi")
        print(f"{where}: {prefix}: {message}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """Run ``gen-topics asyncapi``; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.check and args.output is None:
        parser.error("--check needs -o FILE (the committed document to compare)")
    try:
        servers = [Server.parse(text) for text in args.server]
    except ValueError as exc:
        parser.error(str(exc))
    if args.registry is not None and not servers:
        parser.error("--registry needs --server: AsyncAPI describes the registry on a server")
    try:
        model = build_model(args.schemas)
    except GeneratorError as exc:
        for problem in exc.problems:
            _error(args.format, problem.file, problem.line, problem.message)
        return 2
    document = export_document(
        model,
        title=args.title,
        version=args.doc_version,
        servers=servers,
        registry_url=args.registry,
    )
    out: Path | None = args.output
    text = dump_document(document, as_json=out is not None and out.suffix == ".json")
    if out is None:
        sys.stdout.write(text)
        return 0
    current = out.read_text(encoding="utf-8") if out.is_file() else None
    if args.check:
        fresh = current == text
        if args.format == "json":
            print(json.dumps({"ok": fresh, "stale": [] if fresh else [str(out)], "errors": []}))
        elif fresh:
            print(f"gen-topics asyncapi: {out} is up to date", file=sys.stderr)
        else:
            state = "missing" if current is None else "stale"
            if args.format == "github":
                line = first_difference(current or "", text)
                sys.stdout.write(
                    annotation(
                        "error",
                        f"{out} is {state}; run: gen-topics asyncapi {args.schemas} -o {out}",
                        file=str(out) if current is not None else "",
                        line=line,
                        title="gen-topics asyncapi --check",
                    )
                )
            print(
                f"gen-topics asyncapi: {state}: {out}; run: gen-topics asyncapi {args.schemas} "
                f"-o {out}",
                file=sys.stderr,
            )
            sys.stdout.writelines(
                difflib.unified_diff(
                    (current or "").splitlines(True), text.splitlines(True), f"a/{out}", f"b/{out}"
                )
            )
        return 0 if fresh else 1
    if current != text:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            staging = out.with_name(f".{out.name}.tmp")
            staging.write_text(text, encoding="utf-8", newline="\n")
            os.replace(staging, out)  # all or nothing: a failed run leaves the old file
        except OSError as exc:
            _error(args.format, str(out), 1, f"cannot write the document: {exc}")
            return 2
    if args.format == "json":
        print(
            json.dumps({"ok": True, "written": [str(out)] if current != text else [], "errors": []})
        )
    elif sys.stderr.isatty():
        verb = "wrote" if current != text else "unchanged:"
        print(f"gen-topics asyncapi: {verb} {out} ({len(model.topics)} topics)", file=sys.stderr)
    return 0
