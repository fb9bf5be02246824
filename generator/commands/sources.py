"""Where the commands read schemas from: a folder or file, a git revision, or a registry.

A folder with topic descriptors yields one entry per topic key/value schema, under
the subject its descriptor's strategy names, with the exact text the generated
code registers. Without descriptors, each ``.avsc`` is an entry under its record
name and each ``.json`` under its ``title`` (or file name).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import url2pathname

from gen_topics.registry.avro_names import root_full_name
from gen_topics.registry.subjects import subject_name
from generator.avro.loader import load_avro
from generator.avro.model import (
    PRIMITIVES,
    AvroRegistry,
    AvroType,
    Primitive,
    Ref,
    UnionType,
    direct_refs,
)
from generator.avro.text import schema_text
from generator.descriptors import TopicDescriptor, TypeRef, load_descriptor
from generator.jsonschema.index import SchemaFile, SchemaIndex, iter_refs, split_ref
from generator.suggest import did_you_mean

__all__ = [
    "SchemaEntry",
    "SchemaSet",
    "SourceError",
    "is_registry_url",
    "load_git",
    "load_path",
]


class SourceError(Exception):
    """The input cannot be read (missing file, bad git revision, invalid schema ...)."""


@dataclass(frozen=True)
class SchemaEntry:
    """One schema to check, register or compare, and where it came from."""

    subject: str
    schema_type: str
    text: str
    file: str
    line: int = 1
    level: str | None = None
    base: str = ""  # JSON: the document's URI, for resolving relative $ref
    # JSON: documents this one $refs: (ref as written, subject it is registered under)
    references: tuple[tuple[str, str], ...] = ()
    # AVRO: the file defining each named type the schema uses (full name, file as shown)
    named_files: tuple[tuple[str, str], ...] = ()
    # Where the descriptor sets ``level`` (its ``compatibility:`` line), when it does
    level_file: str = ""
    level_line: int = 0


@dataclass
class SchemaSet:
    """Schemas by subject, plus every JSON document for resolving ``$ref``."""

    entries: dict[str, SchemaEntry] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    root: Path | None = None


def is_registry_url(text: str) -> bool:
    """True for ``http://`` / ``https://`` URLs."""
    return text.startswith(("http://", "https://"))


