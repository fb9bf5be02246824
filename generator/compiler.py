"""Compile a schemas folder: find inputs, load them, resolve topics into the model, render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import fastavro

from generator.asyncapi.inputs import AsyncApiInputs
from generator.avro.canonical import parsed_fingerprint
from generator.avro.loader import read_avro
from generator.avro.model import PRIMITIVES, AvroRegistry, AvroType, Primitive, Ref, UnionType
from generator.avro.text import SchemaTexts
from generator.avro.type_names import PyName, assign_names
from generator.descriptors import TopicDescriptor, TypeRef, read_descriptor
from generator.errors import GeneratorError, Problem, ProblemCollector
from generator.input_files import find_input_files, relative_names
from generator.model import (
    AvroPayload,
    CodecPayload,
    CompileModel,
    JsonPayload,
    Payload,
    TopicModel,
)
from generator.naming import AVRO_PACKAGE, SUPPORT_MODULE, topic_class, topic_module
from generator.parallel import fork_map
from generator.render import RenderSetup, render
from generator.suggest import did_you_mean

if TYPE_CHECKING:
    from generator.jsonschema.compiler import JsonSchemaCompiler

_RESERVED_MODULES = {AVRO_PACKAGE, SUPPORT_MODULE, "jsonmodels", "py"}
Progress = Callable[[str], None]


def find_inputs(root: Path) -> tuple[list[Path], list[Path]]:
    """The ``.avsc`` files and ``*.topic.yaml``/``.yml`` descriptors under ``root``, sorted.

    Raises :class:`GeneratorError` for entries that look like inputs but cannot be read
    (see :func:`generator.input_files.find_input_files`).
    """
    problems = ProblemCollector()
    found = find_input_files(root, problems)
    problems.raise_if_any()
    return found.avsc, found.descriptors


def find_asyncapi_documents(root: Path) -> list[Path]:
    """The AsyncAPI documents (``*.asyncapi.yaml``/``.yml``/``.json``) under ``root``, sorted."""
    problems = ProblemCollector()
    found = find_input_files(root, problems).asyncapi
    problems.raise_if_any()
    return found


def build_model(
    root: Path, progress: Progress | None = None, *, jobs: int | None = None
) -> CompileModel:
    """Load and validate every input under ``root``; raise :class:`GeneratorError` if invalid.

    Problems name files as ``root/relative/path`` so editors can open them.
    """
    try:
        return _build_model(root, progress, jobs)
    except GeneratorError as exc:
        raise GeneratorError(
            Problem(_located(root, p.file), p.line, p.message) for p in exc.problems
        ) from None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported when it is read


def _located(root: Path, file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        # JSON Schema problems name resolved paths; show them under the folder as given.
        try:
            return (root / path.relative_to(root.resolve())).as_posix()
        except ValueError:
            return file
    if path.exists() or (not (root / file).exists() and not (root / file).is_symlink()):
        return file
    return (root / file).as_posix()


def _build_model(root: Path, progress: Progress | None, jobs: int | None) -> CompileModel:
    if not root.is_dir():
        # No line: the problem is the path given on the command line, not a file's content.
        if root.exists():
            raise GeneratorError.single(
                str(root), 0, f"{str(root)!r} is a file; expected the schemas folder"
            )
        raise GeneratorError.single("", 0, f"schemas folder {str(root)!r} does not exist")
    # One collector for every phase: a run reports all input problems, not those of the
    # first phase that has any. Later phases skip what an earlier problem makes unreliable.
    problems = ProblemCollector()
    inputs = find_input_files(root, problems)
    avsc, descriptor_files, documents = inputs.avsc, inputs.descriptors, inputs.asyncapi
    if progress:
        progress(
            f"loading {len(avsc)} Avro schemas, {len(descriptor_files)} descriptors"
            + (f" and {len(documents)} AsyncAPI documents" if documents else "")
        )
    asyncapi = AsyncApiInputs()
    if documents:
        # Imported only when needed: a tenth of the start-up of a compile without them.
        from generator.asyncapi.reader import read_documents

        asyncapi = read_documents(root, documents, problems)

    def load(part: str) -> tuple[AvroRegistry | None, list[TopicDescriptor], list[Problem]]:
        # The .avsc files here, the descriptors beside them in a worker if there is one:
        # the two do not depend on each other, and only the descriptors are small to send.
        found = ProblemCollector()
        if part == "avro":
            return read_avro(root, avsc, found, extra=asyncapi.avro), [], found.problems
        declared: list[TopicDescriptor] = []
        for path in descriptor_files:
            declared.extend(read_descriptor(path, path.relative_to(root).as_posix(), found))
        return None, declared, found.problems

    # Seconds each, roughly: only the balance matters (the heavier part stays here).
    descriptor_bytes = sum(_size(path) for path in descriptor_files)
    weights = [1e-4 * len(avsc), 1.4e-6 * descriptor_bytes]
    (registry, _, avro_problems), (_, descriptors, descriptor_problems) = fork_map(
        load, ["avro", "descriptors"], weights, jobs=jobs
    )
    assert registry is not None
    problems.problems.extend(avro_problems)
    problems.problems[:] = asyncapi.relocate(problems.problems)
    schema_files = _AvroState.of(root, registry, problems)
    problems.problems.extend(descriptor_problems)
    descriptors.extend(asyncapi.descriptors)
    # The renderer's setup only for types without problems: others never reach it.
    facts, ahead = _worked_ahead(schema_files, descriptors, jobs, setup=not problems.problems)
    schema_files = replace(schema_files, facts=facts)
    json_compiler: JsonSchemaCompiler | None = None
    topics: list[TopicModel] = []
    seen_topics: dict[str, TopicDescriptor] = {}
    seen_classes: dict[str, TopicDescriptor] = {}
    seen_modules: dict[str, TopicDescriptor] = {}
    for desc in descriptors:
        if desc.topic in seen_topics:
            first = seen_topics[desc.topic]
            problems.add(
                desc.file,
                desc.line,
                f"topic {desc.topic!r} is already declared at {first.file}:{first.line}",
            )
            continue
        seen_topics[desc.topic] = desc
        class_name = desc.class_name or topic_class(desc.topic)
        module = desc.module or topic_module(desc.topic)
        for seen, name, what in (
            (seen_classes, class_name, "class"),
            (seen_modules, module, "module"),
        ):
            if name in seen:
                other = seen[name]
                problems.add(
                    desc.file,
                    desc.line,
                    f"topic {desc.topic!r} would generate {what} {name!r}, like topic "
                    f"{other.topic!r} at {other.file}:{other.line}; "
                    f"set '{what}:' to tell them apart",
                )
            seen[name] = desc
        if module in _RESERVED_MODULES or module.startswith("_"):
            problems.add(
                desc.file,
                desc.line,
                f"module name {module!r} of topic {desc.topic!r} is reserved; set 'module:'",
            )
        payloads: list[Payload] = []
        for side in ("key", "value"):
            ref: TypeRef | None = getattr(desc, side)
            serializer: str | None = getattr(desc, f"{side}_serializer")
            line = desc.lines.get(side, desc.line)
            try:
                if ref is not None and ref.is_json_schema:
                    if json_compiler is None:
                        from generator.jsonschema.compiler import JsonSchemaCompiler

                        json_compiler = JsonSchemaCompiler(root, extra=asyncapi.json)
                    payloads.append(_json_payload(json_compiler, ref, root, desc, serializer, side))
                else:
                    payloads.append(_payload(schema_files, ref, serializer, desc, side, line))
            except GeneratorError as exc:
                problems.extend(exc)
                payloads.append(CodecPayload("raw"))
        topics.append(TopicModel(desc, class_name, module, payloads[0], payloads[1]))
    problems.problems[:] = asyncapi.relocate(problems.problems)
    problems.raise_if_any()
    try:
        json_files: dict[str, str] = json_compiler.render() if json_compiler is not None else {}
    except GeneratorError as exc:
        raise GeneratorError(asyncapi.relocate(exc.problems)) from None
    sources = sorted(relative_names(avsc + descriptor_files + documents, root))
    return CompileModel(
        registry,
        ahead.names if ahead is not None else assign_names(registry),
        topics,
        json_files,
        sources,
        json_index=json_compiler.index if json_compiler is not None else None,
        render_setup=ahead.setup if ahead is not None else None,
    )


def compile_folder(
    root: Path,
    progress: Progress | None = None,
    *,
    warn: Progress | None = None,
    jobs: int | None = None,
    retain: list[object] | None = None,
) -> dict[str, str]:
    """Relative output path -> file content for everything generated from ``root``.

    ``warn`` receives what is valid but likely a mistake (a folder with no inputs at all).
    ``jobs`` caps the worker processes (default: :func:`generator.parallel.available_jobs`);
    the files are the same whatever it is. ``retain`` receives the compiled model, for a
    caller about to end its process: freeing it object by object costs a tenth of a
    second at thousands of types.
    """
    model = build_model(root, progress, jobs=jobs)
    if retain is not None:
        retain.append(model)
    if warn is not None and not model.sources:
        warn(
            f"no schemas or topics found in {root} (no .avsc, *.topic.yaml or *.asyncapi.yaml "
            "files); the generated package is empty"
        )
    if progress:
        progress(f"rendering {len(model.registry.types)} types and {len(model.topics)} topics")
    return render(model, jobs=jobs)


def _json_payload(
    compiler: JsonSchemaCompiler,
    ref: TypeRef,
    root: Path,
    desc: TopicDescriptor,
    serializer: str | None,
    side: str,
) -> Payload:
    descriptor = root / desc.file
    if serializer not in (None, "json"):
        raise GeneratorError.single(
            desc.file,
            ref.line,
            f"topic {desc.topic!r}: {side} is a JSON Schema, so {side}_serializer must be 'json' "
            f"(or left out), not {serializer!r}",
        )
    json_type = compiler.resolve(ref.names[0], descriptor, ref.line)
    try:
        rel = json_type.source.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = json_type.source.as_posix()
    return JsonPayload(json_type, rel)


_CODEC_TYPES = {"raw": "bytes", "str": "string"}


#: A topic payload's schema text, fastavro's objection to it (None: accepted), and the
#: fingerprint of its canonical form.
SchemaFacts = tuple[str, str | None, int]


@dataclass(frozen=True)
class _AvroState:
    """The Avro registry as loaded, and the text of the ``.avsc`` files that had problems."""

    registry: AvroRegistry
    broken_texts: tuple[str, ...]
    #: Work done ahead for the topic sides (see :func:`_prepared_facts`).
    facts: dict[tuple[str, ...], SchemaFacts] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Path, registry: AvroRegistry, problems: ProblemCollector) -> _AvroState:
        """The state after loading, given the problems the Avro loader recorded."""
        broken = sorted({p.file for p in problems.problems if p.file.endswith(".avsc")})
        texts: list[str] = []
        for file in broken:
            try:
                texts.append((root / file).read_bytes().decode("utf-8", errors="replace"))
            except OSError:
                texts.append("")  # reported already (a folder or a broken link)
        return cls(registry, tuple(texts))

    def may_define(self, name: str) -> bool:
        """Whether a file with problems may define ``name``: an unknown name is then most
        likely a follow-on error of that problem, not one of its own."""
        short = name.rsplit(".", 1)[-1]
        return any(f'"{short}"' in text or f'.{short}"' in text for text in self.broken_texts)


def _payload(
    avro: _AvroState,
    ref: TypeRef | None,
    serializer: str | None,
    desc: TopicDescriptor,
    side: str,
    line: int,
) -> Payload:
    if ref is None:
        if serializer == "avro":
            raise GeneratorError.single(
                desc.file,
                line,
                f"topic {desc.topic!r}: {side}_serializer 'avro' needs a '{side}' type",
            )
        return CodecPayload(serializer or "raw")
    if serializer in ("raw", "str"):
        expected = _CODEC_TYPES[serializer]
        if ref.names != (expected,):
            raise GeneratorError.single(
                desc.file,
                ref.line,
                f"topic {desc.topic!r}: {side}_serializer {serializer!r} carries {expected!r}, "
                f"but {side} is {' | '.join(ref.names)!r}",
            )
        return CodecPayload(serializer)
    if serializer == "json":
        raise GeneratorError.single(
            desc.file,
            ref.line,
            f"topic {desc.topic!r}: {side}_serializer 'json' needs a JSON Schema {side} "
            f"(a .json path or $id), not the Avro type {' | '.join(ref.names)!r}",
        )
    registry = avro.registry
    branches: list[AvroType] = []
    for name in ref.names:
        if name in PRIMITIVES and name != "null":
            branches.append(Primitive(name))
        elif name in registry.types:
            branches.append(Ref(name))
        elif avro.may_define(name):
            return CodecPayload("raw")  # stands in; the .avsc problem is reported already
        else:
            known = [*sorted(PRIMITIVES - {"null"}), *registry.types]
            raise GeneratorError.single(
                desc.file,
                ref.line,
                f"topic {desc.topic!r}: {side} type {name!r} is neither an Avro primitive nor a "
                f"named type defined in an .avsc file" + did_you_mean(name, known),
            )
    if avro.broken_texts:
        # The types may be partial; their schema text would only repeat the .avsc problems.
        return CodecPayload("raw")
    t: AvroType = branches[0] if len(branches) == 1 else UnionType(tuple(branches))
    text, rejected, fp = avro.facts.get(ref.names) or schema_facts(t, SchemaTexts(registry))
    if rejected is not None:
        raise GeneratorError.single(
            desc.file,
            ref.line,
            f"topic {desc.topic!r}: fastavro (the runtime) rejects the {side} schema: {rejected}",
        )
    return AvroPayload(t, text, fp)


def schema_facts(t: AvroType, texts: SchemaTexts) -> SchemaFacts:
    """The schema text of top-level type ``t``, checked by fastavro, and its fingerprint."""
    text, schema = texts.parsed(t)
    try:
        # The generated module parses this text with fastavro on import: fail here instead.
        parsed = fastavro.parse_schema(schema)
    except (ValueError, TypeError, KeyError, fastavro.schema.SchemaParseException) as exc:
        return text, str(exc), 0
    return text, None, parsed_fingerprint(parsed)  # fingerprint(text), without parsing again


def _known_avro_type(registry: AvroRegistry, names: tuple[str, ...]) -> AvroType | None:
    """The type a topic side names, when every name is a primitive or a loaded type."""
    branches: list[AvroType] = []
    for name in names:
        if name in PRIMITIVES and name != "null":
            branches.append(Primitive(name))
        elif name in registry.types:
            branches.append(Ref(name))
        else:
            return None
    return branches[0] if len(branches) == 1 else UnionType(tuple(branches))


@dataclass(frozen=True)
class _Ahead:
    """The Python names of the Avro types and the renderer's setup, worked out ahead."""

    names: dict[str, PyName]
    setup: RenderSetup


