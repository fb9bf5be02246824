"""Registry URLs given on the command line: checked before use, never shown with a secret."""

from __future__ import annotations

import argparse
import re
from urllib.parse import urlsplit

__all__ = ["checked_registry_url", "redacted", "registry_url_argument"]


def redacted(url: str) -> str:
    """``url`` with any ``user:password@`` replaced, so an error never shows a secret."""
    return re.sub(r"(//)[^/?#]*@", r"\1***@", url)


def checked_registry_url(url: str, option: str, error: type[Exception] = ValueError) -> str:
    """``url`` if it is a usable registry URL, else ``error`` saying why (no secret shown)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (parsing the port raises ValueError when it is not a number)
    except ValueError as exc:
        raise error(
            f"{option}: {redacted(url)} is not a valid registry URL: {exc}; "
            "expected http(s)://host[:port][/path]"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise error(
            f"{option}: {redacted(url)} is not a valid registry URL: it names no "
            f"{'host' if parts.scheme in ('http', 'https') else 'http(s) scheme'}; "
            "expected http(s)://host[:port][/path]"
        )
    return url


def registry_url_argument(url: str) -> str:
    """An argparse ``type=`` for ``--registry``: a bad URL is a usage error (exit 2)."""
    return checked_registry_url(url, "--registry", argparse.ArgumentTypeError)
