"""The jinja2 environment and what every generated module shares: its header."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

import jinja2

from generator.source_text import header_lines


class _Environment(jinja2.Environment):
    """jinja2's environment, looking up ``x.name`` as a key first when ``x`` is a dict.

    The templates are given dicts; jinja2 tries an attribute first and a key after the
    AttributeError, an exception per use, hundreds of thousands of them at scale."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def environment() -> jinja2.Environment:
    return _Environment(
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
