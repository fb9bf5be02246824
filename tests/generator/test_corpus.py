"""Real-world schemas: every corpus .avsc that fastavro accepts (with its folder) compiles,
imports, round-trips with fastavro and passes mypy --strict.

Each folder is compiled in one batch to a temporary package; mypy runs once over all batches.
"""

from __future__ import annotations

import csv
import importlib
import re
import shutil
import sys
from pathlib import Path

import pytest
from mypy import api

from generator.compiler import build_model
from generator.errors import GeneratorError
from generator.model import CompileModel
from generator.render import render
from generator.writer import write
from tests.generator.formatting_check import ruff_format_check
from tests.generator.roundtrip import check_round_trip, record_codecs

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parents[1] / "data/corpus/schemas"


def _deps(note: str) -> list[str]:
    marker = "(load order): "
    if marker not in note:
        return []
    listed = note.split(marker, 1)[1].split(" [", 1)[0]
    return [name.strip() for name in listed.split(",") if name.strip()]


def _accepted_by_folder() -> dict[str, list[list[str]]]:
    """Batches of corpus files per source folder (``group``): the whole folder, or, when
    the folder defines a name differently in two files (test data of several versions),
    each file with the dependencies fastavro needed to load it."""
    if not (CORPUS / "VALIDATION.tsv").is_file():
        return {}
    with (CORPUS / "SOURCES.tsv").open() as fh:
        groups = {row["local_path"]: row["group"] for row in csv.DictReader(fh, delimiter="\t")}
    files: dict[str, list[str]] = {}
    deps: dict[str, list[str]] = {}
    with (CORPUS / "VALIDATION.tsv").open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            path = row["local_path"]
            note = row.get("error") or ""
            # Files that load only when fastavro ignores a dependency's invalid default are
            # not "accepted"; gen-topics rejects that dependency on purpose.
            if not path.startswith("avro/") or row["parses_with_folder"] != "yes":
                continue
            if "_ignore_default_error" in note:
                continue
            files.setdefault(groups[path], []).append(path)
            folder = path.rsplit("/", 1)[0]
            deps[path] = [f"{folder}/{name}" for name in _deps(note)]
    out: dict[str, list[list[str]]] = {}
    for group, paths in sorted(files.items()):
        out[group] = [sorted(paths)] + [sorted({p, *deps[p]}) for p in sorted(paths)]
    return out


FOLDERS = _accepted_by_folder()


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("corpus")
    sys.path.insert(0, str(base))
    yield base
    sys.path.remove(str(base))


def _package(folder: str) -> str:
    return "corpus_" + re.sub(r"[^a-z0-9]+", "_", folder.lower()).strip("_")


def _compile(batch: list[str], schemas: Path) -> CompileModel:
    schemas.mkdir(parents=True)
    for rel in batch:
        shutil.copy(CORPUS / rel, schemas / Path(rel).name)
    return build_model(schemas)


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_corpus_folder_compiles_imports_and_round_trips(folder: str, batches: Path) -> None:
    whole, *single = FOLDERS[folder]
    package = _package(folder)
    try:
        plans = [(whole, _compile(whole, batches / "in" / package))]
    except GeneratorError as exc:
        # Only a name defined differently in two files may split a folder.
        assert all("defined differently" in p.message for p in exc.problems), str(exc)
        plans = [
            (batch, _compile(batch, batches / "in" / f"{package}_{i}"))
            for i, batch in enumerate(single)
        ]
    for index, (batch, model) in enumerate(plans):
        name = package if len(plans) == 1 else f"{package}_{index}"
        assert {nt.file for nt in model.registry.types.values()} <= {Path(b).name for b in batch}
        write(batches / name, render(model), clean=False)
        importlib.invalidate_caches()
        for fullname, py in model.names.items():
            module = importlib.import_module(".".join((name, *py.module)))
            assert hasattr(module, py.name) or model.registry.types[fullname].logical, fullname
        for _fullname, codec, text in record_codecs(model, name):
            check_round_trip(codec, text, examples=5)


def test_corpus_output_passes_mypy_strict(batches: Path) -> None:
    packages = [p.name for p in batches.iterdir() if p.name.startswith("corpus_")]
    if len(packages) < len(FOLDERS):
        pytest.skip("run together with the per-folder tests")
    args = ["--config-file", str(ROOT / "pyproject.toml"), "--strict"]
    args += [str(batches / name) for name in sorted(packages)]
    stdout, stderr, status = api.run([*args, "--cache-dir", str(batches / ".mypy_cache")])
    assert status == 0, stdout[-5000:] + stderr


def test_corpus_output_is_formatted_as_ruff_formats_it(batches: Path) -> None:
    packages = [p.name for p in batches.iterdir() if p.name.startswith("corpus_")]
    if len(packages) < len(FOLDERS):
        pytest.skip("run together with the per-folder tests")
    unformatted = ruff_format_check(*(batches / name for name in sorted(packages)))
    assert not unformatted, unformatted


def _rejected() -> list[str]:
    if not (CORPUS / "VALIDATION.tsv").is_file():
        return []
    with (CORPUS / "VALIDATION.tsv").open() as fh:
        return [
            row["local_path"]
            for row in csv.DictReader(fh, delimiter="\t")
            if row["local_path"].startswith("avro/") and row["parses_with_folder"] == "no"
        ]


@pytest.mark.parametrize("path", _rejected())
def test_invalid_corpus_files_are_rejected_with_their_location(path: str, tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    with (CORPUS / "SOURCES.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    group = next(r["group"] for r in rows if r["local_path"] == path)
    for row in rows:
        if row["group"] == group:
            shutil.copy(CORPUS / row["local_path"], schemas / Path(row["local_path"]).name)
    with pytest.raises(GeneratorError) as info:
        build_model(schemas)
    name = Path(path).name
    assert any(p.file.endswith(name) and p.line >= 1 for p in info.value.problems), str(info.value)