def _worked_ahead(
    avro: _AvroState, descriptors: list[TopicDescriptor], jobs: int | None, *, setup: bool
) -> tuple[dict[tuple[str, ...], SchemaFacts], _Ahead | None]:
    """:func:`schema_facts` of every Avro topic side, by its type names, worked out on
    several cores (at thousands of topics it is a third of loading the inputs), and with
    ``setup``, beside them, what rendering needs from the types alone."""
    if avro.broken_texts:
        return {}, None
    wanted: dict[tuple[str, ...], AvroType] = {}
    for desc in descriptors:
        for side in ("key", "value"):
            ref: TypeRef | None = getattr(desc, side)
            if ref is None or ref.is_json_schema or ref.names in wanted:
                continue
            if getattr(desc, f"{side}_serializer") not in (None, "avro"):
                continue
            t = _known_avro_type(avro.registry, ref.names)
            if t is not None:
                wanted[ref.names] = t
    keys: list[tuple[str, ...] | None] = [None] if setup else []
    keys += wanted
    texts = SchemaTexts(avro.registry)

    def work(names: tuple[str, ...] | None) -> SchemaFacts | _Ahead:
        if names is None:
            python_names = assign_names(avro.registry)
            return _Ahead(python_names, RenderSetup.of(avro.registry, python_names))
        return schema_facts(wanted[names], texts)

    # Seconds each, measured at 5,000 records: only the balance matters. The setup is the
    # heaviest item, so this process takes it first (fork_map starts with the heaviest)
    # and it is never sent through a pipe.
    weights = [5e-5 * len(avro.registry.types)] if setup else []
    weights += [1.8e-4] * len(wanted)
    done = fork_map(work, keys, weights, jobs=jobs)
    facts: dict[tuple[str, ...], SchemaFacts] = {}
    ahead: _Ahead | None = None
    for names, result in zip(keys, done, strict=True):
        if isinstance(result, _Ahead):
            ahead = result
        elif names is not None:
            facts[names] = result
    return facts, ahead
