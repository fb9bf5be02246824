"""The project's own code passes `ruff check`, `ruff format` and `mypy --strict` (the
configuration in pyproject.toml), so a lint or typing regression fails the test suite, not
only `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_check_passes() -> None:
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes() -> None:
    # A private cache dir: a stale shared cache must not hide a new error.
    result = _run(sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache" / "suite"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_examples_pass_mypy_strict() -> None:
    # examples/ is no package, so the configured package list cannot name it.
    cache = str(ROOT / ".mypy_cache" / "suite")
    examples = ["examples/demo.py", "examples/billing_service.py"]
    result = _run(sys.executable, "-m", "mypy", "--cache-dir", cache, *examples)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_test_reads_outside_the_repository() -> None:
    # A clone with nothing beside it must run every test: the conformance data lives in tests/data.
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        # Spelled in pieces, so this file does not match its own search.
        for needle in (".." + "/shared", "/ " + '"shared"', "/" + "work/", "parents" + "[3]"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_ruff_format_leaves_the_python_code_as_it_is() -> None:
    # Markdown is left out: its code blocks are examples laid out for reading.
    result = _run(str(BIN / "ruff"), "format", "--check", "--exclude", "*.md", ".")
    assert result.returncode == 0, result.stdout + result.stderr
