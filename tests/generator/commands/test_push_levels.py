"""push sets the descriptor's compatibility level on every subject it manages, also where the
schema is unchanged, and ``--dry-run`` reports level drift (real registry)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gen_topics.registry import SchemaRegistryClient
from generator.commands import push
from generator.commands.sources import load_path
from tests.gen_topics.registry.helpers import unique

pytestmark = pytest.mark.registry

USER: dict[str, Any] = {
    "type": "record",
    "name": "User",
    "namespace": "lvl.test",
    "fields": [{"name": "id", "type": "long"}],
}
# A producer's next version: a new field without a default breaks BACKWARD.
BREAKING: dict[str, Any] = {
    **USER,
    "fields": [*USER["fields"], {"name": "email", "type": "string"}],
}


def _folder(root: Path, topic: str) -> Path:
    root.mkdir(parents=True)
    (root / "user.avsc").write_text(json.dumps(USER, indent=2) + "\n")
    (root / "users.topic.yaml").write_text(
        f"topics:\n  {topic}:\n    key: string\n    value: lvl.test.User\n"
        "    compatibility: BACKWARD\n"
    )
    return root


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = push.main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


async def _auto_registered(url: str, subject: str, text: str) -> None:
    """What a producer with auto-registration leaves: the schema, at the registry's default."""
    async with SchemaRegistryClient(url) as client:
        await client.register(subject, text)
        await client.set_config("NONE", subject)  # Apicurio's default, pinned for the test


async def _level(url: str, subject: str) -> str:
    async with SchemaRegistryClient(url) as client:
        return await client.get_config(subject)


async def _producer_may_register(url: str, subject: str, schema: dict[str, Any]) -> bool:
    async with SchemaRegistryClient(url) as client:
        return (await client.test_compatibility(subject, json.dumps(schema))).is_compatible


def test_push_sets_the_level_of_an_unchanged_subject_and_dry_run_reports_drift(
    tmp_path: Path, registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = unique("lvl-users")
    folder = _folder(tmp_path / "schemas", topic)
    subject = f"{topic}-value"
    text = load_path(folder).entries[subject].text
    asyncio.run(_auto_registered(registry_url, subject, text))
    assert asyncio.run(_producer_may_register(registry_url, subject, BREAKING))  # unchecked

    code, report = _run([str(folder), "--registry", registry_url, "--dry-run"], capsys)
    assert code == 0, report
    [drift] = [
        i for i in report["issues"] if i["subject"] == subject and i["rule"] == "LEVEL_DRIFT"
    ]
    assert drift["severity"] == "warning"
    assert "the registry applies NONE, the descriptor says BACKWARD" in drift["message"]
    # At the descriptor's compatibility line.
    assert (drift["file"], drift["line"]) == (str(folder / "users.topic.yaml"), 5)
    assert "with level drift" in report["summary"]
    assert asyncio.run(_level(registry_url, subject)) == "NONE", "a dry run changes nothing"

    code, report = _run([str(folder), "--registry", registry_url], capsys)
    assert code == 0, report
    [result] = [r for r in report["results"] if r["subject"] == subject]
    assert (result["status"], result["version"]) == ("unchanged", 1)
    notices = [i["message"] for i in report["issues"] if i["subject"] == subject]
    assert "compatibility level set to BACKWARD (was NONE)" in notices
    assert asyncio.run(_level(registry_url, subject)) == "BACKWARD"
    # The producer's breaking version is now refused by the registry itself.
    assert not asyncio.run(_producer_may_register(registry_url, subject, BREAKING))

    code, report = _run([str(folder), "--registry", registry_url, "--dry-run"], capsys)
    assert code == 0
    assert not [i for i in report["issues"] if i["rule"] == "LEVEL_DRIFT"], "no drift left"
