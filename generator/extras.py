"""The optional dependencies the code generator needs, and the error when one is missing.

``pip install gen-topics`` installs the run-time only; the ``gen-topics`` command needs the
``codegen`` extra. Without it, the command says so in one line and exits 2 (invalid usage),
never with a traceback and never with 1, which means "stale files" to CI.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable

from generator.github import annotation  # the standard library only

#: Top-level modules of the ``codegen`` extra (pyproject.toml) and what installs them.
CODEGEN_MODULES = {
    "yaml": "PyYAML",
    "jinja2": "jinja2",
    "datamodel_code_generator": "datamodel-code-generator",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "jsonschema": "jsonschema",
}
INSTALL_CODEGEN = "pip install 'gen-topics[codegen]'"
EXIT_INVALID = 2


def missing_codegen_message(exc: ImportError) -> str | None:
    """The one-line message for ``exc`` when it is a missing ``codegen`` module, else None."""
    name = (exc.name or "").split(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or name not in CODEGEN_MODULES:
        return None
    return (
        f"gen-topics: error: the code generator needs the Python module {name!r} "
        f"({CODEGEN_MODULES[name]}), which is not installed; install it with: {INSTALL_CODEGEN}"
    )


def reports_missing_codegen(main: Callable[[list[str] | None], int]) -> Callable[..., int]:
    """Wrap a command's ``main``: a missing ``codegen`` module becomes one line and exit 2."""

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except ModuleNotFoundError as exc:
            message = missing_codegen_message(exc)
            if message is None:
                raise
            print(message, file=sys.stderr)
            _machine_readable(message, sys.argv[1:] if argv is None else list(argv))
            return EXIT_INVALID

    return wrapper


def _machine_readable(message: str, argv: list[str]) -> None:
    """The error also in the format CI asked for on stdout (``--format json|github``): a
    job that parses the output gets a verdict, not empty input. argparse never ran (its
    options may be what failed to import), so the option is looked for by hand."""
    fmt = None
    for i, arg in enumerate(argv):
        if arg == "--format" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif arg.startswith("--format="):
            fmt = arg.partition("=")[2]
    text = message.removeprefix("gen-topics: error: ")
    if fmt == "json":
        error = {"file": "", "line": 0, "message": text}
        print(json.dumps({"ok": False, "errors": [error]}, indent=2))
    elif fmt == "github":
        sys.stdout.write(annotation("error", text, title="gen-topics"))
