"""The docstring wrapper's shortcut for short texts wraps exactly as textwrap does."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from generator.source_text import _wrap


@given(st.text(alphabet="ab c\t\n\r\x0b\x0c-.\u00a0\u2003", max_size=40), st.integers(1, 30))
def test_wrap_is_textwraps(text: str, width: int) -> None:
    assert _wrap(text, width) == textwrap.wrap(text, width)
