"""The bad-input corpus (tests/data/bad_inputs/): every case through the gen-topics command.

Each case is a schemas folder with a ``case.toml``: ``expect = "error"`` cases must exit 2
with every listed ``file:line`` and message, no traceback, and the output folder, holding
a previous generation, unchanged to the byte; ``expect = "valid"`` cases (inputs that used
to be mishandled but are valid) must compile, and every generated module must import.
What git cannot hold portably (symbolic links, empty folders) is listed in the case and
made in the temporary copy; a case's ``_outside/`` folder is placed beside its copy.
"""

from __future__ import annotations

import importlib
import os
import resource
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from tests.generator.roundtrip import check_round_trip

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.toml").is_file())


def _case(name: str) -> dict[str, Any]:
    return tomllib.loads((CORPUS / name / "case.toml").read_text(encoding="utf-8"))


def _by_expectation(expect: str, *, isolated: bool | None = None) -> list[str]:
    return [
        name
        for name in CASES
        if _case(name)["expect"] == expect
        and (isolated is None or bool(_case(name).get("isolate")) == isolated)
    ]


def _lay_out(name: str, base: Path) -> Path:
    """Copy case ``name`` under ``base``; return the schemas folder to compile."""
    source = CORPUS / name
    root = base / "schemas"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("_outside"), symlinks=True)
    if (source / "_outside").is_dir():
        shutil.copytree(source / "_outside", base / "outside")
    case = _case(name)
    for folder in case.get("folders", []):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for link, target in case.get("links", {}).items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)
    return root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def previous_generation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output of the repository's schemas/: what a failed run must leave alone."""
    out = tmp_path_factory.mktemp("previous") / "generated"
    assert main([str(ROOT / "schemas"), "-o", str(out)]) == 0
    return out


def _expected(name: str) -> list[tuple[str, str]]:
    return [(e["at"], e["says"]) for e in _case(name).get("error", [])]


def test_the_corpus_covers_every_class() -> None:
    invalid, valid = _by_expectation("error"), _by_expectation("valid")
    assert len(invalid) >= 60 and len(valid) >= 8, (len(invalid), len(valid))
    for name in invalid:
        assert _expected(name), f"{name}: an error case must list its errors"


@pytest.mark.parametrize("name", _by_expectation("error", isolated=False))
def test_bad_input_exits_2_naming_the_place_and_leaves_output_alone(
    name: str,
    tmp_path: Path,
    previous_generation: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _lay_out(name, tmp_path)
    out = tmp_path / "out" / "generated"
    shutil.copytree(previous_generation, out)
    before = _snapshot(tmp_path / "out")
    status = main([str(root), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err, err
    for at, says in _expected(name):
        lines = [line for line in err.splitlines() if line.startswith(f"{root.as_posix()}/{at}")]
        assert lines, f"no problem at {at}:\n{err}"
        assert any(says in line for line in lines), f"{at} does not say {says!r}:\n{err}"
    assert _snapshot(tmp_path / "out") == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["generated"]


def _limit_memory() -> None:
    # A regression must fail this test, not take the machine's memory (the bomb: 5 GB+).
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("name", _by_expectation("error", isolated=True))
def test_dangerous_input_is_refused_by_the_command_quickly(
    name: str, tmp_path: Path, previous_generation: Path
) -> None:
    root = _lay_out(name, tmp_path)
    out = tmp_path / "out" / "generated"
    shutil.copytree(previous_generation, out)
    before = _snapshot(out)
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gen-topics"), str(root), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    for at, says in _expected(name):
        assert f"{root.as_posix()}/{at}: error: " in done.stderr, done.stderr
        assert says in done.stderr, done.stderr
    assert _snapshot(out) == before


@pytest.fixture
def on_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.parametrize("name", _by_expectation("valid"))
def test_valid_input_compiles_and_every_module_imports(
    name: str, tmp_path: Path, on_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _lay_out(name, tmp_path / "case")
    package = "corpus_" + name.replace("-", "_")
    out = on_path / package
    assert main([str(root), "-o", str(out)]) == 0, capsys.readouterr().err
    assert main([str(root), "-o", str(out), "--check"]) == 0, capsys.readouterr().err
    modules = sorted(
        ".".join((package, *p.relative_to(out).with_suffix("").parts)).removesuffix(".__init__")
        for p in out.rglob("*.py")
    )
    assert len(modules) >= 2, modules
    for module in modules:
        importlib.import_module(module)
    for path in sorted(out.glob("[!_]*.py")):
        topic = importlib.import_module(f"{package}.{path.stem}")
        for codec in (topic.KEY_CODEC, topic.VALUE_CODEC):
            if getattr(codec, "schema_type", None) == "AVRO":
                # fastavro's bytes decode and re-encode to the same bytes (a big fixed too).
                check_round_trip(codec, codec.schema_text, examples=10)
