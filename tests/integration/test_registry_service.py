"""The real schema registry the test services start, through its Confluent-compatible API.

Uses httpx directly (not gen-topics' registry client) so these tests check the service itself.
The last test checks that a start which loses a port race retries on new ports.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from scripts import registry_service
from tests.integration.port_squatting import first_port_taken

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"

USER_V1: dict[str, Any] = {
    "type": "record",
    "name": "User",
    "namespace": "com.example.svc",
    "fields": [{"name": "name", "type": "string"}],
}
# Backward compatible: the new field has a default, so v2 readers can read v1 data.
USER_V2 = {**USER_V1, "fields": [*USER_V1["fields"], {"name": "age", "type": "int", "default": 0}]}
# Backward incompatible: a required field without a default cannot be filled from v2 data.
USER_V3_BREAKING = {**USER_V1, "fields": [*USER_V2["fields"], {"name": "email", "type": "string"}]}


@pytest.fixture
def client(registry_url: str) -> Iterator[httpx.Client]:
    headers = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
    with httpx.Client(base_url=registry_url, headers=headers, timeout=30) as http:
        yield http


@pytest.fixture
def subject() -> str:
    return f"svc-test-{uuid.uuid4().hex[:8]}-value"


def _register(client: httpx.Client, subject: str, schema: dict[str, Any]) -> httpx.Response:
    return client.post(
        f"/subjects/{quote(subject, safe='')}/versions", json={"schema": json.dumps(schema)}
    )


@pytest.mark.registry
def test_registry_lists_subjects(client: httpx.Client) -> None:
    response = client.get("/subjects")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


@pytest.mark.registry
def test_register_read_back_and_backward_compatibility(client: httpx.Client, subject: str) -> None:
    path = f"/subjects/{quote(subject, safe='')}"
    registered = _register(client, subject, USER_V1)
    assert registered.status_code == 200, registered.text
    schema_id = registered.json()["id"]
    assert isinstance(schema_id, int)

    by_id = client.get(f"/schemas/ids/{schema_id}")
    assert by_id.status_code == 200, by_id.text
    assert json.loads(by_id.json()["schema"]) == USER_V1
    assert by_id.json().get("schemaType", "AVRO") == "AVRO"

    by_version = client.get(f"{path}/versions/1")
    assert by_version.status_code == 200, by_version.text
    body = by_version.json()
    assert (body["subject"], body["version"], body["id"]) == (subject, 1, schema_id)
    assert json.loads(body["schema"]) == USER_V1

    # Registering the same schema again is idempotent: same id, no new version.
    again = _register(client, subject, USER_V1)
    assert again.status_code == 200 and again.json()["id"] == schema_id

    config = client.put(f"/config/{quote(subject, safe='')}", json={"compatibility": "BACKWARD"})
    assert config.status_code == 200, config.text
    read_config = client.get(f"/config/{quote(subject, safe='')}")
    assert read_config.status_code == 200
    assert read_config.json()["compatibilityLevel"] == "BACKWARD"

    compatible = _register(client, subject, USER_V2)
    assert compatible.status_code == 200, compatible.text
    assert compatible.json()["id"] != schema_id

    check = client.post(
        f"/compatibility{path}/versions/latest", json={"schema": json.dumps(USER_V3_BREAKING)}
    )
    assert check.status_code == 200, check.text
    assert check.json()["is_compatible"] is False

    rejected = _register(client, subject, USER_V3_BREAKING)
    assert rejected.status_code == 409, rejected.text
    assert str(rejected.json()["error_code"]).startswith("409")

    versions = client.get(f"{path}/versions")
    assert versions.status_code == 200
    assert versions.json() == [1, 2], "the rejected schema must not become a version"


@pytest.mark.registry
def test_unknown_subject_and_id_are_404(client: httpx.Client, subject: str) -> None:
    missing_subject = client.get(f"/subjects/{quote(subject, safe='')}/versions")
    assert missing_subject.status_code == 404
    assert missing_subject.json()["error_code"] == 40401
    missing_id = client.get("/schemas/ids/987654321")
    assert missing_id.status_code == 404
    assert missing_id.json()["error_code"] == 40403


@pytest.mark.registry
def test_registry_start_survives_a_taken_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process binds the picked HTTP port first: the start retries on new ports.

    Quarkus reports this in its own words (not Java's "Address already in use"), so this checks
    that the retry recognises the message the real registry prints.
    """
    with first_port_taken(monkeypatch, registry_service) as (taken, attempts):
        service = registry_service.start_registry()
        try:
            assert f":{taken}/" not in service.address
            assert registry_service.registry_ready(service.address)
        finally:
            service.stop()
    assert len(attempts) == 2, "the first attempt must fail on the taken port, the second start"
    assert not any(workdir.exists() for workdir in attempts), "every attempt's temp dir is removed"