def _rel(path: Path, display_root: Path) -> str:
    try:
        return path.resolve().relative_to(display_root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _json_documents(files: list[Path]) -> dict[str, Any]:
    docs: dict[str, Any] = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SourceError(f"{path}: cannot read: {exc}") from exc
        except ValueError as exc:
            raise _not_json(str(path), exc) from exc
        docs[path.resolve().as_uri()] = data
        if isinstance(data, dict) and isinstance(data.get("$id"), str):
            docs[data["$id"]] = data
    return docs


def _json_subject(path: Path, data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("title"), str):
        return str(data["title"])
    return path.stem


def _external_refs(data: Any) -> list[str]:
    # The generator's own walk (generator/jsonschema/references.py lists a codec's
    # references with it): push must name the same documents in the same order.
    bases = (split_ref(ref)[0] for ref in iter_refs(data))
    return list(dict.fromkeys(base for base in bases if base))


def _not_json(shown: str, exc: ValueError) -> SourceError:
    """``file:line: not valid JSON: ...`` for a JSON parse error."""
    if isinstance(exc, json.JSONDecodeError):
        return SourceError(f"{shown}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})")
    return SourceError(f"{shown}: not valid JSON: {exc}")


def _avro_type(ref: TypeRef, registry: AvroRegistry, where: str) -> AvroType:
    def one(name: str) -> AvroType:
        if name in PRIMITIVES:
            return Primitive(name)
        if name not in registry.types:
            raise SourceError(
                f"{where}:{ref.line}: unknown Avro type {name!r}; expected a primitive or a "
                "named type defined in an .avsc file"
                + did_you_mean(name, [*PRIMITIVES, *registry.types])
            )
        return Ref(name)

    types = [one(n) for n in ref.names]
    if len(types) == 1:
        return types[0]
    return UnionType(tuple(types))


def _describe_file(path: Path, data: Any) -> tuple[str, str]:
    if path.suffix == ".avsc":
        return ("AVRO", root_full_name(data) or path.stem)
    return ("JSON", _json_subject(path, data))


def load_path(path: Path, *, display_root: Path | None = None) -> SchemaSet:
    """Load a schemas folder (descriptors, ``.avsc``, ``.json``) or one schema file."""
    shown = display_root or Path.cwd()
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    if path.is_file():
        return _load_file(path, shown)
    avsc = sorted(path.rglob("*.avsc"))
    json_files = sorted(p for p in path.rglob("*.json") if p.is_file())
    descriptors = sorted([*path.rglob("*.topic.yaml"), *path.rglob("*.topic.yml")])
    out = SchemaSet(documents=_json_documents(json_files), root=path)
    if not descriptors:
        for file in [*avsc, *json_files]:
            for entry in _load_file(file, shown).entries.values():
                out.entries[entry.subject] = entry
        _link_json_references(out)
        return out
    try:
        registry = load_avro(path, avsc) if avsc else AvroRegistry()
    except Exception as exc:  # GeneratorError lists file:line problems
        raise SourceError(str(exc)) from exc
    index = SchemaIndex(path)
    for descriptor in descriptors:
        rel = _rel(descriptor, shown)
        try:
            topics = load_descriptor(descriptor, rel)
        except Exception as exc:
            raise SourceError(str(exc)) from exc
        for topic in topics:
            for is_key, ref in ((True, topic.key), (False, topic.value)):
                if ref is not None:
                    found = _topic_entry(
                        topic, ref, is_key, descriptor, path, registry, index, shown
                    )
                    if found is not None:
                        out.entries[found.subject] = found
    _link_json_references(out, index)
    return out


def _topic_entry(
    topic: TopicDescriptor,
    ref: TypeRef,
    is_key: bool,
    descriptor: Path,
    root: Path,
    registry: AvroRegistry,
    index: SchemaIndex,
    shown: Path,
) -> SchemaEntry | None:
    level = topic.compatibility
    if ref.is_json_schema:
        name = ref.names[0]
        file = _json_schema_file(name, descriptor, index)
        if file is None or not file.exists():
            expected = (
                "no schema under the folder has this $id"
                if "://" in name
                else f"expected the file {_rel(descriptor.parent / name, shown)}"
            )
            raise SourceError(
                f"{_rel(descriptor, shown)}:{ref.line}: JSON Schema {name!r} not found: {expected}"
            )
        text = file.read_text(encoding="utf-8")
        kind = "JSON"
        base = file.resolve().as_uri()
        named: tuple[tuple[str, str], ...] = ()
        shown_file, line = _rel(file, shown), 1
    else:
        serializer = topic.key_serializer if is_key else topic.value_serializer
        if serializer not in (None, "avro"):
            return None  # raw/str/json keys and values never reach the registry
        avro = _avro_type(ref, registry, _rel(descriptor, shown))
        text = schema_text(avro, registry)
        kind, base = "AVRO", ""
        named = _named_files(avro, registry, root, shown)
        if isinstance(avro, Ref):
            # The .avsc path is relative to the schemas folder, wherever the descriptor is.
            shown_file, line = _rel(root / registry.types[avro.fullname].file, shown), 1
        else:
            shown_file, line = _rel(descriptor, shown), ref.line
    subject = subject_name(
        topic.subject_name_strategy,
        topic=topic.topic,
        is_key=is_key,
        schema_type=kind,
        schema_text=text,
    )
    level_line = topic.lines.get("compatibility", 0) if level else 0
    return SchemaEntry(
        subject,
        kind,
        text,
        shown_file,
        line,
        level,
        base,
        named_files=named,
        level_file=_rel(descriptor, shown) if level_line else "",
        level_line=level_line,
    )


def _named_files(
    avro: AvroType, registry: AvroRegistry, root: Path, shown: Path
) -> tuple[tuple[str, str], ...]:
    """Every named type ``avro`` uses, directly or through other named types, with its file."""
    found: dict[str, str] = {}
    pending = direct_refs(avro)
    while pending:
        name = pending.pop().fullname
        if name in found or name not in registry.types:
            continue
        named = registry.types[name]
        found[name] = _rel(root / named.file, shown)
        for item in named.fields:
            pending.extend(direct_refs(item.type))
    return tuple(sorted(found.items()))


def _json_schema_file(name: str, descriptor: Path, index: SchemaIndex) -> Path | None:
    """The file a descriptor's JSON Schema key/value names, found as the compiler finds it:
    a path relative to the descriptor, else a schema ``$id`` (absolute or as written)."""
    candidate = Path(os.path.normpath(descriptor.parent / name))
    if name.endswith(".json") and candidate.is_file():
        return candidate  # also outside the folder, which push accepts and the compiler not
    found = index.by_id(name)
    return found.path if found is not None else None


def _load_file(path: Path, shown: Path) -> SchemaSet:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _not_json(_rel(path, shown), exc) from exc
    kind, subject = _describe_file(path, data)
    docs = {path.resolve().as_uri(): data}
    entry = SchemaEntry(subject, kind, text, _rel(path, shown), 1, None, path.resolve().as_uri())
    return SchemaSet({subject: entry}, docs, path.parent)


def _link_json_references(schemas: SchemaSet, index: SchemaIndex | None = None) -> None:
    """Record, for each JSON entry, the other entries its external ``$ref``s name.

    References are resolved by the generator's :class:`SchemaIndex` (``locate``), the
    same lookup the generated codecs' reference lists come from, so push links exactly
    the documents a producer registers with its schema.
    """
    if index is None and schemas.root is not None:
        index = SchemaIndex(schemas.root)
    by_file: dict[str, str] = {}  # a topic schema's file URI -> its subject
    for entry in schemas.entries.values():
        if entry.schema_type == "JSON" and entry.base:
            by_file[entry.base] = entry.subject
    # A referenced document gets an entry of its own, whose references need linking too:
    # go on until no new entry appears (a -> b -> c where only a is a topic's schema).
    linked: set[str] = set()
    while pending := [s for s in schemas.entries if s not in linked]:
        for subject in pending:
            linked.add(subject)
            _link_entry(schemas, subject, index, by_file)


def _link_entry(
    schemas: SchemaSet, subject: str, index: SchemaIndex | None, by_file: dict[str, str]
) -> None:
    entry = schemas.entries[subject]
    if entry.schema_type != "JSON" or index is None or not entry.base:
        return
    origin = _origin(index, entry)
    if origin is None:
        return
    refs: list[tuple[str, str]] = []
    for ref in _external_refs(origin.document):
        target = index.locate(ref, origin)
        # A $ref to itself is local; the generated codec lists no reference for it either.
        if target is not None and target.file_uri != origin.file_uri:
            refs.append((ref, by_file.get(target.file_uri) or _document_subject(schemas, target)))
    if refs:
        schemas.entries[subject] = replace(entry, references=tuple(refs))


def _origin(index: SchemaIndex, entry: SchemaEntry) -> SchemaFile | None:
    """The indexed file behind ``entry``; one outside the folder is read on its own."""
    path = Path(url2pathname(urlparse(entry.base).path))
    found = index.by_path(path)
    if found is not None:
        return found if found.document is not None else None
    # A descriptor may name a schema outside the folder (the compiler refuses it, push
    # does not): its $refs still resolve against the folder's files.
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    raw_id = document.get("$id", document.get("id"))
    raw_id = raw_id if isinstance(raw_id, str) and raw_id else None
    file_uri = path.as_uri()
    base_uri = urldefrag(urljoin(file_uri, raw_id))[0] if raw_id else file_uri
    relative = PurePosixPath(path.name)
    return SchemaFile(path, relative, text, document, None, file_uri, base_uri, raw_id)


def _document_subject(schemas: SchemaSet, target: SchemaFile) -> str:
    """A referenced document that is no topic's schema gets an entry of its own."""
    # Subject: the file's path under the schemas folder (stable, readable, unique).
    subject = target.relative.as_posix()
    if subject not in schemas.entries:
        shown = _rel(target.path, Path.cwd())
        schemas.entries[subject] = SchemaEntry(
            subject, "JSON", target.text, shown, 1, None, target.file_uri
        )
    return subject


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        raise SourceError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def load_git(revision: str, path: Path) -> SchemaSet:
    """Load ``path`` (file or folder) as it is at git ``revision`` (``git show REV:path``)."""
    path = path.resolve()
    start = path if path.is_dir() else path.parent
    top = Path(_git(["rev-parse", "--show-toplevel"], start).strip())
    rel = path.relative_to(top).as_posix()
    listing = _git(["ls-tree", "-r", "--name-only", revision, "--", rel], top).splitlines()
    if not listing:
        # Added since that revision (a first schemas/ commit): every subject is new. A
        # revision that does not exist failed above.
        return SchemaSet()
    with tempfile.TemporaryDirectory(prefix="gen-topics-git-") as scratch:
        tmp = Path(scratch)
        for name in listing:
            blob = subprocess.run(
                ["git", "show", f"{revision}:{name}"], cwd=top, capture_output=True, check=False
            )
            if blob.returncode != 0:
                raise SourceError(f"git show {revision}:{name} failed")
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
        # Everything is read into memory here, so the checkout can go.
        return load_path(tmp / rel, display_root=tmp)
