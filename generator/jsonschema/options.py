"""The pinned datamodel-code-generator options, with the reason for each choice.

Changing one of these changes every generated JSON model, so each is a decision, not a
default: see docs/jsonschema.md for the resulting Python types.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HEADER_PLACEHOLDER", "dm_options"]

# Replaced per module by a header naming that module's source file (see render.py).
HEADER_PLACEHOLDER = "# @@gen-topics-header@@"


def dm_options() -> dict[str, Any]:
    """Keyword arguments for ``datamodel_code_generator.generate`` (imported lazily)."""
    from datamodel_code_generator.enums import DataModelType, InputFileType
    from datamodel_code_generator.format import Formatter, PythonVersion

    return {
        "input_file_type": InputFileType.JsonSchema,
        "output_model_type": DataModelType.PydanticV2BaseModel,
        "target_python_version": PythonVersion.PY_311,
        # Constraints go in Annotated[..., Field(...)], which mypy understands, instead of
        # conint(...)/constr(...) calls in annotations, which mypy rejects.
        "use_annotated": True,
        "field_constraints": True,
        "use_standard_collections": True,
        "use_union_operator": True,
        # Schema and property descriptions become docstrings.
        "use_schema_description": True,
        "use_field_description": True,
        # Real StrEnum classes (type-checked members), with UPPER_CASE members and a
        # member (not a bare string) as default, so mypy accepts the default.
        "capitalise_enum_members": True,
        "set_default_enum_member": True,
        "use_title_as_name": True,
        # Keeps properties the schema does not list (JSON Schema allows them unless
        # additionalProperties is false, which DM maps to extra='forbid' per class).
        "base_class": "gen_topics.json_codec.JsonModel",
        # Deterministic bytes: no timestamp, our own header, the built-in formatter (no
        # dependency on an external black/isort version).
        "disable_timestamp": True,
        "custom_file_header": HEADER_PLACEHOLDER,
        "formatters": [Formatter.BUILTIN],
        "builtin_format_line_length": 100,
        # Double quotes, as ruff format (the project's formatter) writes strings.
        "use_double_quotes": True,
        "use_exact_imports": True,
        # Root models become type aliases, so a nested constrained type (array items with
        # minLength, ...) is written ["a"] rather than [Tag("a")], and a file whose root is
        # not an object still gets its own importable name (JsonModelCodec takes both).
        # Not collapsed: a referenced primitive schema keeps its module and name.
        "collapse_root_models": False,
        "use_type_alias": True,
        # Null is allowed only where the schema allows it; a property that may be absent
        # but not null is `T | MISSING = MISSING`, so absent and null stay distinct and the
        # encoded JSON is exactly what the schema accepts.
        "strict_nullable": True,
        "use_missing_sentinel": True,
        # A required property with a default keeps the default and stays non-Optional.
        "apply_default_values_for_required_fields": True,
        # "format": "email" is kept as str: JSON Schema treats format as an annotation,
        # pydantic's EmailStr would reject addresses the schema accepts, normalise others
        # (changing bytes on re-publish), and pull in email-validator at run time.
        "type_mappings": ["email=string", "idn-email=string"],
    }
