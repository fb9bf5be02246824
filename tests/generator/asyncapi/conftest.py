"""AsyncAPI's own parser (``@asyncapi/parser`` 3.x with its Avro schema parser), installed from
the npm registry by ``npm ci`` from tests/asyncapi_parser/package-lock.json on first use and
cached in ``~/.cache/gen-topics/asyncapi-parser/<lock hash>``; run with the machine's Node.js.
Tests that need it are skipped, saying why, only where Node.js is not installed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PARSER_PROJECT = Path(__file__).resolve().parents[2] / "asyncapi_parser"
_FILES = ("package.json", "package-lock.json", "validate.mjs")

Validate = Callable[[list[Path]], dict[str, Any]]


def _cache_dir() -> Path:
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update((PARSER_PROJECT / name).read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "gen-topics" / "asyncapi-parser" / digest.hexdigest()[:16]


def _install(target: Path, npm: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=target.parent))
    try:
        for name in _FILES:
            shutil.copy(PARSER_PROJECT / name, staging / name)
        done = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"npm ci of the AsyncAPI parser failed:\n{done.stderr[-3000:]}"
        try:
            staging.rename(target)
        except OSError:
            if not (target / "node_modules").is_dir():  # not another run's finished install
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="session")
def asyncapi_validate() -> Validate:
    """``validate([doc, ...])`` -> ``{path: {parsed, channels, diagnostics}}`` from AsyncAPI's
    parser (diagnostic severity: 0 error, 1 warning, 2 information, 3 hint)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: AsyncAPI's parser (npm) cannot run")
    npm = shutil.which("npm")
    assert npm is not None, "Node.js is installed without npm: install npm to fetch the parser"
    target = _cache_dir()
    if not (target / "node_modules" / "@asyncapi" / "parser").is_dir():
        _install(target, npm)

    def validate(paths: list[Path]) -> dict[str, Any]:
        done = subprocess.run(
            [node, str(target / "validate.mjs"), *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    return validate


def problems_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors and warnings of one document's parser result (not information or hints)."""
    return [d for d in result["diagnostics"] if d["severity"] <= 1]
