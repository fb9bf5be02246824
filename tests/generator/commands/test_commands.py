"""gen-topics compat / push / pull: exit codes, output formats, git and registry sources."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gen_topics.registry import RegisteredSchema, SchemaReference, SchemaRegistryClient
from generator.commands import compat, pull, push
from tests.gen_topics.registry.helpers import unique
from tests.paths import ROOT

USER_V1: dict[str, Any] = {
    "type": "record",
    "name": "User",
    "namespace": "cmd.test",
    "fields": [{"name": "id", "type": "long"}],
}


def _with_field(schema: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    fields = list(schema["fields"])
    return {**schema, "fields": [*fields, field]}


def _write_folder(root: Path, topic: str, user: dict[str, Any], level: str = "BACKWARD") -> Path:
    (root / "avro").mkdir(parents=True, exist_ok=True)
    (root / "avro" / "user.avsc").write_text(json.dumps(user, indent=2) + "\n")
    (root / "users.topic.yaml").write_text(
        f"topics:\n  {topic}:\n    key: string\n    value: cmd.test.User\n"
        f"    compatibility: {level}\n"
    )
    return root


def _run(main: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)  # type: ignore[operator]
    return code, capsys.readouterr().out


def test_compat_files_backward_and_forward(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.avsc"
    new = tmp_path / "new.avsc"
    old.write_text(json.dumps(USER_V1))
    # A field without a default: readable forward, not backward.
    new.write_text(json.dumps(_with_field(USER_V1, {"name": "email", "type": "string"})))
    code, out = _run(compat.main, [str(new), "--against", str(old)], capsys)
    assert code == 1
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in out and "/fields/1" in out
    code, _ = _run(compat.main, [str(new), "--against", str(old), "--level", "FORWARD"], capsys)
    assert code == 0
    code, out = _run(compat.main, [str(new), "--against", str(old), "--level", "sideways"], capsys)
    assert code == 2 and "invalid compatibility level" in out


def test_compat_github_and_json_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _write_folder(tmp_path / "old", "users", USER_V1)
    new = _write_folder(
        tmp_path / "new", "users", {**USER_V1, "fields": [{"name": "id", "type": "string"}]}
    )
    code, out = _run(compat.main, [str(new), "--against", str(old), "--format", "github"], capsys)
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("::error"))
    assert "file=" in line and "avro/user.avsc" in line
    # The "type" of field 0 (line 8 of the indented file), not the file's first line.
    assert ",line=8," in line
    assert "TYPE_MISMATCH" in line and "users-value" in line
    code, out = _run(compat.main, [str(new), "--against", str(old), "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False
    assert doc["results"] == [
        {"subject": "users-key", "level": "BACKWARD", "status": "compatible"},
        {"subject": "users-value", "level": "BACKWARD", "status": "incompatible"},
    ]
    assert doc["issues"][0]["path"] == "/fields/0/type"


def test_compat_against_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    folder = _write_folder(repo / "schemas", "users", USER_V1)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    compatible = _with_field(USER_V1, {"name": "email", "type": "string", "default": ""})
    _write_folder(folder, "users", compatible)
    code, out = _run(compat.main, [str(folder), "--against", "git:main"], capsys)
    assert code == 0, out
    _write_folder(folder, "users", _with_field(USER_V1, {"name": "email", "type": "string"}))
    code, out = _run(compat.main, [str(folder), "--against", "git:main"], capsys)
    assert code == 1 and "email" in out
    code, out = _run(compat.main, [str(folder), "--against", "git:no-such-branch"], capsys)
    assert code == 2


def test_compat_against_a_revision_without_the_folder_finds_everything_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The commit that adds schemas/ (pre-commit's compat hook runs on it too) passes."""
    repo = tmp_path / "repo"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README").write_text("no schemas yet\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    folder = _write_folder(repo / "schemas", "users", USER_V1)
    code, out = _run(
        compat.main, [str(folder), "--against", "git:main", "--format", "json"], capsys
    )
    assert code == 0, out
    assert {r["status"] for r in json.loads(out)["results"]} == {"new"}


