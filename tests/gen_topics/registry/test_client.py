"""The registry client against the real Apicurio registry (Confluent-compatible API)."""

from __future__ import annotations

import base64
import json
import logging
import socket

import pytest

from gen_topics.registry import (
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidSchemaError,
    RegistryAuth,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SchemaReference,
    SchemaRegistryClient,
    SubjectNotFoundError,
    VersionNotFoundError,
)
from tests.gen_topics.registry.helpers import CountingTransport, avro_record, unique

pytestmark = pytest.mark.registry

V1 = avro_record("User", [{"name": "id", "type": "long"}])
V2 = avro_record(
    "User", [{"name": "id", "type": "long"}, {"name": "name", "type": "string", "default": ""}]
)
BREAKING = avro_record("User", [{"name": "id", "type": "string"}])


async def test_register_lookup_versions_and_latest(registry_url: str) -> None:
    subject = unique("client-value")
    async with SchemaRegistryClient(registry_url) as client:
        id1 = await client.register(subject, V1)
        assert await client.register(subject, V1) == id1  # idempotent
        id2 = await client.register(subject, V2)
        assert id2 != id1
        assert await client.get_versions(subject) == [1, 2]
        latest = await client.get_latest(subject)
        assert (latest.version, latest.schema_id) == (2, id2)
        assert json.loads(latest.schema) == json.loads(V2)
        found = await client.lookup(subject, V1)
        assert (found.schema_id, found.version, found.subject) == (id1, 1, subject)
        by_id = await client.get_schema(id1)
        assert json.loads(by_id.schema) == json.loads(V1)
        assert by_id.schema_type == "AVRO"
        assert subject in await client.get_subjects()
        assert await client.get_subjects(prefix=subject) == [subject]


async def test_json_schema_type_round_trips(registry_url: str) -> None:
    subject = unique("client-json")
    schema = json.dumps({"type": "object", "properties": {"a": {"type": "string"}}})
    async with SchemaRegistryClient(registry_url) as client:
        schema_id = await client.register(subject, schema, "JSON")
        client._by_id.clear()  # force the GET
        fetched = await client.get_schema(schema_id)
        assert fetched.schema_type == "JSON"
        assert json.loads(fetched.schema) == json.loads(schema)


async def test_references_register_and_resolve(registry_url: str) -> None:
    address_subject = unique("test.gen.Address")
    subject = unique("client-ref")
    address = avro_record("Address", [{"name": "street", "type": "string"}])
    person = avro_record("Person", [{"name": "home", "type": "test.gen.Address"}])
    ref = SchemaReference("test.gen.Address", address_subject, 1)
    async with SchemaRegistryClient(registry_url) as client:
        address_id = await client.register(address_subject, address)
        person_id = await client.register(subject, person, references=[ref])
        client._by_id.clear()
        fetched = await client.get_schema(person_id)
        assert fetched.references == (ref,)
        version = await client.get_version(subject, 1)
        assert version.references == (ref,)
        assert person_id in await client.get_referenced_by(address_subject, 1)
        assert address_id != person_id


async def test_compatibility_and_config(registry_url: str) -> None:
    subject = unique("client-compat")
    async with SchemaRegistryClient(registry_url) as client:
        await client.register(subject, V1)
        assert await client.set_config("BACKWARD", subject) == "BACKWARD"
        assert await client.get_config(subject) == "BACKWARD"
        ok = await client.test_compatibility(subject, V2)
        assert ok.is_compatible
        bad = await client.test_compatibility(subject, BREAKING)
        assert not bad.is_compatible
        with pytest.raises(IncompatibleSchemaError) as info:
            await client.register(subject, BREAKING)
        assert info.value.status == 409
        assert await client.get_config() in {"NONE", "BACKWARD"}  # the global level reads back


async def test_delete_subject_forgets_its_versions_and_cached_ids(registry_url: str) -> None:
    subject = unique("client-delete")
    async with SchemaRegistryClient(registry_url) as client:
        await client.register(subject, V1)
        await client.register(subject, V2)
        assert await client.delete_subject(subject, permanent=True) == [1, 2]
        assert subject not in await client.get_subjects()
        with pytest.raises(SubjectNotFoundError):
            await client.get_versions(subject)
        # The cached id is forgotten: registering again reaches the registry (version 1 anew).
        await client.register(subject, V1)
        assert await client.get_versions(subject) == [1]


