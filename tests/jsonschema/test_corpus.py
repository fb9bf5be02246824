"""The real-world JSON Schema corpus (tests/data/corpus/schemas/jsonschema) compiles.

Every file the ``jsonschema`` package accepts together with its folder (VALIDATION.tsv)
is resolved, rendered in one batch per schema set, imported, and type-checked by one
``mypy --strict`` run over all sets. Files that cannot compile are listed in
``EXPECTED_FAILURES`` with the error, as xfail.
"""

from __future__ import annotations

import csv
import importlib
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.jsonschema import JsonSchemaCompiler, JsonSchemaError, JsonType
from tests.jsonschema.conftest import REPO, write_package

CORPUS = Path(__file__).resolve().parents[1] / "data/corpus/schemas"

# Not datamodel-code-generator failures: our compiler rejects a closure with a dangling
# reference. child.json's "#missing" is deliberately dangling (see the corpus README);
# the jsonschema package only notices when an instance reaches it.
_CIRCULAR = (
    "koxudaxi__datamodel-code-generator/"
    "tests__data__jsonschema__circular_ref_external_relative_keywords"
)
_DANGLING = "$ref '#missing': defs/nested/child.json has no 'missing'"
EXPECTED_FAILURES = {
    f"{_CIRCULAR}/root.json": _DANGLING,
    f"{_CIRCULAR}/defs/context.json": _DANGLING,
}


def _accepted() -> dict[Path, list[Path]]:
    """Schema set root -> the files ``jsonschema`` accepts with their folder loaded."""
    sets: dict[Path, list[Path]] = {}
    if not (CORPUS / "VALIDATION.tsv").is_file():
        return sets
    with (CORPUS / "VALIDATION.tsv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or not row[0].startswith("jsonschema/") or row[2] != "yes":
                continue
            relative = Path(row[0]).relative_to("jsonschema")
            root = CORPUS / "jsonschema" / relative.parts[0] / relative.parts[1]
            sets.setdefault(root, []).append(CORPUS / row[0])
    return sets


SETS = _accepted()


def _key(path: Path) -> str:
    return path.relative_to(CORPUS / "jsonschema").as_posix()


def _compile(
    root: Path, files: list[Path], *, skip_expected: bool = True
) -> tuple[dict[str, str], dict[str, JsonType]]:
    compiler = JsonSchemaCompiler(root)
    resolved = {}
    for path in files:
        if skip_expected and _key(path) in EXPECTED_FAILURES:
            continue
        resolved[_key(path)] = compiler.resolve(
            path.relative_to(root).as_posix(), root / "corpus.topic.yaml", 1
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropped constraints / invalid defaults are reported
        return compiler.render(), resolved


@pytest.fixture(scope="module")
def compiled(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, tuple[str, JsonType]]]]:
    """Every set rendered into its own package under one folder on sys.path."""
    folder = tmp_path_factory.mktemp("corpus")
    types: dict[str, tuple[str, JsonType]] = {}
    for number, (root, files) in enumerate(sorted(SETS.items())):
        package = f"corpus_set_{number}"
        rendered, resolved = _compile(root, files)
        write_package(rendered, folder, package)
        types.update({key: (package, json_type) for key, json_type in resolved.items()})
    sys.path.insert(0, str(folder))
    try:
        yield folder, types
    finally:
        sys.path.remove(str(folder))


ALL_FILES = sorted((_key(path), path) for files in SETS.values() for path in files)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(
            key,
            marks=pytest.mark.xfail(reason=EXPECTED_FAILURES[key], strict=True)
            if key in EXPECTED_FAILURES
            else (),
            id=key,
        )
        for key, _ in ALL_FILES
    ],
)
def test_corpus_file_compiles_and_imports(
    key: str, compiled: tuple[Path, dict[str, tuple[str, JsonType]]]
) -> None:
    if key in EXPECTED_FAILURES:
        path = CORPUS / "jsonschema" / key
        root = next(r for r, files in SETS.items() if path in files)
        _compile(root, [path], skip_expected=False)  # raises the listed error
        return
    package, json_type = compiled[1][key]
    module = importlib.import_module(f"{package}.{json_type.module}")
    root_type = getattr(module, json_type.class_name)
    assert root_type is not None
    assert json_type.schema_text == (CORPUS / "jsonschema" / key).read_text(encoding="utf-8")


def test_expected_failures_fail_with_the_listed_error() -> None:
    for key, message in EXPECTED_FAILURES.items():
        path = CORPUS / "jsonschema" / key
        root = next(r for r, files in SETS.items() if path in files)
        with pytest.raises(JsonSchemaError, match=re.escape(message)):
            _compile(root, [path], skip_expected=False)


def test_dangling_anchor_file_is_rejected_with_its_line() -> None:
    root = CORPUS / "jsonschema" / _CIRCULAR
    with pytest.raises(JsonSchemaError) as caught:
        JsonSchemaCompiler(root).resolve("defs/nested/child.json", root / "t.topic.yaml", 1)
    assert caught.value.path == root / "defs/nested/child.json"
    assert caught.value.line == 7


def test_whole_corpus_passes_mypy_strict(
    compiled: tuple[Path, dict[str, tuple[str, JsonType]]],
) -> None:
    folder = compiled[0]
    packages = sorted(p.name for p in folder.iterdir() if p.name.startswith("corpus_set_"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir=/dev/null",
            "--config-file",
            str(REPO / "pyproject.toml"),
            *packages,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPYPATH": str(REPO)},  # generated models import gen_topics
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert "Success: no issues found" in run.stdout
