"""gen-topics as a user installs it: a non-editable install into a fresh virtual environment,
used from a separate project that has its own ``runtime.py`` and ``templates/``.

Building a venv with every dependency from an index would take minutes and the network, so
the fresh venv reaches the dependencies already installed in this one through a ``.pth``
file (a folder of links to them, without this checkout's editable gen-topics), and the
project itself is installed with ``pip install --no-deps --no-build-isolation`` from a clean
copy of its sources: a wheel built and installed as ``pip install gen-topics`` installs it.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fresh_env import copy_sources, dependency_links, outside_env
from tests.paths import ROOT

# A user project's own top-level modules, named like what gen-topics must never install or
# import: importing either of them fails loudly.
USER_RUNTIME = 'raise ImportError("the project\'s own runtime.py was imported")\n'
USER_TEMPLATE = "{{ this is the project's own template, not gen-topics' }"
SERVICE = """\
import asyncio
import importlib
import pkgutil
import sys

import gen_topics
import generated

# Every generated module imports; none pulls in the code generator or a generic name.
for module in pkgutil.walk_packages(generated.__path__, "generated."):
    importlib.import_module(module.name)
leaked = sorted({"generator", "runtime", "templates"} & set(sys.modules))
assert not leaked, f"generated code imported {leaked}"
print("gen_topics from", gen_topics.__file__)

sys.path.insert(0, "examples")
import demo  # noqa: E402

sys.exit(asyncio.run(demo.run(timeout=60)))
"""


@dataclass(frozen=True)
class FreshVenv:
    """A virtual environment holding gen-topics installed from a clean copy of its sources."""

    root: Path
    python: Path
    site_packages: Path

    def run(
        self, *argv: str | Path, cwd: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` with this venv's bin/ first on PATH, no PYTHONPATH, and no Kafka (the
        demo then runs on memory://)."""
        path = f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = outside_env(PATH=path, VIRTUAL_ENV=str(self.root))
        return subprocess.run(
            [str(a) for a in argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    """gen-topics installed non-editable into a new venv that sees no checkout."""
    work = tmp_path_factory.mktemp("install")
    source = copy_sources(work / "source")
    root = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site_dir = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    site_packages = Path(site_dir)
    deps = dependency_links(work / "deps")
    (site_packages / "_test_dependencies.pth").write_text(f"{deps}\n")
    # pip puts ruff's program (the formatter gen-topics runs) into the venv's scripts folder.
    (root / "bin" / "ruff").symlink_to(Path(sysconfig.get_path("scripts")) / "ruff")
    venv = FreshVenv(root, python, site_packages)
    installed = venv.run(
        python,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--disable-pip-version-check",
        "-q",
        source,
        cwd=work,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv


@pytest.fixture(scope="module")
def user_project(fresh_venv: FreshVenv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the example schemas, its own runtime.py and templates/, compiled by the
    installed ``gen-topics`` into its generated/."""
    project = tmp_path_factory.mktemp("user-project")
    shutil.copytree(ROOT / "schemas", project / "schemas")
    (project / "examples").mkdir()
    shutil.copy2(ROOT / "examples" / "demo.py", project / "examples" / "demo.py")
    (project / "runtime.py").write_text(USER_RUNTIME)
    (project / "templates").mkdir()
    (project / "templates" / "__init__.py").write_text("")
    for name in ("topic_module.py.j2", "header.py.j2", "package_init.py.j2"):
        (project / "templates" / name).write_text(USER_TEMPLATE)
    (project / "service.py").write_text(SERVICE)
    done = fresh_venv.run("gen-topics", "schemas/", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return project


def test_installed_package_is_importable_from_the_fresh_venv(fresh_venv: FreshVenv) -> None:
    done = fresh_venv.run(
        fresh_venv.python,
        "-c",
        "import gen_topics, generator.cli; print(gen_topics.__file__); print(generator.__file__)",
        cwd=fresh_venv.root,
    )
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        assert Path(line).is_relative_to(fresh_venv.site_packages), line


def test_installed_top_level_names_are_distinctive(fresh_venv: FreshVenv) -> None:
    """A user's own runtime.py, utils/ or templates/ must never shadow or be shadowed by ours."""
    top_level = {
        entry.name
        for entry in fresh_venv.site_packages.iterdir()
        if not entry.name.endswith((".dist-info", ".pth")) and entry.name != "__pycache__"
    }
    assert top_level == {"gen_topics", "generator"}
    assert (fresh_venv.site_packages / "generator" / "templates" / "topic_module.py.j2").is_file()
    assert (fresh_venv.site_packages / "gen_topics" / "py.typed").is_file()


def _declared_imports() -> set[str]:
    """Import names of what a user gets with ``pip install 'gen-topics[json]'``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["json"]]
    return {
        re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("-", "_") for r in requirements
    }


def test_generated_code_imports_only_the_runtime_package(user_project: Path) -> None:
    # Whatever generated code imports must be declared, not arrive by chance through a
    # dependency's dependency.
    third_party = {"gen_topics", *_declared_imports()}
    assert {"fastavro", "pydantic", "typing_extensions"} <= third_party
    allowed = {"__future__", *third_party, *sys.stdlib_module_names}
    found: set[str] = set()
    for path in sorted((user_project / "generated").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    assert "gen_topics" in found
    assert found <= allowed, found - allowed


def test_generated_topics_send_and_read_beside_the_projects_own_runtime_module(
    fresh_venv: FreshVenv, user_project: Path
) -> None:
    done = fresh_venv.run(fresh_venv.python, "service.py", cwd=user_project, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    origin = next(line for line in done.stdout.splitlines() if line.startswith("gen_topics from"))
    assert Path(origin.split(" ", 2)[2]).is_relative_to(fresh_venv.site_packages)
    # The demo's verdict: every typed order, the customer and its tombstone read back equal.
    assert "broker memory://" in done.stdout, done.stdout
    assert "received OrderPlaced" in done.stdout, done.stdout
    assert "typed round trip ok" in done.stdout, done.stdout


def test_generated_code_passes_mypy_strict_in_the_user_project(
    fresh_venv: FreshVenv, user_project: Path
) -> None:
    cache = user_project.parent / f"{user_project.name}-mypy-cache"
    done = fresh_venv.run(
        fresh_venv.python,
        "-m",
        "mypy",
        "--strict",
        "--cache-dir",
        cache,
        "generated",
        "examples/demo.py",
        cwd=user_project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout
