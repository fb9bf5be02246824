"""Bad input to compat / push: the message names the file and line (or subject and version)
and what was expected; the exit status is 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.commands import compat, push
from generator.commands.history import History, check_entry
from generator.commands.sources import SchemaEntry, SchemaSet, SourceError, load_path
from generator.compat import CompatibilityLevel

RECORD = {
    "type": "record",
    "name": "U",
    "namespace": "err",
    "fields": [{"name": "id", "type": "long"}],
}


def _bad_type_record() -> str:
    # The bad field type on line 4, so the reported line can be checked.
    return "\n".join(
        [
            "{",
            '  "type": "record", "name": "U", "namespace": "err",',
            '  "fields": [',
            '    {"name": "id", "type": "lng"}',
            "  ]",
            "}",
        ]
    )


def _compat(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = compat.main(argv)
    return code, capsys.readouterr().out


def test_invalid_new_avro_names_file_line_path_and_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "new.avsc").write_text(_bad_type_record())
    (tmp_path / "old.avsc").write_text(json.dumps(RECORD))
    code, out = _compat(
        [str(tmp_path / "new.avsc"), "--against", str(tmp_path / "old.avsc")], capsys
    )
    assert code == 2
    assert "new.avsc:4:" in out
    assert "unknown type 'lng'" in out and "did you mean 'long'?" in out
    assert "(at /fields/0/type)" in out and "subject 'err.U'" in out


def test_invalid_old_avro_names_the_old_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "new.avsc").write_text(json.dumps(RECORD))
    (tmp_path / "old.avsc").write_text(_bad_type_record())
    code, out = _compat(
        [str(tmp_path / "new.avsc"), "--against", str(tmp_path / "old.avsc")], capsys
    )
    assert code == 2
    assert "old.avsc (compared with" in out and "unknown type 'lng'" in out


def test_registry_version_that_cannot_be_read_is_named_by_subject_and_version() -> None:
    entry = SchemaEntry("orders-value", "AVRO", json.dumps(RECORD), "schemas/avro/u.avsc")
    history = History(texts=['{"type": "record", "name": "U"}'], labels=["orders-value v3"])
    with pytest.raises(SourceError) as info:
        check_entry(entry, history, CompatibilityLevel.BACKWARD, SchemaSet())
    message = str(info.value)
    assert message.startswith("orders-value v3 (compared with schemas/avro/u.avsc)")
    assert "record U needs 'fields'" in message


def test_invalid_json_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "new.avsc").write_text('{"type": "record",\n "name": "U", "fields": [}\n')
    (tmp_path / "old.avsc").write_text(json.dumps(RECORD))
    code, out = _compat(
        [str(tmp_path / "new.avsc"), "--against", str(tmp_path / "old.avsc")], capsys
    )
    assert code == 2
    assert "new.avsc:2: not valid JSON:" in out and "(column " in out


def _folder(root: Path, descriptor: str) -> Path:
    (root / "avro").mkdir(parents=True)
    (root / "avro" / "u.avsc").write_text(json.dumps(RECORD))
    (root / "t.topic.yaml").write_text(descriptor)
    return root


def test_unknown_descriptor_type_names_descriptor_line_and_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _folder(tmp_path / "new", "topics:\n  t:\n    key: strng\n    value: err.U\n")
    old = _folder(tmp_path / "old", "topics:\n  t:\n    value: err.U\n")
    code, out = _compat([str(new), "--against", str(old)], capsys)
    assert code == 2
    assert "t.topic.yaml:3: unknown Avro type 'strng'" in out and "did you mean 'string'?" in out


def test_missing_json_schema_names_the_expected_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _folder(tmp_path / "new", "topics:\n  t:\n    value: json/missing.json\n")
    code = push.main([str(new), "--registry", "http://127.0.0.1:9/", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 2
    assert "t.topic.yaml:3: JSON Schema 'json/missing.json' not found" in out
    assert "expected the file" in out and "json/missing.json" in out


def test_a_folder_is_not_compared_with_an_unrelated_single_subject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only two single files are paired whatever their subjects; folders pair by subject."""
    new = _folder(tmp_path / "new", "topics:\n  t:\n    key: string\n    value: err.U\n")
    old = tmp_path / "old"
    old.mkdir()
    (old / "u.avsc").write_text(json.dumps(RECORD))
    code, out = _compat([str(new), "--against", str(old), "--format", "json"], capsys)
    assert code == 0
    assert {r["status"] for r in json.loads(out)["results"]} == {"new"}


def test_a_descriptor_in_a_subfolder_names_the_avsc_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Findings name the .avsc file as a path an editor opens from where the command runs.
    root = tmp_path / "schemas"
    (root / "avro").mkdir(parents=True)
    (root / "avro" / "u.avsc").write_text(json.dumps(RECORD))
    (root / "topics").mkdir()
    (root / "topics" / "t.topic.yaml").write_text("topics:\n  t:\n    value: err.U\n")
    monkeypatch.chdir(tmp_path)
    entry = load_path(Path("schemas")).entries["t-value"]
    assert entry.file == "schemas/avro/u.avsc"
    assert Path(entry.file).is_file()
