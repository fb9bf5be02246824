"""Fetch the services' artifacts from Maven Central with Maven, once, into a versioned cache.

Layout under the cache root (``$GEN_TOPICS_CACHE``, else ``$XDG_CACHE_HOME/gen-topics``, else
``~/.cache/gen-topics``)::

    kafka-4.4.0/libs/*.jar            broker classpath (scripts/kafka-pom.xml, runtime scope)
    apicurio-3.3.3/quarkus-run.jar    the unpacked apicurio-registry-app tar.gz "all" layout

Each entry is built in a temporary sibling directory and renamed into place when complete, so an
interrupted fetch never leaves a half-filled entry; a file lock serialises concurrent fetches
(several test sessions may start at once).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.errors import FetchError, ToolMissingError

POM = Path(__file__).resolve().parent / "kafka-pom.xml"
MAVEN_TIMEOUT_S = 900


def cache_root() -> Path:
    """Return the directory that holds the fetched artifacts."""
    explicit = os.environ.get("GEN_TOPICS_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "gen-topics"


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mvn(args: list[str], *, what: str) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolMissingError(
            f"Maven (`mvn`) is needed to fetch {what} from Maven Central but is not on PATH. "
            "Install it (`apt-get install maven`, or run scripts/bootstrap.sh)."
        )
    argv = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(POM), *args]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise FetchError(f"Maven took more than {MAVEN_TIMEOUT_S}s fetching {what}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise FetchError(
            f"Maven failed (exit {done.returncode}) fetching {what}.\n"
            f"command: {' '.join(argv)}\n--- maven output (tail) ---\n{tail}"
        )


def _cached(entry: Path, build: Callable[[Path], None]) -> Path:
    """Return *entry*, building it with ``build(tmp_dir)`` first if it does not exist."""
    if entry.is_dir():
        return entry
    with _locked(entry.parent):
        if entry.is_dir():
            return entry
        staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
        try:
            build(staging)
            staging.rename(entry)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return entry


def kafka_libs(version: str) -> Path:
    """Return the directory of jars that run an Apache Kafka *version* broker (fetched once)."""

    def build(staging: Path) -> None:
        libs = staging / "libs"
        _mvn(
            [
                "dependency:copy-dependencies",
                f"-Dkafka.version={version}",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={libs}",
            ],
            what=f"Apache Kafka {version} (org.apache.kafka:kafka_2.13)",
        )
        if not (libs / f"kafka_2.13-{version}.jar").is_file():
            raise FetchError(f"Maven ran but {libs} has no kafka_2.13-{version}.jar")

    return _cached(cache_root() / f"kafka-{version}", build) / "libs"


def apicurio_home(version: str) -> Path:
    """Return the unpacked Apicurio Registry *version* app (holds quarkus-run.jar; fetched once)."""
    coordinate = f"io.apicurio:apicurio-registry-app:{version}:tar.gz:all"

    def build(staging: Path) -> None:
        download = staging / "download"
        _mvn(
            ["dependency:copy", f"-Dartifact={coordinate}", f"-DoutputDirectory={download}"],
            what=f"Apicurio Registry {version} ({coordinate})",
        )
        archives = list(download.glob("*.tar.gz"))
        if len(archives) != 1:
            raise FetchError(f"expected one tar.gz from {coordinate} in {download}, got {archives}")
        with tarfile.open(archives[0]) as archive:
            archive.extractall(staging, filter="data")
        shutil.rmtree(download)
        if not (staging / "quarkus-run.jar").is_file():
            raise FetchError(f"{coordinate} unpacked without quarkus-run.jar at its top level")

    return _cached(cache_root() / f"apicurio-{version}", build)
