"""``compat --against URL``: a malformed registry URL is bad input (exit 2), and the error
never shows the credentials written in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

EXE = str(Path(sys.executable).parent / "gen-topics")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://u:hunter2@127.0.0.1:notaport/x", "Port could not be cast to integer"),
        ("http://u:hunter2@127.0.0.1:99999/x", "Port out of range"),
        ("http://u:hunter2@[::1/x", "Invalid IPv6 URL"),
        ("http://u:hunter2@/apis/ccompat/v7", "it names no host"),
        ("https://", "it names no host"),
    ],
)
def test_malformed_registry_url_exits_2_without_the_secret(url: str, says: str) -> None:
    done = subprocess.run(
        [EXE, "compat", str(ROOT / "schemas"), "--against", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    assert "is not a valid registry URL" in output and says in output, output
    assert "hunter2" not in output, output
    if "@" in url:
        assert "***@" in output, output


@pytest.mark.parametrize("command", ["push", "pull"])
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://u:hunter2@127.0.0.1:notaport/x", "Port could not be cast to integer"),
        ("http://u:hunter2@/apis/ccompat/v7", "it names no host"),
        ("ftp://u:hunter2@127.0.0.1/x", "http(s) scheme"),
    ],
)
def test_push_and_pull_refuse_a_malformed_registry_url(command: str, url: str, says: str) -> None:
    target = ["-o", "out"] if command == "pull" else []
    argv = [EXE, command, *([str(ROOT / "schemas")] if command == "push" else []), *target]
    done = subprocess.run(
        [*argv, "--registry", url], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    assert "is not a valid registry URL" in output and says in output, output
    assert "hunter2" not in output, output
