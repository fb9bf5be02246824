"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit itself in a user's repository
configured as docs/ci.md shows.

pre-commit clones a copy of this repository (the hooks' repository, at a tag), builds the hooks'
environment (a virtualenv with gen-topics installed from that clone) and runs each hook as the
file declares it. Without an index or network here, the environment's pip installs gen-topics
itself only (``PIP_NO_DEPS``) and the dependencies come from this venv (``PYTHONPATH``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fresh_env import copy_sources, dependency_links, outside_env
from tests.paths import ROOT

BIN = Path(sys.executable).parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}
USER: dict[str, Any] = {
    "type": "record",
    "name": "User",
    "namespace": "acme.users",
    "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
}
DESCRIPTOR = """\
topics:
  users:
    key: string
    value: acme.users.User
    compatibility: BACKWARD
"""


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=outside_env(**GIT_IDENTITY),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _documented_config() -> dict[str, Any]:
    """The user's .pre-commit-config.yaml as docs/ci.md shows it."""
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    section = text[text.index("## pre-commit") :]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    config = next(yaml.safe_load(b) for b in blocks if b.lstrip().startswith("repos:"))
    assert isinstance(config, dict)
    return config


@dataclass(frozen=True)
class UserRepo:
    """A user's repository with schemas/, generated/ and the documented pre-commit config."""

    root: Path
    env: dict[str, str]

    def write_user(self, schema: dict[str, Any]) -> None:
        (self.root / "schemas" / "user.avsc").write_text(json.dumps(schema, indent=2) + "\n")

    def regenerate(self) -> None:
        done = subprocess.run(
            [str(BIN / "gen-topics"), "schemas/"], cwd=self.root, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr

    def pre_commit(self) -> subprocess.CompletedProcess[str]:
        """``pre-commit run`` on what is staged, as ``git commit`` runs it."""
        _git(self.root, "add", "-A")
        return subprocess.run(
            [str(BIN / "pre-commit"), "run", "--color", "never"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A clone-able copy of this repository's sources, tagged: (path, tag)."""
    repo = copy_sources(tmp_path_factory.mktemp("hooks") / "gen-topics")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "gen-topics")
    _git(repo, "tag", "v0.1.0")
    return repo, "v0.1.0"


@pytest.fixture
def user_repo(
    hooks_repo: tuple[Path, str], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UserRepo]:
    repo, tag = hooks_repo
    config = _documented_config()
    [entry] = config["repos"]
    assert [hook["id"] for hook in entry["hooks"]] == ["gen-topics-check", "gen-topics-compat"]
    entry.update(repo=str(repo), rev=tag)
    root = tmp_path / "user"
    (root / "schemas").mkdir(parents=True)
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "schemas" / "users.topic.yaml").write_text(DESCRIPTOR)
    deps = dependency_links(tmp_path / "deps")
    home = tmp_path_factory.getbasetemp() / "pre-commit-home"  # one hook env for the module
    env = outside_env(
        **GIT_IDENTITY,
        PRE_COMMIT_HOME=str(home),
        PYTHONPATH=str(deps),
        PIP_NO_INDEX="1",
        PIP_NO_DEPS="1",
        # pip's negative flags read inverted from the environment: "0" turns isolation off.
        PIP_NO_BUILD_ISOLATION="0",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VIRTUALENV_NO_PERIODIC_UPDATE="1",
        VIRTUALENV_NO_DOWNLOAD="1",
    )
    user = UserRepo(root, env)
    user.write_user(USER)
    user.regenerate()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "users v1")
    yield user


def test_hooks_pass_on_a_current_compatible_repository(user_repo: UserRepo) -> None:
    compatible = {
        **USER,
        "fields": [*USER["fields"], {"name": "email", "type": "string", "default": ""}],
    }
    user_repo.write_user(compatible)
    user_repo.regenerate()
    done = user_repo.pre_commit()
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"gen-topics generated code is up to date\.+Passed", done.stdout), done.stdout
    assert re.search(r"no breaking schema change against main\.+Passed", done.stdout), done.stdout


def test_check_hook_fails_on_a_stale_generated_folder(user_repo: UserRepo) -> None:
    compatible = {
        **USER,
        "fields": [*USER["fields"], {"name": "email", "type": "string", "default": ""}],
    }
    user_repo.write_user(compatible)  # and generated/ not regenerated
    done = user_repo.pre_commit()
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"gen-topics generated code is up to date\.+Failed", done.stdout), done.stdout
    assert "gen-topics: stale: generated/avro/acme/users/__init__.py" in done.stdout
    assert "generated is out of date; run: gen-topics schemas -o generated" in done.stdout
    assert re.search(r"no breaking schema change against main\.+Passed", done.stdout), done.stdout


def test_compat_hook_fails_on_a_breaking_change_naming_field_file_and_line(
    user_repo: UserRepo,
) -> None:
    breaking = {**USER, "fields": [*USER["fields"], {"name": "email", "type": "string"}]}
    user_repo.write_user(breaking)
    user_repo.regenerate()  # generated/ is current: only compat fails
    done = user_repo.pre_commit()
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"gen-topics generated code is up to date\.+Passed", done.stdout), done.stdout
    assert re.search(r"no breaking schema change against main\.+Failed", done.stdout), done.stdout
    # The new field without a default: its file and line (the third field opens on line 14).
    assert (
        "schemas/user.avsc:14: error: users-value: READER_FIELD_MISSING_DEFAULT_VALUE"
        " in record acme.users.User, field email: new field without a default" in done.stdout
    ), done.stdout
    assert "compat: 1 of 2 subjects incompatible (users-value)" in done.stdout
