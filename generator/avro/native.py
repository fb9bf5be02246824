"""Compile a generated package's Avro codec with mypyc: the optional fast path.

``python -m generator.avro.native generated/`` builds
``generated/_avro_codec_native.<platform tag>.so`` from ``generated/_avro_codec.py``.
The Python module then uses the compiled functions when they were built from its own
text (``CODE_DIGEST``) and falls back to itself otherwise: a machine without the compiled
file (no compiler, another Python version or platform, a stale build) runs the pure-Python
codec, with identical bytes and objects.

Building needs mypy (which ships mypyc), setuptools, a C compiler and the Python headers:
the build machine's, never the user's at install or import time.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from generator.avro.codec_code import CODEC_MODULE

NATIVE_MODULE = f"{CODEC_MODULE}_native"


_SETUP = """
from mypyc.build import mypycify
from setuptools import setup

setup(
    name="gen-topics-native-codec",
    ext_modules=mypycify(
        [*{sources!r}, "--config-file", {config!r}, "--cache-dir", {cache!r}],
        target_dir={target!r},
        opt_level={opt!r},
        separate=True,
    ),
    script_args=["build_ext", "--inplace", "--build-temp", {build!r}, "-j", {jobs!r}],
)
"""


class NativeBuildError(RuntimeError):
    """mypyc or the C compiler failed, or is not installed."""


def native_files(package: Path) -> list[Path]:
    """The compiled codec files in ``package``, for any Python version or platform: the
    module and mypyc's run-time library beside it (``_avro_codec_native__mypyc``)."""
    return sorted(p for p in package.glob(f"{NATIVE_MODULE}*") if p.suffix in (".so", ".pyd"))


def build(*packages: Path, opt_level: str = "3", jobs: int = 1) -> list[Path]:
    """Compile ``<package>/_avro_codec.py`` of each package into
    ``<package>/_avro_codec_native.*.so`` (one mypyc run; each package its own module).

    Each package must be importable from its parent directory (as ``gen-topics`` writes
    it); all must share that parent. ``opt_level`` is the C compiler's (``"0"`` builds
    fastest, for tests); ``jobs`` compiles that many C files in parallel. Returns the
    compiled modules; raises :class:`NativeBuildError` on failure.
    """
    resolved = [p.resolve() for p in packages]
    if not resolved:
        return []
    parent = resolved[0].parent
    if any(p.parent != parent for p in resolved):
        raise NativeBuildError("packages built together must share one parent folder")
    for package in resolved:
        if not (package / f"{CODEC_MODULE}.py").is_file():
            raise NativeBuildError(f"{package / CODEC_MODULE}.py: not found; run gen-topics first")
    try:
        import mypyc  # noqa: F401
    except ImportError as exc:
        raise NativeBuildError("mypyc is not installed: pip install 'gen-topics[native]'") from exc
    copies = [package / f"{NATIVE_MODULE}.py" for package in resolved]
    with tempfile.TemporaryDirectory(prefix="gen-topics-native-") as work:
        temp = Path(work)
        # mypyc and setuptools write only below the temporary folder (C sources, objects,
        # mypy's cache); only the compiled modules land in the packages. gen_topics only
        # provides fallbacks here: it is not analysed (that would take seconds).
        (temp / "mypy.ini").write_text(
            "[mypy]\nignore_missing_imports = True\n[mypy-gen_topics.*]\nfollow_imports = skip\n"
        )
        script = _SETUP.format(
            sources=[str(c.relative_to(parent)) for c in copies],
            config=str(temp / "mypy.ini"),
            cache=str(temp / "cache"),
            target=str(temp / "c"),
            build=str(temp / "build"),
            opt=opt_level,
            jobs=str(jobs),
        )
        for package, copy in zip(resolved, copies, strict=True):
            shutil.copyfile(package / f"{CODEC_MODULE}.py", copy)
        try:
            done = subprocess.run(
                [sys.executable, "-c", script],
                cwd=parent,
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            for copy in copies:
                copy.unlink(missing_ok=True)
    if done.returncode != 0:
        raise NativeBuildError(
            f"mypyc failed (exit {done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
        )
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    built = [package / f"{NATIVE_MODULE}{suffix}" for package in resolved]
    missing = [str(b) for b in built if not b.is_file()]
    if missing:
        raise NativeBuildError(f"mypyc reported success but {missing} are missing")
    return built


def main(argv: list[str] | None = None) -> int:
    """Command line: compile the codec of each package given."""
    parser = argparse.ArgumentParser(
        prog="python -m generator.avro.native",
        description="Compile generated Avro codecs with mypyc (optional fast path).",
    )
    parser.add_argument("packages", nargs="+", type=Path, help="generated package folders")
    parser.add_argument("--clean", action="store_true", help="remove compiled codecs instead")
    args = parser.parse_args(argv)
    status = 0
    for package in args.packages:
        if args.clean:
            for path in native_files(package):
                path.unlink()
                print(f"removed {path}")
            continue
        try:
            print(f"compiled {build(package)[0]}")
        except NativeBuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
