"""Find a Java runtime of at least a given major version.

Kafka 4.x brokers need Java 17; Apicurio Registry 3.3 is compiled for Java 21. The default
``java`` may be older than a service needs while a newer JDK sits beside it in /usr/lib/jvm,
so every known location is considered, not only ``PATH``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from scripts.errors import ToolMissingError

_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


@functools.cache
def java_major(java: Path) -> int | None:
    """Return the major version of the ``java`` executable at *java*, or None if it does not run."""
    try:
        done = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(done.stderr + done.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major


def _candidates() -> list[Path]:
    found: list[Path] = []
    for home_var in ("GEN_TOPICS_JAVA_HOME", "JAVA_HOME"):
        home = os.environ.get(home_var)
        if home:
            found.append(Path(home) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        found.append(Path(on_path))
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        found.extend(sorted(jvm_root.glob("*/bin/java")))
    unique: list[Path] = []
    for path in found:
        if path.is_file() and path not in unique:
            unique.append(path)
    return unique


def find_java(min_major: int, *, purpose: str) -> Path:
    """Return the first ``java`` (env, PATH, then /usr/lib/jvm) whose major version >= *min_major*.

    Raises ToolMissingError naming *purpose* and the versions that were found.
    """
    seen: list[str] = []
    for java in _candidates():
        major = java_major(java)
        seen.append(f"{java} ({major if major is not None else 'does not run'})")
        if major is not None and major >= min_major:
            return java
    where = "; ".join(seen) if seen else "no java found on PATH, JAVA_HOME or /usr/lib/jvm"
    raise ToolMissingError(
        f"{purpose} needs Java {min_major} or newer. Found: {where}. Install a JDK "
        f"(e.g. `apt-get install openjdk-{min_major}-jre-headless`, or run scripts/bootstrap.sh) "
        f"or set GEN_TOPICS_JAVA_HOME to one."
    )
