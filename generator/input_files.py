"""Find and read the input files of a schemas folder, with ``file:line`` errors.

Every ``*.avsc``, ``*.topic.yaml``/``*.topic.yml`` and ``*.json`` under the folder is an
input; hidden folders and tool caches are skipped. Symbolic links to folders are followed
(schemas shared between repositories are often linked in), except a link back to a folder
that encloses it, which would loop forever. Nothing that looks like an input is skipped
silently: a folder named ``x.avsc``, a link that points nowhere or loops, a file that is
not UTF-8 are all problems naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import GeneratorError, ProblemCollector

__all__ = [
    "ASYNCAPI_SUFFIXES",
    "SKIP_DIRS",
    "InputFiles",
    "find_input_files",
    "is_descriptor",
    "read_input",
]

SKIP_DIRS = frozenset({"__pycache__", ".git", "node_modules"})
_DESCRIPTOR_SUFFIXES = (".topic.yaml", ".topic.yml")
#: AsyncAPI documents gen-topics compiles (a ``.asyncapi.json`` is also in ``json``).
ASYNCAPI_SUFFIXES = (".asyncapi.yaml", ".asyncapi.yml", ".asyncapi.json")


def is_descriptor(name: str) -> bool:
    """True for a topic descriptor's file name (``*.topic.yaml`` or ``*.topic.yml``)."""
    return name.endswith(_DESCRIPTOR_SUFFIXES)


def _kind(name: str) -> str | None:
    if name.endswith(".avsc"):
        return "an Avro schema"
    if is_descriptor(name):
        return "a topic descriptor"
    return None


@dataclass
class InputFiles:
    """The input files under a schemas folder, each list sorted by relative path.

    ``json`` holds every readable-looking ``*.json`` entry, including ones that turn out not
    to be files: a JSON file is only an error when a descriptor or a ``$ref`` uses it.
    """

    avsc: list[Path] = field(default_factory=list)
    descriptors: list[Path] = field(default_factory=list)
    json: list[Path] = field(default_factory=list)
    asyncapi: list[Path] = field(default_factory=list)


def find_input_files(root: Path, problems: ProblemCollector) -> InputFiles:
    """The inputs under ``root`` (paths lexically under it); problems name ``rel`` paths."""
    listed = _LISTED.get(os.fspath(root))
    if listed is not None:  # found without problems earlier in this run (see preloaded)
        return InputFiles(
            list(listed.avsc), list(listed.descriptors), list(listed.json), list(listed.asyncapi)
        )
    found = InputFiles()

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        problems.add(_rel(where, root), 1, f"cannot read this folder: {exc.strerror}")

    for dirpath, dirs, files in _walk(os.fspath(root), on_error):
        here = Path(dirpath)
        real_here = os.path.realpath(here)
        keep: list[os.DirEntry[str]] = []
        for entry in sorted(dirs, key=_name):
            name = entry.name
            if name in SKIP_DIRS or name.startswith("."):
                continue
            path = here / name
            if entry.is_symlink():
                target = os.path.realpath(path)
                if real_here == target or real_here.startswith(target.rstrip(os.sep) + os.sep):
                    problems.add(
                        _rel(path, root),
                        1,
                        f"symbolic link to {target}, a folder that contains it: following it "
                        "would loop forever; remove the link or point it elsewhere",
                    )
                    continue
            kind = _kind(name)
            if kind is not None:
                problems.add(
                    _rel(path, root),
                    1,
                    f"is a folder, but its name says {kind} file; gen-topics reads every "
                    f"{'*.avsc' if name.endswith('.avsc') else '*.topic.yaml'} under the "
                    "schemas folder: rename the folder",
                )
            keep.append(entry)
        dirs[:] = keep
        for entry in sorted(files, key=_name):
            name = entry.name
            if name.startswith("."):
                continue
            path = here / name
            kind = _kind(name)
            if name.endswith(ASYNCAPI_SUFFIXES) and _is_file(entry):
                found.asyncapi.append(path)
            if kind is None and not name.endswith(".json"):
                if entry.is_symlink() and not path.exists():
                    # A broken link may stand for a folder of schemas (an unchecked-out
                    # submodule, a moved share): say so rather than compile without it.
                    problems.add(_rel(path, root), 1, _broken_link(path))
                continue
            if kind is not None and not _is_file(entry):
                problems.add(_rel(path, root), 1, _not_a_file(path, kind))
                continue
            if name.endswith(".avsc"):
                found.avsc.append(path)
            elif kind is not None:
                found.descriptors.append(path)
            else:
                found.json.append(path)
    for paths in (found.avsc, found.descriptors, found.json, found.asyncapi):
        keys = relative_names(paths, root)
        order = sorted(range(len(paths)), key=keys.__getitem__)
        paths[:] = [paths[i] for i in order]
    return found


