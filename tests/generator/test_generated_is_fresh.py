"""The committed generated/ package is exactly what gen-topics makes from schemas/."""

from __future__ import annotations

from pathlib import Path

from generator.compiler import compile_folder
from generator.writer import compare, with_manifest

ROOT = Path(__file__).resolve().parents[2]


def test_generated_package_is_up_to_date() -> None:
    result = compare(ROOT / "generated", with_manifest(compile_folder(ROOT / "schemas")))
    assert result.clean, (
        "generated/ is stale; run `gen-topics schemas/` and commit the result:\n" + result.diff
    )


def test_output_is_byte_identical_run_to_run() -> None:
    assert compile_folder(ROOT / "schemas") == compile_folder(ROOT / "schemas")
