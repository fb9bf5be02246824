"""Render JSON Schema files to pydantic v2 modules with datamodel-code-generator, in-process.

Files are staged (see staging.py), compiled in one ``generate()`` call so cross-file
references become relative imports, then finished (see postprocess.py).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from generator.jsonschema.errors import JsonSchemaError
from generator.jsonschema.index import SchemaFile, SchemaIndex
from generator.jsonschema.options import HEADER_PLACEHOLDER, dm_options
from generator.jsonschema.postprocess import finish_module, mark_field_overrides, top_level_names
from generator.jsonschema.staging import PACKAGE, ModulePlan, plan_module, stage_files
from generator.source_text import py_string

__all__ = ["SCHEMA_CONSTANT", "SCHEMA_CONSTANT_MARKER", "render_modules"]

#: The module constant holding the text of the schema file a model module was generated from.
SCHEMA_CONSTANT = "SCHEMA_TEXT"
#: How the constant starts in a model module (what topic code looks for).
SCHEMA_CONSTANT_MARKER = (
    "#: The JSON Schema this module was generated from, exactly as registered.\n"
    f"{SCHEMA_CONSTANT} = "
)


def _check_layout(plans: dict[str, ModulePlan], files: dict[str, SchemaFile]) -> None:
    owners: dict[tuple[str, ...], str] = {}
    for uri, plan in sorted(plans.items()):
        other = owners.get(plan.parts)
        if other is not None:
            raise JsonSchemaError(
                f"{files[other].relative} and {files[uri].relative} both become module "
                f"{plan.dotted}; rename one of them",
                path=files[uri].path,
            )
        owners[plan.parts] = uri
    packages = {parts[:i] for parts in owners for i in range(1, len(parts))}
    for parts, uri in owners.items():
        if parts in packages:
            raise JsonSchemaError(
                f"{files[uri].relative} becomes module {plans[uri].dotted}, which is also a "
                "folder of other schemas; rename the file or the folder",
                path=files[uri].path,
            )


def _call_datamodel_codegen(staging: Path, files: list[SchemaFile]) -> dict[tuple[str, ...], str]:
    # Imported on first use: only folders with JSON Schema topics pay for it. Without it
    # the command says which extra to install (generator/extras.py).
    from datamodel_code_generator import generate

    try:
        with warnings.catch_warnings():
            # Its FutureWarnings are about option defaults, which we pin explicitly.
            warnings.simplefilter("ignore", FutureWarning)
            result = generate(staging, **dm_options())
    except Exception as exc:  # DM raises many unrelated types; all mean "cannot compile"
        names = ", ".join(str(f.relative) for f in files)
        raise JsonSchemaError(
            f"datamodel-code-generator cannot compile {names}: {type(exc).__name__}: {exc}",
            path=files[0].path if len(files) == 1 else None,
        ) from exc
    if isinstance(result, str):
        # One staged file: DM returns a bare module instead of a package mapping.
        (only,) = sorted(staging.rglob("*.json"))
        return {only.relative_to(staging).with_suffix(".py").parts: result}
    if result is None:
        raise JsonSchemaError("datamodel-code-generator produced no output")
    return {tuple(key): value for key, value in result.items()}


def render_modules(index: SchemaIndex, starts: list[SchemaFile]) -> dict[str, str]:
    """Render ``starts`` and everything they reference into ``jsonmodels/...`` modules.

    Returns output paths (``"jsonmodels/common/address.py"``) mapped to module source.
    """
    files = index.closure(starts)
    if not files:
        return {}
    # Only the requested roots must define their root class (topic modules import it);
    # a document that is only referenced is used through the modules that import it.
    wanted = {schema.file_uri for schema in starts}
    plans = {schema.file_uri: plan_module(schema) for schema in files}
    by_uri = {schema.file_uri: schema for schema in files}
    _check_layout(plans, by_uri)
    with tempfile.TemporaryDirectory(prefix="gen-topics-json-") as tmp:
        stage_files(Path(tmp), files, index, plans)
        generated = _call_datamodel_codegen(Path(tmp), files)
    origin = {
        plan.module_key: f"{index.root.name}/{by_uri[uri].relative}" for uri, plan in plans.items()
    }
    sources = {
        key: finish_module(source, origin.get(key), key[-1] == "__init__.py")
        for key, source in generated.items()
    }
    for uri, plan in plans.items():
        module = sources.get(plan.module_key)
        if uri in wanted and (module is None or plan.class_name not in top_level_names(module)):
            defined = ", ".join(top_level_names(module or "")) or "nothing"
            raise JsonSchemaError(
                f"datamodel-code-generator did not define {plan.class_name} (the root type "
                f"of this schema) in {plan.dotted}, which defines: {defined}",
                path=by_uri[uri].path,
            )
    # Every package level needs an __init__, even where DM emitted none.
    for key in list(sources):
        for depth in range(len(key)):
            init = (*key[:depth], "__init__.py")
            sources.setdefault(init, finish_module(HEADER_PLACEHOLDER + "\n", None, True))
    sources = mark_field_overrides(sources)
    for uri, plan in plans.items():
        _add_schema_constant(sources, plan.module_key, by_uri[uri].text)
    return {"/".join((PACKAGE, *key)): sources[key] for key in sorted(sources)}


def _add_schema_constant(
    sources: dict[tuple[str, ...], str], key: tuple[str, ...], text: str
) -> None:
    """Append ``SCHEMA_TEXT``, the schema file's exact text, to its module.

    Topic modules (and several topics share a schema) take their registered text from it
    instead of each embedding a copy. A module that defines the name itself is left alone.
    """
    module = sources.get(key)
    if module is None or SCHEMA_CONSTANT in top_level_names(module):
        return
    constant = f"{SCHEMA_CONSTANT_MARKER}{py_string(text)}\n"
    sources[key] = module.rstrip("\n") + "\n\n\n" + constant
