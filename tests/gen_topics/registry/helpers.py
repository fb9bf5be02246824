"""Shared helpers for the registry tests (imported as a module, not a fixture file)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx


def unique(prefix: str) -> str:
    """A subject/topic name no other test uses (the registry lives for the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def avro_record(name: str, fields: list[dict[str, Any]], namespace: str = "test.gen") -> str:
    """Avro record schema text."""
    return json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": fields})


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the real registry, counting them; can fail the first few with 503."""

    def __init__(self, fail_first: int = 0, fail_status: int = 503) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[str] = []
        self.fail_first = fail_first
        self.fail_status = fail_status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if self.fail_first > 0:
            self.fail_first -= 1
            return httpx.Response(
                self.fail_status, json={"error_code": 50001, "message": "store error"}
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
