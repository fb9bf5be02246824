"""GitHub Actions workflow commands (`::error file=...,line=...::message`), `--format github`.

GitHub shows each such line of a job's output as an annotation on the pull request, at the
file and line it names.
"""

from __future__ import annotations

__all__ = ["annotation", "escape", "first_difference"]


def escape(value: str, *, prop: bool = False) -> str:
    """``value`` escaped for a workflow command: its message, or (``prop``) a property value."""
    out = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        out = out.replace(":", "%3A").replace(",", "%2C")
    return out


def annotation(
    severity: str, message: str, *, file: str = "", line: int = 0, title: str = ""
) -> str:
    """One workflow command line (with its newline): ``severity`` is error, warning or notice."""
    props = []
    if file:
        props.append(f"file={escape(file, prop=True)}")
        if line:
            props.append(f"line={line}")
    if title:
        props.append(f"title={escape(title, prop=True)}")
    head = f"::{severity} {','.join(props)}" if props else f"::{severity}"
    return f"{head}::{escape(message)}\n"


def first_difference(old: str, new: str) -> int:
    """The 1-based line where ``old`` and ``new`` first differ (where a stale file's
    annotation points)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return number
    return min(len(old_lines), len(new_lines)) + 1
