"""JSON Schema keys and values: pydantic v2 models via datamodel-code-generator.

The topic compiler calls :class:`JsonSchemaCompiler` for descriptor keys/values that name a
``.json`` schema file or a schema ``$id``; generated topic modules then use
``gen_topics.json_codec.JsonModelCodec`` with the models rendered here.
"""

from __future__ import annotations

from generator.jsonschema.compiler import JsonSchemaCompiler, JsonType
from generator.jsonschema.errors import JsonSchemaError
from generator.jsonschema.references import JsonReference

__all__ = ["JsonReference", "JsonSchemaCompiler", "JsonSchemaError", "JsonType"]
