"""pyright in strict mode accepts generated/ and every golden feature's output, accepts typed
usage of the generated package, and reports each deliberate type error at its line.

One pyright run checks everything (starting pyright costs seconds); the tests then read its
JSON report file by file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.compiler import compile_folder
from generator.writer import write
from tests.generator.typed_usage import BAD_LINES, bad_line_number, usage

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_INPUTS = Path(__file__).resolve().parent / "golden_inputs"
FEATURES = sorted(p.name for p in GOLDEN_INPUTS.iterdir() if p.is_dir())

Diagnostics = dict[str, list[dict[str, Any]]]


def _run_pyright(work: Path, targets: list[Path]) -> Diagnostics:
    """Errors per resolved file path, from one strict pyright run over ``targets``."""
    pytest.importorskip("pyright", reason="pyright is not installed: pip install -e '.[dev]'")
    config = work / "pyrightconfig.json"
    config.write_text(
        json.dumps(
            {
                "typeCheckingMode": "strict",
                "pythonVersion": "3.11",
                # gen_topics/ and generated/ resolve from the repository, like `pythonpath = .`.
                "extraPaths": [str(ROOT)],
            }
        )
    )
    command = [sys.executable, "-m", "pyright", "--outputjson", "--pythonpath", sys.executable]
    done = subprocess.run(
        [*command, "--project", str(config), *map(str, targets)],
        capture_output=True,
        text=True,
        # The first run downloads pyright's npm package (into ~/.cache/pyright-python).
        timeout=240,
        check=False,
        # No version check against PyPI on every run.
        env={**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"},
    )
    try:
        # Only the JSON report: the wrapper may print install progress before it.
        report = json.loads(done.stdout[done.stdout.index("{") :])
    except ValueError:
        # The pyright wrapper fetches its npm package on first use; without it nothing runs.
        pytest.skip(f"pyright could not run (npm package unavailable?): {done.stderr[-500:]}")
    errors: Diagnostics = {}
    for diag in report["generalDiagnostics"]:
        if diag["severity"] == "error":
            errors.setdefault(str(Path(diag["file"]).resolve()), []).append(diag)
    assert report["summary"]["filesAnalyzed"] > 0, done.stdout
    return errors


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Diagnostics]:
    """The work folder (golden outputs, usage files) and pyright's errors for all of it."""
    work = tmp_path_factory.mktemp("pyright")
    for feature in FEATURES:
        write(work / f"golden_{feature}", compile_folder(GOLDEN_INPUTS / feature), clean=False)
    (work / "usage_ok.py").write_text(usage())
    for case in BAD_LINES:
        (work / f"usage_{case.replace('-', '_')}.py").write_text(usage(case))
    targets = [ROOT / "generated", *sorted(work.glob("golden_*")), *sorted(work.glob("usage_*"))]
    return work, _run_pyright(work, targets)


def _messages(errors: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{Path(e['file']).name}:{e['range']['start']['line'] + 1}: {e['message']}" for e in errors
    )


def _errors_under(errors: Diagnostics, folder: Path) -> list[dict[str, Any]]:
    prefix = str(folder.resolve())
    return [e for path, found in errors.items() if path.startswith(prefix) for e in found]


def test_generated_package_passes_pyright_strict(checked: tuple[Path, Diagnostics]) -> None:
    _, errors = checked
    found = _errors_under(errors, ROOT / "generated")
    assert not found, _messages(found)


@pytest.mark.parametrize("feature", FEATURES)
def test_golden_feature_output_passes_pyright_strict(
    checked: tuple[Path, Diagnostics], feature: str
) -> None:
    work, errors = checked
    found = _errors_under(errors, work / f"golden_{feature}")
    assert not found, _messages(found)


def test_typed_usage_passes_pyright_strict(checked: tuple[Path, Diagnostics]) -> None:
    work, errors = checked
    found = errors.get(str((work / "usage_ok.py").resolve()), [])
    assert not found, _messages(found)


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_pyright_reports_the_wrong_type(checked: tuple[Path, Diagnostics], case: str) -> None:
    work, errors = checked
    found = errors.get(str((work / f"usage_{case.replace('-', '_')}.py").resolve()), [])
    assert [e["range"]["start"]["line"] + 1 for e in found] == [bad_line_number(case)], _messages(
        found
    )
