"""Generated Python exactly as ``ruff format`` writes it, paying for ruff only where needed.

The templates and the expression builders write ruff's style directly (double quotes, no
redundant parentheses, lines within the limit). Only a module with a line over the limit
(a long annotation, a long expression) goes through ``ruff format``, all such modules in one
run. ruff is a dependency of the ``codegen`` extra, pinned to one minor version, so that the
output is the same on every machine; it runs with ``--isolated``, so a user's own ruff
configuration never changes generated code. A line that even ruff cannot shorten (a long
name) gets the file-level E501 waiver.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Set
from pathlib import Path

from gen_topics.errors import GenTopicsError

__all__ = ["LINE_LENGTH", "FormatterError", "fits", "formatted"]

LINE_LENGTH = 100
_MYPY_LINE = '# mypy: disable-error-code="no-any-return"\n'
_WAIVER = "# ruff: noqa: E501\n"


class FormatterError(GenTopicsError):
    """ruff could not be run on the generated code, or rejected it (a gen-topics bug)."""


def formatted(files: dict[str, str], *, fitting: Set[str] = frozenset()) -> dict[str, str]:
    """``files`` with every Python module formatted (see the module docstring).

    ``fitting`` names modules already known to :func:`fits` (checked where they were made).
    """
    long = {
        name: text
        for name, text in files.items()
        if name.endswith(".py") and name not in fitting and not fits(text)
    }
    if not long:
        return files
    done = {**files, **_ruff_format(long)}
    return {name: _waive_long_lines(text) if name in long else text for name, text in done.items()}


def fits(text: str) -> bool:
    """Whether no line of ``text`` is longer than :data:`LINE_LENGTH`."""
    return max(map(len, text.splitlines()), default=0) <= LINE_LENGTH


def _waive_long_lines(source: str) -> str:
    # Only modules with gen-topics' header get the waiver, placed under it.
    if fits(source) or _MYPY_LINE not in source:
        return source
    head, _, rest = source.partition(_MYPY_LINE)
    return f"{head}{_MYPY_LINE}{_WAIVER}{rest}"


def _ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError as exc:
        raise FormatterError(
            "gen-topics formats generated code with ruff, which is not installed here: "
            "install the code generator with its dependencies (pip install 'gen-topics[codegen]')"
        ) from exc
    try:
        return str(find_ruff_bin())
    except FileNotFoundError as exc:
        raise FormatterError(
            f"the ruff package is installed but its program was not found ({exc}): "
            "reinstall it (pip install --force-reinstall ruff)"
        ) from exc


def _ruff_format(sources: dict[str, str]) -> dict[str, str]:
    command = [
        _ruff_binary(),
        "format",
        "--isolated",
        "--no-cache",
        "--quiet",
        f"--line-length={LINE_LENGTH}",
        "--target-version=py311",
    ]
    with tempfile.TemporaryDirectory(prefix="gen-topics-format-") as tmp:
        root = Path(tmp)
        for name, text in sources.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [*command, "."], cwd=root, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise FormatterError(
                f"ruff format failed on the generated code (exit {done.returncode}); this is a "
                f"gen-topics bug, please report it with the schemas: {done.stderr.strip()}"
            )
        return {name: (root / name).read_text(encoding="utf-8") for name in sources}
