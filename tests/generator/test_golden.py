"""Golden tests: one small schemas folder per feature -> the exact expected output files.

Regenerate after an intended change with:
    GEN_TOPICS_UPDATE_GOLDEN=1 pytest tests/generator/test_golden.py
(then review the diff). Expected files are stored with a .txt suffix so tools leave them alone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.compiler import compile_folder

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "golden_inputs"
GOLDEN = HERE / "golden"
FEATURES = sorted(p.name for p in INPUTS.iterdir() if p.is_dir())
UPDATE = os.environ.get("GEN_TOPICS_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("feature", FEATURES)
def test_output_matches_golden_files(feature: str) -> None:
    files = {f"{name}.txt": content for name, content in compile_folder(INPUTS / feature).items()}
    expected_dir = GOLDEN / feature
    if UPDATE:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for name, content in files.items():
            (expected_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / name).write_text(content, encoding="utf-8")
    expected = {
        p.relative_to(expected_dir).as_posix(): p.read_text(encoding="utf-8")
        for p in expected_dir.rglob("*.txt")
    }
    assert sorted(files) == sorted(expected), "files differ; see GEN_TOPICS_UPDATE_GOLDEN"
    for name, content in files.items():
        assert content == expected[name], f"{feature}/{name} differs from the golden file"


def test_every_feature_has_golden_files() -> None:
    assert FEATURES and all((GOLDEN / f).is_dir() for f in FEATURES)


def test_feature_outputs_pass_mypy_strict_and_ruff(tmp_path: Path) -> None:
    import subprocess
    import sys

    from mypy import api

    from generator.writer import write

    root = HERE.parents[1]
    for feature in FEATURES:
        write(tmp_path / f"golden_{feature}", compile_folder(INPUTS / feature), clean=False)
    paths = [str(p) for p in sorted(tmp_path.iterdir())]
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(root / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(tmp_path / ".cache"),
            *paths,
        ]
    )
    assert status == 0, stdout + stderr
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), "check", "--no-cache", "--config", str(root / "pyproject.toml"), *paths],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_feature_outputs_import_and_round_trip(tmp_path: Path) -> None:
    import sys

    from generator.compiler import build_model
    from generator.writer import write
    from tests.generator.roundtrip import check_round_trip, record_codecs

    sys.path.insert(0, str(tmp_path))
    try:
        for feature in FEATURES:
            package = f"golden_rt_{feature}"
            write(tmp_path / package, compile_folder(INPUTS / feature), clean=False)
            for _name, codec, text in record_codecs(build_model(INPUTS / feature), package):
                check_round_trip(codec, text, examples=15)
    finally:
        sys.path.remove(str(tmp_path))
