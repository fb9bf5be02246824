"""Async client for the Confluent Schema Registry REST API.

Works with Confluent, Karapace and Apicurio's ``/apis/ccompat/v7`` (the base URL
may carry a path prefix). Ids and schemas are cached (a schema id never changes
meaning); transient failures (connection errors, timeouts, HTTP 5xx and 429) are
retried with exponential backoff. Credentials go only into the Authorization
header: never into logs, reprs or exception messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from gen_topics.registry.auth import RegistryAuth, split_credentials
from gen_topics.registry.errors import (
    RegistryUnavailableError,
    SchemaRegistryError,
    error_for,
)
from gen_topics.registry.models import CompatibilityResult, RegisteredSchema, SchemaReference

__all__ = ["SchemaRegistryClient"]

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

Version = int | str


def _subject_path(subject: str) -> str:
    # Subjects may contain '/', which must reach the registry as %2F.
    return quote(subject, safe="")


# (subject, schema type, schema text, references): what one schema id is cached under.
_SchemaKey = tuple[str, str, str, tuple[tuple[str, str, int], ...]]


def _schema_key(
    subject: str, schema: str, schema_type: str, references: Iterable[SchemaReference]
) -> _SchemaKey:
    refs = tuple((r.name, r.subject, r.version) for r in references)
    return (subject, schema_type.upper(), schema, refs)


class SchemaRegistryClient:
    """An async registry client; use as ``async with`` or call :meth:`close`.

    ``url`` is the API base (``http://host:8081`` or ``http://host/apis/ccompat/v7``);
    ``user:password@`` in it is taken as basic auth. ``auth`` (or ``username`` +
    ``password``, or ``token``) sets credentials explicitly. TLS: ``verify``
    (False disables checks), ``ca_file`` (trust these CAs), ``cert_file`` +
    ``key_file`` (client certificate).
    """

    def __init__(
        self,
        url: str,
        *,
        auth: RegistryAuth | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify: bool = True,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        clean, url_auth = split_credentials(url)
        self.url = clean
        if auth is None:
            if token or username is not None:
                auth = RegistryAuth(username=username, password=password, token=token)
            else:
                auth = url_auth
        self._auth = auth
        self._verify = verify
        self._ca_file = ca_file
        self._cert_file = cert_file
        self._key_file = key_file
        self._timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._ids: dict[_SchemaKey, int] = {}
        self._by_id: dict[int, RegisteredSchema] = {}
        self._by_version: dict[tuple[str, int], RegisteredSchema] = {}
        self._pending_ids: dict[int, asyncio.Future[RegisteredSchema]] = {}

    def __repr__(self) -> str:
        kind = "token" if self._auth.token else ("basic" if self._auth else "none")
        return f"<SchemaRegistryClient {self.url} auth={kind}>"

    # -- HTTP plumbing ---------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext | bool:
        if not self._verify:
            return False
        if self._ca_file is None and self._cert_file is None:
            return True
        context = ssl.create_default_context(cafile=self._ca_file)
        if self._cert_file is not None:
            context.load_cert_chain(self._cert_file, self._key_file)
        return context

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            headers = {"Accept": CONTENT_TYPE, **self._auth.headers()}
            self._http = httpx.AsyncClient(
                base_url=self.url,
                headers=headers,
                timeout=self._timeout,
                verify=self._ssl_context(),
                transport=self._transport,
            )
        return self._http

    async def close(self) -> None:
        """Close the HTTP connections (the caches stay)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def aclose(self) -> None:
        """Alias of :meth:`close` (the App closes clients through ``aclose``)."""
        await self.close()

    async def __aenter__(self) -> SchemaRegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _scrub(self, text: str) -> str:
        for secret in self._auth.secrets():
            text = text.replace(secret, "***")
        return text

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        label = f"{method} {path}"
        content = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": CONTENT_TYPE} if content is not None else None
        delay = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = await self._client().request(
                    method, path, content=content, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                reason = self._scrub(f"{type(exc).__name__}: {exc}")
                log.debug("registry %s failed (attempt %d): %s", label, attempt + 1, reason)
                if last:
                    raise RegistryUnavailableError(
                        f"no answer from {self.url} after {attempt + 1} attempts ({reason})",
                        request=label,
                    ) from None
            else:
                log.debug("registry %s -> %d", label, response.status_code)
                if response.status_code < 400:
                    if not response.content:
                        return None
                    try:
                        return response.json()
                    except ValueError:
                        return response.text
                if response.status_code not in _RETRY_STATUS or last:
                    raise self._error(response, label)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, response: httpx.Response, label: str) -> SchemaRegistryError:
        code: int | None = None
        message = response.text.strip() or response.reason_phrase
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            raw_code = data.get("error_code")
            code = (
                int(raw_code)
                if isinstance(raw_code, int | str) and str(raw_code).isdigit()
                else None
            )
            message = str(data.get("message", message))
        cls = error_for(response.status_code, code)
        return cls(
            self._scrub(message), status=response.status_code, error_code=code, request=label
        )

    # -- Schemas ---------------------------------------------------------------

    async def _post_schema(
        self,
        path: str,
        schema: str,
        schema_type: str,
        references: Sequence[SchemaReference],
        params: dict[str, str] | None = None,
    ) -> Any:
        body: dict[str, Any] = {"schema": schema}
        if schema_type.upper() != "AVRO":
            body["schemaType"] = schema_type.upper()
        if references:
            body["references"] = [r.to_json() for r in references]
        return await self._request("POST", path, body=body, params=params)

    async def register(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Sequence[SchemaReference] = (),
        *,
        normalize: bool = False,
    ) -> int:
        """Register ``schema`` under ``subject`` (idempotent); return its global id."""
        key = _schema_key(subject, schema, schema_type, references)
        if key in self._ids:
            return self._ids[key]
        data = await self._post_schema(
            f"/subjects/{_subject_path(subject)}/versions",
            schema,
            schema_type,
            references,
            params={"normalize": "true"} if normalize else None,
        )
        schema_id = int(data["id"])
        self._ids[key] = schema_id
        self._by_id.setdefault(
            schema_id, RegisteredSchema(schema_id, schema, schema_type.upper(), tuple(references))
        )
        return schema_id

    async def lookup(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Sequence[SchemaReference] = (),
    ) -> RegisteredSchema:
        """Find ``schema`` among ``subject``'s versions (``SchemaNotFoundError`` if absent)."""
        data = await self._post_schema(
            f"/subjects/{_subject_path(subject)}", schema, schema_type, references
        )
        found = RegisteredSchema.from_json(data, subject=subject)
        if not data.get("schemaType"):
            # Registries omit schemaType for Avro only in some responses; trust the request.
            found = replace(found, schema_type=schema_type.upper())
        self._ids[_schema_key(subject, schema, schema_type, references)] = found.schema_id
        return found

    async def get_schema(self, schema_id: int) -> RegisteredSchema:
        """The schema with this global id (cached; concurrent callers share one request)."""
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        pending = self._pending_ids.get(schema_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[RegisteredSchema] = asyncio.get_running_loop().create_future()
        self._pending_ids[schema_id] = future
        try:
            data = await self._request("GET", f"/schemas/ids/{int(schema_id)}")
            found = RegisteredSchema.from_json(data, schema_id=schema_id)
            self._by_id[schema_id] = found
            future.set_result(found)
            return found
        except BaseException as exc:
            future.set_exception(exc)
            # Mark it retrieved so an unawaited failure is not reported as lost.
            future.exception()
            raise
        finally:
            del self._pending_ids[schema_id]

    # -- Subjects and versions -------------------------------------------------

    async def get_subjects(self, prefix: str | None = None) -> list[str]:
        """Every live subject (optionally only those starting with ``prefix``)."""
        params = {"subjectPrefix": prefix} if prefix else None
        data = await self._request("GET", "/subjects", params=params)
        subjects = [str(s) for s in data]
        # Not every registry filters by prefix; filter here too.
        return [s for s in subjects if prefix is None or s.startswith(prefix)]

    async def get_versions(self, subject: str) -> list[int]:
        """The subject's live version numbers, ascending."""
        data = await self._request("GET", f"/subjects/{_subject_path(subject)}/versions")
        return sorted(int(v) for v in data)

    async def get_version(self, subject: str, version: Version = "latest") -> RegisteredSchema:
        """One version of a subject (``"latest"`` is never cached)."""
        if isinstance(version, int) and (subject, version) in self._by_version:
            return self._by_version[(subject, version)]
        path = f"/subjects/{_subject_path(subject)}/versions/{quote(str(version), safe='')}"
        data = await self._request("GET", path)
        found = RegisteredSchema.from_json(data, subject=subject)
        if found.version is not None:
            self._by_version[(subject, found.version)] = found
        self._by_id.setdefault(found.schema_id, found)
        return found

    async def get_latest(self, subject: str) -> RegisteredSchema:
        """The newest live version of a subject."""
        return await self.get_version(subject, "latest")

    async def get_references(self, references: Iterable[SchemaReference]) -> dict[str, str]:
        """The schema text of every reference, and of theirs in turn, by reference name.

        A name referenced twice is fetched once (the first one found wins).
        """
        texts: dict[str, str] = {}
        pending = list(references)
        while pending:
            ref = pending.pop()
            if ref.name in texts:
                continue
            target = await self.get_version(ref.subject, ref.version)
            texts[ref.name] = target.schema
            pending.extend(target.references)
        return texts

    async def get_referenced_by(self, subject: str, version: Version) -> list[int]:
        """Ids of schemas that reference this subject version."""
        path = f"/subjects/{_subject_path(subject)}/versions/{quote(str(version), safe='')}"
        data = await self._request("GET", f"{path}/referencedby")
        return [int(i) for i in data]

    async def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft-delete a subject (then hard-delete when ``permanent``); return its versions."""
        path = f"/subjects/{_subject_path(subject)}"
        versions = await self._request("DELETE", path)
        if permanent:
            versions = await self._request("DELETE", path, params={"permanent": "true"})
        self._ids = {k: v for k, v in self._ids.items() if k[0] != subject}
        self._by_version = {k: v for k, v in self._by_version.items() if k[0] != subject}
        return [int(v) for v in versions or []]

    # -- Compatibility and config ----------------------------------------------

    async def test_compatibility(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Sequence[SchemaReference] = (),
        *,
        version: Version = "latest",
    ) -> CompatibilityResult:
        """Ask the registry whether ``schema`` may follow ``version`` of ``subject``."""
        path = (
            f"/compatibility/subjects/{_subject_path(subject)}/versions/"
            f"{quote(str(version), safe='')}"
        )
        data = await self._post_schema(
            path, schema, schema_type, references, params={"verbose": "true"}
        )
        messages = data.get("messages") or []
        return CompatibilityResult(bool(data["is_compatible"]), tuple(str(m) for m in messages))

    async def get_config(self, subject: str | None = None) -> str:
        """The compatibility level of a subject (falling back to global) or the global one."""
        if subject is None:
            data = await self._request("GET", "/config")
        else:
            data = await self._request(
                "GET", f"/config/{_subject_path(subject)}", params={"defaultToGlobal": "true"}
            )
        return str(data.get("compatibilityLevel") or data.get("compatibility"))

    async def set_config(self, level: str, subject: str | None = None) -> str:
        """Set the compatibility level (of a subject, or globally); return the level set."""
        path = "/config" if subject is None else f"/config/{_subject_path(subject)}"
        data = await self._request("PUT", path, body={"compatibility": level.upper()})
        return str(data.get("compatibility") or data.get("compatibilityLevel"))
