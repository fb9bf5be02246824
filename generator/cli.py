"""The ``gen-topics`` command.

``gen-topics SCHEMAS [-o OUT] [--check] [--clean] [--format text|json|github]`` compiles a schemas
folder; ``gen-topics compat|pull|push ...`` runs the registry commands.
Exit status: 0 ok, 1 ``--check`` found stale, missing or extra files, 2 invalid input or usage.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from generator.errors import GeneratorError
from generator.extras import missing_codegen_message, reports_missing_codegen
from generator.freshness import input_key, up_to_date
from generator.github import annotation
from generator.input_files import InputFiles, preloaded
from generator.writer import Comparison, OutputError, compare, with_manifest, write

SUBCOMMANDS = ("compat", "pull", "push", "asyncapi", "plan", "apply")
EXIT_OK, EXIT_STALE, EXIT_INVALID = 0, 1, 2


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # for --version alone

    try:
        return version("gen-topics")
    except PackageNotFoundError:
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for: importlib.metadata is slow to import."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"gen-topics {_version()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-topics",
        description="Compile Avro schemas, JSON Schemas and topic descriptors (*.topic.yaml) "
        "into typed topic modules; AsyncAPI 3 documents (*.asyncapi.yaml) too. Other commands: "
        "gen-topics compat|pull|push|asyncapi|plan|apply --help.",
    )
    parser.add_argument("schemas", type=Path, help="the schemas folder")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("generated"),
        help="output package folder (default: ./generated)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a unified diff if files are stale, missing or extra",
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="also remove files gen-topics generated before and no longer generates",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="report format (github: workflow annotations on the files, for GitHub Actions)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="worker processes for large compiles (default: $GEN_TOPICS_JOBS, else one per "
        "CPU on Linux, one elsewhere); the output is the same for every N",
    )
    parser.add_argument("--version", action=_VersionAction)
    return parser


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


class _Reporter:
    def __init__(self, fmt: str, stderr: TextIO) -> None:
        self.fmt = fmt
        self.stderr = stderr
        self.tty = stderr.isatty()
        self.color = self.tty and not os.environ.get("NO_COLOR")
        self.started = time.monotonic()

    def progress(self, message: str) -> None:
        # Progress only helps someone watching a terminal; pipes and CI logs stay quiet.
        if self.tty and self.fmt == "text":
            print(
                f"gen-topics: {message} ({time.monotonic() - self.started:.1f}s)", file=self.stderr
            )

    def warning(self, message: str) -> None:
        if self.fmt == "github":
            sys.stdout.write(annotation("warning", message, title="gen-topics"))
        prefix = "\033[33mwarning\033[0m" if self.color else "warning"
        print(f"gen-topics: {prefix}: {message}", file=self.stderr)

    def error_prefix(self) -> str:
        return "\033[31merror\033[0m" if self.color else "error"

    def warning_prefix(self) -> str:
        return "\033[33mwarning\033[0m" if self.color else "warning"


@reports_missing_codegen
def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gen-topics`` console script; returns the exit status.

    Called without ``argv`` (as the console script), a compile ends the process itself
    once its output is flushed: tearing down the compiled model object by object at
    interpreter exit would cost close to a second at thousands of types.
    """
    if argv is not None:
        return _main(list(argv))
    _ENDS_PROCESS.append(True)
    status = _main(sys.argv[1:])
    if _COMPILED:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            _silence_stdout()
        os._exit(status)
    return status


#: Set once a compile ran in this process (see :func:`main`).
_COMPILED: list[bool] = []
#: Set when this run ends the process (the console script): what it compiled is then
#: kept here, never freed.
_ENDS_PROCESS: list[bool] = []
_RETAINED: list[object] = []


def _main(args_list: list[str]) -> int:
    if args_list and args_list[0] in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"generator.commands.{args_list[0]}")
        except ImportError as exc:
            message = missing_codegen_message(exc) or f"gen-topics: error: not available: {exc}"
            print(message.replace("gen-topics:", f"gen-topics {args_list[0]}:", 1), file=sys.stderr)
            return EXIT_INVALID
        status: int = module.main(args_list[1:])
        return status
    args = _parser().parse_args(args_list)
    reporter = _Reporter(args.format, sys.stderr)
    out: Path = args.output
    fresh = up_to_date(args.schemas, out)
    if fresh is not None:
        return _report_fresh(args, out, fresh)
    # Before compiling, and the compile reads the very bytes hashed here: the output always
    # matches its key, and an input edited meanwhile only costs a compile next time.
    sources: dict[str, bytes] = {}
    listings: dict[str, InputFiles] = {}
    inputs = input_key(args.schemas, store=sources, listings=listings)
    # The compiler builds millions of small objects that live until it is done: the cyclic
    # collector's passes over them cost about a sixth of a large compile and find nothing
    # to free.
    was_enabled = gc.isenabled()
    gc.disable()
    _COMPILED.append(True)
    try:
        with preloaded(sources, listings):
            return _compile_and_write(args, reporter, out, inputs)
    finally:
        if was_enabled:
            gc.enable()


