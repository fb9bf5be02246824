"""Helpers for tests that install gen-topics the way a user does, without an index or network.

A fresh environment (a new venv, or the one pre-commit builds for a hook) reaches the
dependencies already installed in this one through :func:`dependency_links`: a folder of
links to every installed distribution except this checkout's editable gen-topics.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

from tests.paths import ROOT

#: What a wheel is built from; nothing else of the checkout may reach an install.
SOURCES = (
    "gen_topics",
    "generator",
    "templates",
    "pyproject.toml",
    "setup.py",
    "README.md",
    ".pre-commit-hooks.yaml",
)


def dependency_links(target: Path) -> Path:
    """``target``: links to this venv's installed distributions, minus gen-topics itself."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    target.mkdir()
    for entry in purelib.iterdir():
        name = entry.name
        if name.startswith(("gen_topics", "__editable__")) or name.endswith(".pth"):
            continue
        (target / name).symlink_to(entry)
    return target


def copy_sources(target: Path) -> Path:
    """A clean copy of what the project is built from (no build/, caches or egg-info)."""
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, target / name, ignore=ignore)
        else:
            shutil.copy2(path, target / name)
    return target


def outside_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would point a child at this checkout or at
    the test services (PYTHONPATH, PYTHONHOME, KAFKA_BOOTSTRAP_SERVERS), plus ``extra``."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "KAFKA_BOOTSTRAP_SERVERS", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return env
