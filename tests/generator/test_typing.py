"""mypy --strict accepts generated/ and typed usage, and reports a wrong key or value type."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

from tests.generator.typed_usage import BAD_LINES, bad_line_number, usage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One cache for the module: later runs only re-check the usage file.
    return tmp_path_factory.mktemp("mypy_cache")


def _mypy(tmp_path: Path, source: str, cache: Path) -> tuple[str, int]:
    path = tmp_path / "usage.py"
    path.write_text(source)
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(cache),
            str(path),
        ]
    )
    return stdout + stderr, status


def test_generated_package_passes_mypy_strict(cache_dir: Path) -> None:
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(cache_dir),
            "-p",
            "generated",
        ]
    )
    assert status == 0, stdout + stderr


def test_typed_usage_passes(tmp_path: Path, cache_dir: Path) -> None:
    output, status = _mypy(tmp_path, usage(), cache_dir)
    assert status == 0, output


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_wrong_types_are_reported(tmp_path: Path, case: str, cache_dir: Path) -> None:
    output, status = _mypy(tmp_path, usage(case), cache_dir)
    assert status == 1, output
    bad_line = bad_line_number(case)
    assert f"usage.py:{bad_line}: error" in output, output
    assert output.count(": error") == 1, output
