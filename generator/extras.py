"""The optional dependencies the code generator needs, and the error when one is missing.

``pip install gen-topics`` installs the run-time only; the ``gen-topics`` command needs the
``codegen`` extra. Without it, the command says so in one line and exits 2 (invalid usage),
never with a traceback and never with 1, which means "stale files" to CI.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

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
            return EXIT_INVALID

    return wrapper
