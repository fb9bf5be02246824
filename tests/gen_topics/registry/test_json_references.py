"""The runtime registry codec registers JSON Schema $ref documents as references, as push does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gen_topics.errors import EncodeError
from gen_topics.json_codec import JsonModelCodec
from gen_topics.registry import ReferencedSchema, SchemaRegistryClient
from gen_topics.registry.codec import registry_codec
from generator.commands import push
from tests.gen_topics.registry.helpers import unique

ADDRESS = json.dumps(
    {"title": "Address", "type": "object", "properties": {"city": {"type": "string"}}}
)
SHIP = json.dumps(
    {
        "title": "Ship",
        "type": "object",
        "properties": {"to": {"$ref": "common/address.json"}, "id": {"type": "string"}},
    }
)


class _ShipCodec(JsonModelCodec[dict[str, Any]]):
    """What a generated JSON topic codec carries: its schema and the documents it $refs."""

    schema_references = (ReferencedSchema("common/address.json", "common/address.json", ADDRESS),)


def _codec() -> _ShipCodec:
    return _ShipCodec(dict[str, Any], SHIP)


def _write_folder(root: Path, topic: str) -> Path:
    (root / "common").mkdir(parents=True)
    (root / "common" / "address.json").write_text(ADDRESS)
    (root / "ship.json").write_text(SHIP)
    (root / "ship.topic.yaml").write_text(f"topics:\n  {topic}:\n    value: ship.json\n")
    return root


@pytest.mark.registry
async def test_codec_registers_references_first(registry_url: str) -> None:
    topic = unique("json-refs")
    async with SchemaRegistryClient(registry_url) as client:
        codec = registry_codec(_codec(), client=client, topic=topic, is_key=False)
        await codec.prepare()
        latest = await client.get_latest(f"{topic}-value")
        assert latest.schema_id == codec.schema_id
        assert [(r.name, r.subject) for r in latest.references] == [
            ("common/address.json", "common/address.json")
        ]
        referenced = await client.get_version("common/address.json", latest.references[0].version)
        assert referenced.schema == ADDRESS
        record = codec.encode({"id": "s1", "to": {"city": "Ghent"}})
        assert await codec.decode_async(record) == {"id": "s1", "to": {"city": "Ghent"}}


async def _prepared(
    url: str, topic: str, inner: JsonModelCodec[dict[str, Any]], auto_register: bool
) -> tuple[int | None, list[int]]:
    async with SchemaRegistryClient(url) as client:
        codec = registry_codec(
            inner, client=client, topic=topic, is_key=False, auto_register=auto_register
        )
        await codec.prepare()
        return codec.schema_id, await client.get_versions(f"{topic}-value")


# push runs its own event loop (asyncio.run), so this test is synchronous.
@pytest.mark.registry
def test_codec_and_push_register_the_same_version(
    tmp_path: Path, registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = unique("json-refs-push")
    folder = _write_folder(tmp_path / "schemas", topic)
    assert push.main([str(folder), "--registry", registry_url, "--format", "json"]) == 0
    pushed = {r["subject"]: r["id"] for r in json.loads(capsys.readouterr().out)["results"]}
    # The codec finds push's version (same subjects, same references): nothing new.
    assert asyncio.run(_prepared(registry_url, topic, _codec(), False)) == (
        pushed[f"{topic}-value"],
        [1],
    )
    # A codec that knows no references, auto-registering, takes push's version too
    # instead of registering the same text bare as a second version.
    bare = JsonModelCodec[dict[str, Any]](dict[str, Any], SHIP)
    assert asyncio.run(_prepared(registry_url, topic, bare, True)) == (
        pushed[f"{topic}-value"],
        [1],
    )


@pytest.mark.registry
async def test_unregistered_reference_without_auto_register_names_the_subject(
    registry_url: str,
) -> None:
    topic = unique("json-refs-off")
    orphan = ReferencedSchema("other.json", unique("never-registered"), ADDRESS)

    class _OrphanCodec(JsonModelCodec[dict[str, Any]]):
        schema_references = (orphan,)

    async with SchemaRegistryClient(registry_url) as client:
        codec = registry_codec(
            _OrphanCodec(dict[str, Any], SHIP),
            client=client,
            topic=topic,
            is_key=False,
            auto_register=False,
        )
        with pytest.raises(EncodeError, match=f"{topic}-value.*auto-registration is off"):
            await codec.prepare()
