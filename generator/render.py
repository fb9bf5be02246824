"""Render the model into files with the jinja2 templates (policy lives here, not in them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jinja2

from generator.avro.codec_code import CODEC_MODULE, CodePart, recursive_records, topic_root
from generator.avro.model import AvroRegistry, AvroType, NamedType, Ref, direct_refs
from generator.avro.render import (
    STDLIB_IMPORTS,
    MemberNames,
    codec_builder,
    namespace_file,
    namespace_path,
    relative_imports,
)
from generator.avro.type_names import PyName, namespace_modules
from generator.avro.typing_map import TypeRenderer
from generator.descriptors import TopicDescriptor
from generator.formatting import fits, formatted
from generator.jsonschema.references import JsonReference
from generator.jsonschema.topic_code import ModuleDocuments, json_side_code, json_topic_subjects
from generator.model import (
    AvroPayload,
    CodecPayload,
    CompileModel,
    JsonPayload,
    Payload,
    TopicModel,
)
from generator.naming import (
    SUPPORT_MODULE,
    module_alias,
    relative_import,
)
from generator.parallel import fork_map
from generator.source_text import docstring, header_lines, import_block, py_string
from generator.templating import environment, module_header

_CODEC_TYPES = {"raw": "bytes", "str": "str", "json": "Any"}
# The codec module is rendered in this many parts, so that it too spreads over workers.
_CODEC_PARTS = 4


@dataclass(frozen=True)
class RenderSetup:
    """What rendering needs that depends on the Avro types alone: worked out ahead, while
    the compiler checks the topics' schemas on the other cores (a quarter of a second
    at 5,000 types that would otherwise keep every core but one waiting)."""

    members: MemberNames
    namespaces: list[tuple[tuple[str, ...], list[NamedType]]]
    recursive: frozenset[str]
    #: With the templates of the modules rendered by the thousand compiled already, here
    #: rather than once in every worker.
    env: jinja2.Environment

    @classmethod
    def of(cls, registry: AvroRegistry, names: dict[str, PyName]) -> RenderSetup:
        """The setup for ``registry`` with its Python ``names`` (see ``assign_names``)."""
        env = environment()
        for template in ("namespace_module.py.j2", "topic_module.py.j2"):
            env.get_template(template)
        return cls(
            MemberNames(registry, names),
            list(namespace_modules(registry).items()),
            frozenset(recursive_records(registry)),
            env,
        )


def render(model: CompileModel, *, jobs: int | None = None) -> dict[str, str]:
    """Relative path -> content of every generated file (deterministic).

    The namespace, topic and codec modules are rendered by up to ``jobs`` processes
    (default: :func:`~generator.parallel.available_jobs`); the files do not depend on it.
    """
    setup = model.render_setup or RenderSetup.of(model.registry, model.names)
    env = setup.env
    names = setup.members
    # Which subject each shared JSON document is registered under: the same for every topic.
    subjects = json_topic_subjects(model.topics)
    namespaces = setup.namespaces
    codec, roots = codec_builder(model, names, set(setup.recursive))
    codec_parts = codec.parts(roots, _CODEC_PARTS)
    defining = _DefiningFiles(model)
    # The codec's parts, then its tables: CodeParts, in the order the module holds them.
    work: list[tuple[str, int]] = [("codec", i) for i in range(len(codec_parts))]
    work.append(("tables", 0))
    work += [("namespace", i) for i in range(len(namespaces))]
    work += [("topic", i) for i in range(len(model.topics))]

    def one(item: tuple[str, int]) -> tuple[str, bool] | CodePart:
        kind, index = item
        if kind == "codec":
            return codec.render_part(codec_parts[index])
        if kind == "tables":
            return codec.render_tables(roots)
        if kind == "namespace":
            parts, types = namespaces[index]
            text = namespace_file(env, model, names, parts, types)
        else:
            text = _topic_module(env, model, model.topics[index], subjects, defining)
        return text, fits(text)  # checked beside the rendering, not after it in one process

    # Rough seconds per item on one core, measured at 5,000 types: only the balance matters.
    types = len(model.registry.types)
    weights = [1.1e-4 * (types + len(model.topics)) / len(codec_parts)] * len(codec_parts)
    weights.append(1.2e-5 * types)
    weights += [1.2e-4 * (1 + len(group)) for _, group in namespaces]
    weights += [2e-4] * len(model.topics)
    done = fork_map(one, work, weights, jobs=jobs)
    *rendered, tables = [r for r in done[: len(codec_parts) + 1] if isinstance(r, CodePart)]
    modules = [r for r in done[len(codec_parts) + 1 :] if isinstance(r, tuple)]
    names_in_order = [namespace_path(parts) for parts, _ in namespaces]
    names_in_order += [f"{topic.module}.py" for topic in model.topics]
    files = {name: text for name, (text, _) in zip(names_in_order, modules, strict=True)}
    fitting = {name for name, (_, fit) in zip(names_in_order, modules, strict=True) if fit}
    files[f"{SUPPORT_MODULE}.py"] = env.get_template("support_module.py.j2").render(
        header_lines=header_lines([])
    )
    files.update(model.json_files)
    listing = "\n".join(
        f"- ``{t.descriptor.topic}``: :class:`.{t.module}.{t.class_name}`" for t in model.topics
    )
    files["__init__.py"] = env.get_template("package_init.py.j2").render(
        header_lines=header_lines(model.sources),
        docstring=f"Typed Kafka topics generated by gen-topics.\n\n{listing}\n"
        if listing
        else "Typed Kafka topics generated by gen-topics.",
    )
    files["py.typed"] = ""
    codec_text, codec_fits = codec.assemble(rendered, tables)
    files[f"{CODEC_MODULE}.py"] = codec_text
    if codec_fits:
        fitting.add(f"{CODEC_MODULE}.py")
    return formatted(dict(sorted(files.items())), fitting=fitting)


def _topic_module(
    env: jinja2.Environment,
    model: CompileModel,
    topic: TopicModel,
    subjects: dict[str, str],
    defining: _DefiningFiles,
) -> str:
    desc = topic.descriptor
    r = TypeRenderer(model.registry, model.names, (topic.module,))
    package: tuple[str, ...] = ()
    stdlib: set[str] = set()
    typing_names = {"Final", "TypeAlias"}
    runtime_imports = ["from gen_topics import Topic"]
    extra_relative: list[tuple[str, str]] = []
    helpers: list[str] = []
    sides = []
    sources = {desc.file}
    documents = ModuleDocuments(model.json_files, subjects)
    json_names: set[str] = set()
    for label, payload in (("KEY", topic.key), ("VALUE", topic.value)):
        side = _side(
            r, label, payload, topic, helpers, extra_relative, sources, model, documents, defining
        )
        if side.pop("json_codec", False):
            json_names.add("JsonModelCodec")
        if side.pop("json_references", False):
            json_names.add("SchemaRef")
        if side.pop("uses_any", False):
            typing_names.add("Any")
        sides.append(side)
    if json_names:
        runtime_imports.append(f"from gen_topics.json_codec import {', '.join(sorted(json_names))}")
    typing_names |= r.typing
    stdlib |= {STDLIB_IMPORTS[m] for m in r.stdlib}
    stdlib.add(f"from typing import {', '.join(sorted(typing_names))}")
    relative = relative_imports(r, package) + extra_relative
    std_lines, rel_lines = import_block(stdlib, sorted(set(relative)))
    settings = _settings(desc)
    sides[0]["topic_type"] = _topic_type(sides[0]["type_name"], _key_may_be_none(desc))
    sides[1]["topic_type"] = _topic_type(sides[1]["type_name"], _value_may_be_none(desc))
    if any(name == "default_options" for name, _ in settings):
        runtime_imports[0] = "from gen_topics import Topic, TopicOptions"
    doc = desc.doc or f"The ``{desc.topic}`` topic."
    return env.get_template("topic_module.py.j2").render(
        header_lines=module_header(sorted(sources)),
        docstring=docstring(f"Kafka topic ``{desc.topic}``: {topic.class_name}.", "", fallback="")[
            3:-3
        ],
        stdlib_imports=std_lines,
        runtime_imports=sorted(set(runtime_imports)),
        relative_imports=rel_lines,
        key=sides[0],
        value=sides[1],
        class_name=topic.class_name,
        class_docstring=docstring(doc, "    ", fallback=""),
        topic_literal=py_string(desc.topic),
        settings=settings,
        helpers=r.helpers + helpers,
    )


def _side(
    r: TypeRenderer,
    label: str,
    payload: Payload,
    topic: TopicModel,
    helpers: list[str],
    extra_relative: list[tuple[str, str]],
    sources: set[str],
    model: CompileModel,
    documents: ModuleDocuments,
    defining: _DefiningFiles,
) -> dict[str, Any]:
    lower = label.lower()
    alias_name = f"{label.title()}Type"
    out: dict[str, Any] = {
        "label": label,
        "fingerprint": None,
        "schema_assign": "",
        "class_ref": None,
    }
    codec_name = py_string(f"{topic.descriptor.topic}-{lower}")
    if isinstance(payload, CodecPayload):
        type_name = _CODEC_TYPES[payload.codec]
        out["uses_any"] = type_name == "Any"
        out["codec_assign"] = f"{label}_CODEC: Final = {py_string(payload.codec)}"
        out["class_ref"] = None if type_name == "Any" else type_name
    elif isinstance(payload, JsonPayload):
        jt = payload.json_type
        sources.add(payload.source)
        module_parts = tuple(jt.module.split("."))
        alias = module_alias(module_parts)
        extra_relative.append((relative_import((), module_parts), alias))
        type_name = f"{alias}.{jt.class_name}"
        out["class_ref"] = type_name
        schema = JsonReference("", payload.source, jt.schema_text, jt.module, jt.references)
        code = json_side_code(label, type_name, schema, documents)
        out["schema_assign"] = code.schema_assign
        out["json_codec"] = True
        out["json_references"] = bool(code.documents)
        sources.update(code.documents)
        for module in code.modules:
            parts = tuple(module.split("."))
            extra_relative.append((relative_import((), parts), module_alias(parts)))
        out["codec_assign"] = code.codec_assign
    else:
        assert isinstance(payload, AvroPayload)
        t = payload.type
        defining.add(t, sources)
        type_name = r.annotation(t)
        if "|" not in type_name and "[" not in type_name and type_name != "None":
            out["class_ref"] = type_name
        out["fingerprint"] = f"0x{payload.fingerprint:016X}"  # as ruff format writes hex
        out["schema_assign"] = f"{label}_SCHEMA: Final = {py_string(payload.schema_text)}"
        args = [f"{label}_SCHEMA", f"fingerprint={label}_FINGERPRINT"]
        if isinstance(t, Ref) and model.registry.named(t).kind == "record":
            args += [f"to_avro={type_name}.to_avro", f"from_avro={type_name}.from_avro"]
        else:
            enc = r.encode(t, "v")
            dec = r.decode(t, "v")
            if enc is not None:
                helpers.append(f"def _{lower}_to_avro(v: {alias_name}) -> Any:\n    return {enc}")
                args.append(f"to_avro=_{lower}_to_avro")
                out["uses_any"] = True
            if dec is not None:
                helpers.append(f"def _{lower}_from_avro(v: Any) -> {alias_name}:\n    return {dec}")
                args.append(f"from_avro=_{lower}_from_avro")
                out["uses_any"] = True
        root = topic_root(model.registry, topic.module, lower, t)
        r.modules.add((CODEC_MODULE,))
        codec_alias = module_alias((CODEC_MODULE,))
        args += [f"encoder={codec_alias}.{root.encode}", f"decoder={codec_alias}.{root.decode}"]
        args += [f"classes={codec_alias}.CLASSES", f"readers={codec_alias}.READERS"]
        args.append(f"resolvers={codec_alias}.RESOLVERS")
        args.append(f"name={codec_name}")
        # What a user reads in an EncodeError: the type as written, without module aliases.
        readable = re.sub(r"[\w.]*\.", "", type_name)
        args.append(f"expected={py_string(readable)}")
        support = r.support()
        out["codec_assign"] = (
            f"{label}_CODEC: Final = {support}.AvroTypeCodec[{alias_name}](\n    "
            + ",\n    ".join(args)
            + ",\n)"
        )
    out["alias"] = f"{alias_name}: TypeAlias = {type_name}"
    out["type_name"] = alias_name
    out["codec_ref"] = f"{label}_CODEC"
    return out


class _DefiningFiles:
    """The files defining the named types a type reaches (the modules' ``Sources`` line).

    Each record's references are listed once per process: thousands of topics reach the
    same records."""

    def __init__(self, model: CompileModel) -> None:
        self._registry = model.registry
        self._reached: dict[str, tuple[str, list[Ref]]] = {}

    def add(self, t: AvroType, sources: set[str]) -> None:
        """Add the files defining every named type ``t`` reaches to ``sources``."""
        pending = direct_refs(t)
        seen: set[str] = set()
        while pending:
            ref = pending.pop()
            if ref.fullname in seen:
                continue
            seen.add(ref.fullname)
            step = self._reached.get(ref.fullname)
            if step is None:
                nt = self._registry.named(ref)
                step = nt.file, [r for f in nt.fields for r in direct_refs(f.type)]
                self._reached[ref.fullname] = step
            sources.add(step[0])
            pending.extend(step[1])


def _compacted(desc: TopicDescriptor) -> bool:
    """Whether the topic's cleanup policy compacts (tombstones then delete keys)."""
    policy = desc.config.get("cleanup.policy")
    if policy is not None:
        return "compact" in [p.strip() for p in policy.split(",")]
    return bool(desc.compacting)


def _value_may_be_none(desc: TopicDescriptor) -> bool:
    """The tombstone rule: on a compacted topic a null value (a tombstone) is part of the
    contract, so the reader's value type admits None; elsewhere it does not (descriptor
    types never admit null), and the run-time treats a null value as a record that does not
    decode."""
    return _compacted(desc)


def _key_may_be_none(desc: TopicDescriptor) -> bool:
    """A topic that declares no key type carries keyless records: its key type admits None."""
    return desc.key is None


def _topic_type(alias: str, may_be_none: bool) -> str:
    """A type argument of the generated ``Topic[K, V]`` base: the alias, with ``| None`` where
    None can arrive (the run-time reads the same answer from the base class)."""
    return f"{alias} | None" if may_be_none else alias


def _settings(desc: TopicDescriptor) -> list[tuple[str, str]]:
    """Class attributes of the topic class: ``default_options`` and the registry settings."""
    options: list[str] = []
    for name, value in (
        ("partitions", desc.partitions),
        ("replicas", desc.replicas),
        ("retention", desc.retention),
        ("compacting", desc.compacting),
        ("deleting", desc.deleting),
    ):
        if value is not None:
            options.append(f"{name}={value!r}")
    if desc.internal:
        options.append("internal=True")
    if not desc.acks:
        options.append("acks=False")
    if desc.config:
        items = ", ".join(f"{py_string(k)}: {py_string(v)}" for k, v in sorted(desc.config.items()))
        options.append("config={" + items + "}")
    if desc.on_decode_error is not None:
        options.append(f"on_decode_error={py_string(desc.on_decode_error)}")
    if desc.dead_letter_topic is not None:
        options.append(f"dead_letter_topic={py_string(desc.dead_letter_topic)}")
    out: list[tuple[str, str]] = []
    if options:
        call = f"TopicOptions({', '.join(options)})"
        if len(call) > 100 - len("    default_options = "):
            # One option a line, as ruff format would wrap it.
            call = "TopicOptions(\n" + "".join(f"        {o},\n" for o in options) + "    )"
        out.append(("default_options", call))
    if desc.subject_name_strategy != "topic":
        out.append(("subject_name_strategy", py_string(desc.subject_name_strategy)))
    if desc.compatibility is not None:
        out.append(("compatibility", py_string(desc.compatibility)))
    return out