async def test_errors_carry_status_code_and_message(registry_url: str) -> None:
    subject = unique("client-errors")
    async with SchemaRegistryClient(registry_url) as client:
        with pytest.raises(SchemaNotFoundError) as missing_id:
            await client.get_schema(987654321)
        assert (missing_id.value.status, missing_id.value.error_code) == (404, 40403)
        assert "987654321" in missing_id.value.registry_message
        with pytest.raises(SubjectNotFoundError) as missing_subject:
            await client.get_versions(subject)
        assert missing_subject.value.error_code == 40401
        assert subject in str(missing_subject.value)
        await client.register(subject, V1)
        with pytest.raises(VersionNotFoundError):
            await client.get_version(subject, 9)
        with pytest.raises(SchemaNotFoundError):
            await client.lookup(subject, V2)
        with pytest.raises(InvalidCompatibilityLevelError) as level:
            await client.set_config("SIDEWAYS", subject)
        assert level.value.status == 422
        with pytest.raises(InvalidSchemaError):
            await client.register(subject, "{not json")


async def test_ids_and_schemas_are_cached(registry_url: str) -> None:
    subject = unique("client-cache")
    transport = CountingTransport()
    async with SchemaRegistryClient(registry_url, transport=transport) as client:
        schema_id = await client.register(subject, V1)
        await client.register(subject, V1)
        await client.get_schema(schema_id)
        await client.get_schema(schema_id)
        await client.get_version(subject, 1)
        await client.get_version(subject, 1)
    # one register; get_schema served from the register cache; one version fetch
    assert transport.requests == [
        f"POST {_path(registry_url)}/subjects/{subject}/versions",
        f"GET {_path(registry_url)}/subjects/{subject}/versions/1",
    ]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3] if url.count("/") > 2 else ""


async def test_transient_5xx_is_retried_with_backoff(registry_url: str) -> None:
    transport = CountingTransport(fail_first=2)
    async with SchemaRegistryClient(registry_url, transport=transport, backoff=0.01) as client:
        assert isinstance(await client.get_subjects(), list)
    assert len(transport.requests) == 3


async def test_persistent_5xx_gives_up_with_status(registry_url: str) -> None:
    transport = CountingTransport(fail_first=10)
    client = SchemaRegistryClient(registry_url, transport=transport, retries=2, backoff=0.01)
    with pytest.raises(RegistryUnavailableError) as info:
        await client.get_subjects()
    await client.close()
    assert info.value.status == 503
    assert info.value.error_code == 50001
    assert len(transport.requests) == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried_then_reported() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/apis/ccompat/v7"
    client = SchemaRegistryClient(url, retries=2, backoff=0.01)
    with pytest.raises(RegistryUnavailableError) as info:
        await client.get_subjects()
    await client.close()
    assert "after 3 attempts" in str(info.value)
    assert info.value.request == "GET /subjects"


async def test_credentials_never_logged_or_shown(
    registry_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-Pa55"
    token = "tok-ABCDEF-123456"
    scheme, rest = registry_url.split("://", 1)
    with_userinfo = f"{scheme}://alice:{secret}@{rest}"
    caplog.set_level(logging.DEBUG)
    basic_b64 = base64.b64encode(f"alice:{secret}".encode()).decode()
    texts: list[str] = []
    async with SchemaRegistryClient(with_userinfo) as client:
        texts.append(repr(client))
        assert client.url == registry_url
        await client.get_subjects()  # Apicurio without auth accepts the header
        with pytest.raises(SchemaNotFoundError) as info:
            await client.get_schema(876543210)
        texts.append(str(info.value))
    bearer = SchemaRegistryClient(registry_url, token=token)
    texts += [repr(bearer), repr(RegistryAuth(token=token)), repr(RegistryAuth("bob", secret))]
    await bearer.get_subjects()
    await bearer.close()
    down = SchemaRegistryClient(
        f"http://bob:{secret}@127.0.0.1:{_closed_port()}", retries=0, token=None
    )
    with pytest.raises(RegistryUnavailableError) as refused:
        await down.get_subjects()
    await down.close()
    texts.append(str(refused.value))
    texts.append(caplog.text)
    assert caplog.records, "debug logging should have recorded the requests"
    for text in texts:
        for leaked in (secret, token, basic_b64):
            assert leaked not in text, f"credential leaked into: {text[:200]}"


def test_auth_headers() -> None:
    assert RegistryAuth(token="t").headers() == {"Authorization": "Bearer t"}
    basic = RegistryAuth("u", "p").headers()["Authorization"]
    assert base64.b64decode(basic.split()[1]) == b"u:p"
    assert RegistryAuth().headers() == {}
