"""The jinja2 environment and what every generated module shares: header, line-length waiver."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import jinja2

from generator.source_text import header_lines


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load_template),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )


_REPO_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def load_template(name: str) -> str:
    # An installed wheel ships the templates inside the generator package (setup.py maps
    # templates/ to generator/templates); a source checkout, and an editable install, has
    # them in templates/ next to generator/. The packaged copy is looked at first: beside an
    # installed generator/ is site-packages, whose templates/ would be someone else's.
    packaged = importlib.resources.files("generator").joinpath("templates", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (_REPO_TEMPLATES / name).read_text(encoding="utf-8")


def module_header(sources: list[str]) -> list[str]:
    return [
        *header_lines(sources),
        'mypy: disable-error-code="no-any-return"',
    ]


def allow_long_lines(source: str) -> str:
    """Add a file-level E501 waiver only where a generated line (a long annotation or
    name) cannot be wrapped."""
    if max(map(len, source.splitlines()), default=0) <= 100:
        return source
    return long_lines_waiver(source)


def long_lines_waiver(source: str) -> str:
    """``source`` with the file-level E501 waiver after its mypy line."""
    head, _, rest = source.partition('# mypy: disable-error-code="no-any-return"\n')
    return f'{head}# mypy: disable-error-code="no-any-return"\n# ruff: noqa: E501\n{rest}'