def _compile_and_write(
    args: argparse.Namespace,
    reporter: _Reporter,
    out: Path,
    inputs: str | None,
) -> int:
    """Compile, then compare (``--check``) or write; the exit status."""
    # Imported here: an up-to-date folder needs none of the compiler's libraries.
    from generator.compiler import compile_folder

    warnings: list[str] = []
    try:
        files = compile_folder(
            args.schemas,
            reporter.progress,
            warn=warnings.append,
            jobs=args.jobs,
            retain=_RETAINED if _ENDS_PROCESS else None,
        )
    except GeneratorError as exc:
        return _report_errors(exc, reporter)
    for warning in warnings:
        reporter.warning(warning)
        inputs = None  # never "up to date": every run compiles again and warns again
    if args.check:
        expected = with_manifest(files, inputs=inputs)
        result = compare(out, expected)
        try:
            _print_check(args, out, result, expected, len(expected))
        except BrokenPipeError:
            # `gen-topics --check | head`: the reader left; the verdict still stands.
            _silence_stdout()
        return EXIT_OK if result.clean else EXIT_STALE
    try:
        written, removed, kept = write(out, files, clean=args.clean, inputs=inputs, jobs=args.jobs)
    except OutputError as exc:
        print(f"gen-topics: {reporter.error_prefix()}: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(
            f"gen-topics: {reporter.error_prefix()}: cannot write {out}: {exc}; "
            "the files of the previous run were kept",
            file=sys.stderr,
        )
        return EXIT_INVALID
    _report_written(args, reporter, out, written, removed, len(files) + 1, kept)
    return EXIT_OK


def _report_written(
    args: argparse.Namespace,
    reporter: _Reporter,
    out: Path,
    written: list[str],
    removed: list[str],
    count: int,
    kept: Sequence[str] = (),
) -> None:
    if args.format == "json":
        report = {
            "ok": True,
            "written": written,
            "removed": removed,
            "kept": list(kept),
            "errors": [],
        }
        print(json.dumps(report, indent=2))
        return
    if kept:
        # Always said, on a terminal or not: --check fails on these until they are removed.
        names = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        message = (
            f"{len(kept)} {'file' if len(kept) == 1 else 'files'} in {out} no longer generated "
            f"(a topic or type was renamed or removed) kept: {names}; remove them with "
            f"`gen-topics {args.schemas} -o {out} --clean` (--check reports them until then)"
        )
        if args.format == "github":
            print(f"::warning title=gen-topics::{message}")
        print(f"gen-topics: {reporter.warning_prefix()}: {message}", file=sys.stderr)
    if reporter.tty:
        print(
            f"gen-topics: wrote {len(written)} of {count} files to {out}"
            + (f", removed {len(removed)}" if removed else ""),
            file=sys.stderr,
        )


def _report_fresh(args: argparse.Namespace, out: Path, count: int) -> int:
    """Report a folder the manifest proves up to date: what a compile would have found."""
    if args.check:
        try:
            _print_check(args, out, Comparison(), {}, count)
        except BrokenPipeError:
            _silence_stdout()
    else:
        _report_written(args, _Reporter(args.format, sys.stderr), out, [], [], count)
    return EXIT_OK


def _report_errors(exc: GeneratorError, reporter: _Reporter) -> int:
    if reporter.fmt == "json":
        print(
            json.dumps(
                {
                    "ok": False,
                    "errors": [
                        {"file": p.file, "line": p.line, "message": p.message} for p in exc.problems
                    ],
                },
                indent=2,
            )
        )
    elif reporter.fmt == "github":
        for problem in exc.problems:
            sys.stdout.write(
                annotation(
                    "error",
                    problem.message,
                    file=problem.file,
                    line=problem.line,
                    title="gen-topics",
                )
            )
        count = len(exc.problems)
        print(f"gen-topics: {count} input error{'s' * (count != 1)}", file=sys.stderr)
    else:
        for problem in exc.problems:
            print(
                f"{problem.location or 'gen-topics'}: {reporter.error_prefix()}: {problem.message}",
                file=sys.stderr,
            )
    return EXIT_INVALID


def _print_check(
    args: argparse.Namespace,
    out: Path,
    result: Comparison,
    expected: dict[str, str],
    count: int,
) -> None:
    """Print the result of ``--check`` in the chosen format (``count`` files expected)."""
    rerun = f"gen-topics {args.schemas} -o {out}" + (" --clean" if result.extra else "")
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": result.clean,
                    "stale": result.stale,
                    "missing": result.missing,
                    "extra": result.extra,
                    "diff": result.diff,
                    "errors": [],
                },
                indent=2,
            )
        )
    elif result.clean:
        print(f"gen-topics: {out} is up to date ({count} files)", file=sys.stderr)
    elif args.format == "github":
        _annotate_check(out, result, expected, rerun)
        print(f"gen-topics: {out} is out of date; run: {rerun}", file=sys.stderr)
        sys.stdout.write(f"::group::gen-topics --check: diff\n{result.diff}::endgroup::\n")
    else:
        # The summary goes first so that it survives a reader that stops early (`| head`).
        for kind in ("stale", "missing", "extra"):
            for name in getattr(result, kind):
                print(f"gen-topics: {kind}: {out / name}", file=sys.stderr)
        print(f"gen-topics: {out} is out of date; run: {rerun}", file=sys.stderr)
        sys.stdout.write(result.diff)


def _annotate_check(out: Path, result: Comparison, expected: dict[str, str], rerun: str) -> None:
    """One annotation per stale, missing or extra file; a stale one at its first changed line."""
    title = "gen-topics --check"
    for name in result.stale:
        current = (out / name).read_text(encoding="utf-8")
        line = _first_difference(current, expected[name])
        message = f"{out / name} is stale (differs from line {line}); run: {rerun}"
        sys.stdout.write(annotation("error", message, file=str(out / name), line=line, title=title))
    for name in result.missing:
        message = f"{out / name} is missing; run: {rerun}"
        sys.stdout.write(annotation("error", message, title=title))
    for name in result.extra:
        message = f"{out / name} is no longer generated; run: {rerun}"
        sys.stdout.write(annotation("error", message, file=str(out / name), line=1, title=title))


def _first_difference(old: str, new: str) -> int:
    """The 1-based line where ``old`` and ``new`` first differ."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return number
    return min(len(old_lines), len(new_lines)) + 1


def _silence_stdout() -> None:
    # Python would report the closed pipe again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
