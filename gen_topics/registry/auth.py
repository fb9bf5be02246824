"""Registry credentials: basic auth or a bearer token, never shown in reprs or logs."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["RegistryAuth", "split_credentials"]


@dataclass(frozen=True)
class RegistryAuth:
    """Basic auth (``username`` + ``password``) or a bearer ``token``.

    The secret fields are excluded from ``repr`` so a logged client, exception or
    config dump cannot leak them.
    """

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header for this auth (empty when there is none)."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.username is not None:
            raw = f"{self.username}:{self.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
        return {}

    def secrets(self) -> list[str]:
        """Every secret string, so error texts can be scrubbed of them."""
        out = [s for s in (self.password, self.token) if s]
        if self.username is not None and self.password:
            raw = f"{self.username}:{self.password}".encode()
            out.append(base64.b64encode(raw).decode("ascii"))
        return out

    def __bool__(self) -> bool:
        return bool(self.token) or self.username is not None


def split_credentials(url: str) -> tuple[str, RegistryAuth]:
    """Strip ``user:password@`` from a URL; return the clean URL and the credentials."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url.rstrip("/"), RegistryAuth()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    auth = RegistryAuth(
        username=unquote(parts.username or ""),
        password=unquote(parts.password) if parts.password is not None else None,
    )
    return clean.rstrip("/"), auth
