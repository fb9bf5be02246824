"""JSON Schema keys and values: pydantic v2 models via datamodel-code-generator.

The topic compiler calls :class:`JsonSchemaCompiler` for descriptor keys/values that name a
``.json`` schema file or a schema ``$id``; generated topic modules then use
``gen_topics.json_codec.JsonModelCodec`` with the models rendered here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.jsonschema.compiler import JsonSchemaCompiler, JsonType
    from generator.jsonschema.errors import JsonSchemaError
    from generator.jsonschema.references import JsonReference

__all__ = ["JsonReference", "JsonSchemaCompiler", "JsonSchemaError", "JsonType"]

# Imported on first use: a compile without JSON Schemas must not pay for datamodel-code-
# generator, pydantic and jsonschema, which the compiler module imports.
_EXPORTS = {
    "JsonReference": "generator.jsonschema.references",
    "JsonSchemaCompiler": "generator.jsonschema.compiler",
    "JsonSchemaError": "generator.jsonschema.errors",
    "JsonType": "generator.jsonschema.compiler",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'generator.jsonschema' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