def _walk(
    top: str, on_error: Callable[[OSError], None]
) -> Iterator[tuple[str, list[os.DirEntry[str]], list[os.DirEntry[str]]]]:
    """``os.walk(top, followlinks=True)`` top-down, with the entries instead of their names:
    an entry knows whether it is a regular file from the folder listing, where a path needs
    one ``stat`` per file (thousands at scale). Folders left in the list are walked."""
    try:
        with os.scandir(top) as listing:
            entries = list(listing)
    except OSError as exc:
        on_error(exc)
        return
    dirs: list[os.DirEntry[str]] = []
    files: list[os.DirEntry[str]] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()  # through a link, as os.walk with followlinks
        except OSError:
            is_dir = False
        (dirs if is_dir else files).append(entry)
    yield top, dirs, files
    for entry in dirs:
        yield from _walk(os.path.join(top, entry.name), on_error)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # through a link, as Path.is_file
    except OSError:
        return False


def relative_names(paths: list[Path], root: Path) -> list[str]:
    """The ``/``-separated path of each of ``paths`` (all lexically under ``root``) relative
    to ``root``: by their text, as ``Path.relative_to`` is slow at thousands of files."""
    top = os.fspath(root)
    prefix = "" if top == os.curdir else os.path.join(top, "")  # Path(".") / "a" is "a"
    out: list[str] = []
    for path in paths:
        text = os.fspath(path)
        if text.startswith(prefix):
            rel = text[len(prefix) :]
            out.append(rel if os.sep == "/" else rel.replace(os.sep, "/"))
        else:
            out.append(path.relative_to(root).as_posix())
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _broken_link(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link leads back to itself); remove or fix the link"
    return (
        f"broken symbolic link: it points to {os.readlink(path)}, which does not exist; "
        "fix or remove the link"
    )


def _not_a_file(path: Path, kind: str) -> str:
    if path.is_symlink() and not path.exists():
        return _broken_link(path)
    return f"is not a regular file, but its name says {kind} file; rename or remove it"


_PRELOADED: dict[str, bytes] = {}
_LISTED: dict[str, InputFiles] = {}


@contextlib.contextmanager
def preloaded(
    files: dict[str, bytes], listings: dict[str, InputFiles] | None = None
) -> Iterator[None]:
    """Within the block, :func:`read_input` takes these bytes (by path) instead of reading
    the file again, and :func:`find_input_files` these listings (by root folder) instead of
    walking it again: the very files the inputs key was computed from (see
    :func:`generator.freshness.input_key`), so the output matches its key, and thousands
    of files are found and read once."""
    _PRELOADED.update(files)
    _LISTED.update(listings or {})
    try:
        yield
    finally:
        _PRELOADED.clear()
        _LISTED.clear()


def file_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the file at ``path`` (raises ``OSError``, ``IsADirectoryError`` for a
    folder): read without io's buffered file object, a third of the cost at thousands of
    small files."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        size = os.fstat(fd).st_size + 1  # all in one read, unless the file grows meanwhile
        while chunk := os.read(fd, size):
            chunks.append(chunk)
            size = 1 << 16
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_input(path: Path, rel: str) -> str:
    """The text of an input file, decoded as UTF-8.

    Raises :class:`GeneratorError` naming ``rel`` (and, for bytes that are not UTF-8, the
    line and column of the first such byte) instead of ``OSError``/``UnicodeDecodeError``.
    """
    try:
        data = _PRELOADED.get(os.fspath(path)) or file_bytes(path)
    except OSError as exc:
        message = (
            _broken_link(path)
            if path.is_symlink() and not path.exists()
            else (f"cannot read the file: {exc.strerror}")
        )
        raise GeneratorError.single(rel, 1, message) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise GeneratorError.single(
            rel,
            line,
            f"not UTF-8 text: byte {data[exc.start]:#04x} at column {column} cannot be decoded "
            "(gen-topics reads schemas and descriptors as UTF-8; re-save the file as UTF-8)",
        ) from None
