"""``pip install gen-topics`` without the ``codegen`` extra: the command says what to install.

The missing module is made missing for real in a child process: a ``sitecustomize`` on
``PYTHONPATH`` puts a finder first on ``sys.meta_path`` that refuses it, as an environment
without the package would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

BLOCKER = """\
import sys

class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {module!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Missing())
"""


def _run(module: str, args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER.format(module=module), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import sys; from generator.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("module", ["yaml", "jinja2", "datamodel_code_generator"])
@pytest.mark.parametrize("check", [False, True])
def test_a_missing_codegen_module_is_one_line_and_exit_2(
    module: str, check: bool, tmp_path: Path
) -> None:
    out = tmp_path / "generated"
    done = _run(module, [str(ROOT / "schemas"), "-o", str(out)] + ["--check"] * check, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [
        f"gen-topics: error: the code generator needs the Python module {module!r} "
        f"({'PyYAML' if module == 'yaml' else module.replace('_', '-')}), which is not "
        "installed; install it with: pip install 'gen-topics[codegen]'"
    ]
    assert not out.exists()


def test_a_subcommand_names_itself_and_the_install(tmp_path: Path) -> None:
    done = _run("yaml", ["asyncapi", "--help"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("gen-topics asyncapi: error: the code generator needs")
    assert "pip install 'gen-topics[codegen]'" in done.stderr


def test_an_unrelated_missing_module_is_not_blamed_on_the_extra(tmp_path: Path) -> None:
    # fastavro is a run-time dependency: its absence is a broken install, shown as it is.
    done = _run("fastavro", [str(ROOT / "schemas"), "-o", str(tmp_path / "g")], tmp_path)
    assert done.returncode == 1 and "ModuleNotFoundError: No module named 'fastavro'" in done.stderr


@pytest.mark.parametrize("spelling", [["--format", "json"], ["--format=json"]])
def test_json_output_gets_the_error_as_json(spelling: list[str], tmp_path: Path) -> None:
    done = _run("jinja2", [str(ROOT / "schemas"), "--check", *spelling], tmp_path)
    assert done.returncode == 2, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["ok"] is False and len(verdict["errors"]) == 1
    assert verdict["errors"][0]["message"].startswith("the code generator needs the Python module")
    assert "pip install 'gen-topics[codegen]'" in done.stderr  # people read stderr still


def test_github_output_gets_the_error_as_an_annotation(tmp_path: Path) -> None:
    done = _run("yaml", [str(ROOT / "schemas"), "--format", "github"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout.startswith("::error title=gen-topics::the code generator needs")
    assert done.stdout.count("\n") == 1