async def _subjects(url: str) -> list[str]:
    async with SchemaRegistryClient(url) as client:
        return await client.get_subjects()


async def _latest_and_config(url: str, subject: str) -> tuple[RegisteredSchema, str, list[int]]:
    async with SchemaRegistryClient(url) as client:
        latest = await client.get_latest(subject)
        return latest, await client.get_config(subject), await client.get_versions(subject)


# The commands run their own event loop (asyncio.run), so these tests are synchronous.
@pytest.mark.registry
def test_push_pull_and_compat_against_registry(
    tmp_path: Path, registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = unique("cmd-users")
    folder = _write_folder(tmp_path / "schemas", topic, USER_V1)
    code, out = _run(push.main, [str(folder), "--registry", registry_url, "--dry-run"], capsys)
    assert code == 0, out
    assert topic + "-value" not in asyncio.run(_subjects(registry_url))
    code, out = _run(push.main, [str(folder), "--registry", registry_url], capsys)
    assert code == 0, out
    assert f"{topic}-value: registered" in out
    latest, level, _ = asyncio.run(_latest_and_config(registry_url, f"{topic}-value"))
    assert json.loads(latest.schema) == USER_V1
    assert level == "BACKWARD"
    code, out = _run(push.main, [str(folder), "--registry", registry_url], capsys)
    assert code == 0 and "unchanged" in out  # idempotent

    # An incompatible change is refused before anything is registered.
    _write_folder(folder, topic, _with_field(USER_V1, {"name": "email", "type": "string"}))
    code, out = _run(compat.main, [str(folder), "--against", registry_url], capsys)
    assert code == 1 and "READER_FIELD_MISSING_DEFAULT_VALUE" in out
    code, out = _run(push.main, [str(folder), "--registry", registry_url], capsys)
    assert code == 1 and "nothing registered" in out
    assert asyncio.run(_latest_and_config(registry_url, f"{topic}-value"))[2] == [1]

    out_dir = tmp_path / "pulled"
    code, out = _run(
        pull.main,
        ["--registry", registry_url, "--subject", f"{topic}-value", "-o", str(out_dir)],
        capsys,
    )
    assert code == 0, out
    assert json.loads((out_dir / "avro" / "cmd.test.User.avsc").read_text()) == USER_V1
    descriptor = (out_dir / "pulled.topic.yaml").read_text()
    assert f'"{topic}":' in descriptor and '"cmd.test.User"' in descriptor
    # The pulled folder reads back as the same subject and schema.
    code, out = _run(
        compat.main, [str(out_dir), "--against", registry_url, "--format", "json"], capsys
    )
    assert code == 0
    assert json.loads(out)["results"] == [
        {"subject": f"{topic}-value", "level": "BACKWARD", "status": "compatible"}
    ]


@pytest.mark.registry
def test_push_registers_json_references_first(
    tmp_path: Path, registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = unique("cmd-ship")
    root = tmp_path / "schemas"
    (root / "common").mkdir(parents=True)
    (root / "common" / "address.json").write_text(
        json.dumps(
            {"title": "Address", "type": "object", "properties": {"city": {"type": "string"}}}
        )
    )
    (root / "ship.json").write_text(
        json.dumps(
            {
                "title": "Ship",
                "type": "object",
                "properties": {"to": {"$ref": "common/address.json"}, "id": {"type": "string"}},
            }
        )
    )
    (root / "ship.topic.yaml").write_text(f"topics:\n  {topic}:\n    value: ship.json\n")
    code, out = _run(push.main, [str(root), "--registry", registry_url, "--format", "json"], capsys)
    assert code == 0, out
    subjects = [r["subject"] for r in json.loads(out)["results"]]
    assert subjects.index("common/address.json") < subjects.index(f"{topic}-value")
    latest, _, _ = asyncio.run(_latest_and_config(registry_url, f"{topic}-value"))
    assert [r.name for r in latest.references] == ["common/address.json"]


def test_push_registers_the_text_generated_code_registers() -> None:
    """push must register byte-identical schemas to what generated topics register at run
    time, or the same schema would get a second version under the subject."""
    import importlib

    from gen_topics.codecs import SchemaCodec
    from gen_topics.registry.subjects import subject_name
    from generator.commands.sources import load_path

    root = ROOT
    schemas = load_path(root / "schemas", display_root=root)
    compared = 0
    for module_file in sorted((root / "generated").glob("*.py")):
        if module_file.name.startswith("_"):
            continue
        module = importlib.import_module(f"generated.{module_file.stem}")
        for cls in vars(module).values():
            topics = getattr(cls, "default_topics", None)
            if not isinstance(cls, type) or not topics:
                continue
            for is_key in (True, False):
                codec = getattr(
                    cls, "default_key_serializer" if is_key else "default_value_serializer"
                )
                if not isinstance(codec, SchemaCodec):
                    continue
                subject = subject_name(
                    getattr(cls, "subject_name_strategy", "topic"),
                    topic=topics[0],
                    is_key=is_key,
                    schema_type=codec.schema_type,
                    schema_text=codec.schema_text,
                )
                assert subject in schemas.entries, f"{cls.__name__}: no push entry for {subject}"
                assert schemas.entries[subject].text == codec.schema_text, subject
                compared += 1
    if compared == 0:
        pytest.skip("no generated topic modules yet")


async def _register_union_topic(url: str, topic: str) -> None:
    """Confluent's several-event-types-per-topic layout: a union of referenced records."""
    placed = {"type": "record", "name": "Placed", "namespace": "cmd.union", "fields": []}
    cancelled = {**placed, "name": "Cancelled", "fields": [{"name": "why", "type": "string"}]}
    async with SchemaRegistryClient(url) as client:
        refs = []
        for record in (placed, cancelled):
            subject = f"{topic}-cmd.union.{record['name']}"
            await client.register(subject, json.dumps(record))
            refs.append(SchemaReference(f"cmd.union.{record['name']}", subject, 1))
        union = json.dumps(["null", "cmd.union.Placed", "cmd.union.Cancelled"])
        await client.register(f"{topic}-value", union, references=refs)
        await client.register(f"{topic}-key", json.dumps({"type": "string"}))
        # An array root has no descriptor spelling: its topic is left out, with a warning.
        await client.register(f"{topic}-arr-value", json.dumps({"type": "array", "items": "int"}))


@pytest.mark.registry
def test_pull_writes_union_values_into_the_descriptor(
    tmp_path: Path, registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = unique("cmd-union")
    asyncio.run(_register_union_topic(registry_url, topic))
    out_dir = tmp_path / "pulled"
    subjects = [f"{topic}-value", f"{topic}-key", f"{topic}-arr-value"]
    argv = ["--registry", registry_url, "-o", str(out_dir), "--format", "json"]
    code, out = _run(pull.main, [*argv, *(a for s in subjects for a in ("--subject", s))], capsys)
    assert code == 0, out
    descriptor = (out_dir / "pulled.topic.yaml").read_text()
    # The null branch is dropped: a null value is a tombstone, and the generator refuses it.
    assert '    value: ["cmd.union.Placed", "cmd.union.Cancelled"]' in descriptor
    assert '    key: "string"' in descriptor
    assert f"{topic}-arr" not in descriptor
    warnings = [i for i in json.loads(out)["issues"] if i["severity"] == "warning"]
    assert [w["subject"] for w in warnings] == [f"{topic}-arr-value"]
    assert "version 1" in warnings[0]["message"] and "array" not in descriptor
    notices = [i["message"] for i in json.loads(out)["issues"] if i["subject"] == f"{topic}-value"]
    assert any("null branch is left out" in n for n in notices)
    # The pulled folder compiles: the union value became a typed topic.
    from generator.cli import main as gen_topics

    assert gen_topics([str(out_dir), "-o", str(tmp_path / "generated")]) == 0
    module = (tmp_path / "generated" / f"{topic.replace('-', '_')}.py").read_text()
    assert "Placed" in module and "Cancelled" in module
