"""`JsonModelCodec`: JSON Schema keys and values as pydantic v2 models.

Encoding uses the model's own compiled serializer (pydantic-core, no ``json`` module) and,
by default, re-validates the produced bytes so that a model built with ``model_construct``
or mutated after construction cannot put a record on the topic that its schema rejects.
Decoding validates; a record that does not match is a :class:`JsonDecodeError` naming the
failing field path (the topic adds topic, partition and offset).

Needs the ``json`` extra (``pip install gen-topics[json]``): pydantic >= 2.14.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast, overload

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, SchemaSerializer, SchemaValidator

from gen_topics.codecs import SchemaCodec
from gen_topics.errors import DecodeError, EncodeError

if TYPE_CHECKING:
    from gen_topics.registry.models import ReferencedSchema

__all__ = [
    "JsonDecodeError",
    "JsonEncodeError",
    "JsonModel",
    "JsonModelCodec",
    "SchemaRef",
    "field_path",
]

ModelT = TypeVar("ModelT")
_M = TypeVar("_M", bound=BaseModel)


class JsonModel(BaseModel):
    """Base class of every generated JSON Schema object model.

    JSON Schema allows properties a schema does not list unless it says
    ``"additionalProperties": false`` (the generated class then sets ``extra='forbid'``), so
    unknown properties are kept and written back: a service on an older schema version that
    re-publishes a record does not silently drop a newer writer's fields.
    """

    model_config = ConfigDict(extra="allow")


def field_path(loc: Sequence[int | str]) -> str:
    """Pydantic's error location as a path: ``("detail", "parcels", 0, "sku")`` ->
    ``detail.parcels[0].sku``; ``""`` for the document itself.

    Inside a discriminated union pydantic adds the tag (``detail.created.parcels``).
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _first_problem(exc: ValidationError) -> tuple[str, str, list[dict[str, Any]]]:
    errors = [dict(e) for e in exc.errors(include_url=False, include_input=False)]
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    path = field_path(cast(Sequence[int | str], first.get("loc", ())))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return path, f"{first.get('msg', '')}{more}", errors


class JsonDecodeError(DecodeError):
    """A record did not match its JSON Schema.

    ``path`` is the first failing field (``detail.parcels[0].sku``, ``""`` for the whole
    record), ``errors`` every pydantic error (``loc``, ``msg``, ``type``).
    """

    def __init__(self, message: str, *, path: str, errors: list[dict[str, Any]], data: bytes):
        super().__init__(message, data=data)
        self.path = path
        self.errors = errors


class JsonEncodeError(EncodeError):
    """A value does not match its JSON Schema (or is not of the model's type); not sent.

    ``path`` is the first failing field, ``errors`` every pydantic error.
    """

    def __init__(self, message: str, *, path: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.path = path
        self.errors = errors


class SchemaRef(NamedTuple):
    """A JSON Schema document that a schema ``$ref``s, as a schema registry references it.

    ``name`` is the ``$ref`` as written (without its ``#fragment``), ``subject`` the registry
    subject the document is registered under (the one ``gen-topics push`` uses),
    ``schema_text`` its exact text and ``references`` the documents it ``$ref``s in turn.
    Generated topic modules build these instead of the registry's own
    ``ReferencedSchema`` so that importing a topic does not import the registry client.
    """

    name: str
    subject: str
    schema_text: str
    references: tuple[SchemaRef, ...] = ()


def _referenced(ref: SchemaRef) -> ReferencedSchema:
    from gen_topics.registry.models import ReferencedSchema

    return ReferencedSchema(
        ref.name,
        ref.subject,
        ref.schema_text,
        "JSON",
        tuple(_referenced(inner) for inner in ref.references),
    )


class JsonModelCodec(SchemaCodec[ModelT], Generic[ModelT]):
    """Encodes/decodes one generated JSON Schema type as UTF-8 JSON (no framing).

    ``model`` is a generated pydantic model class, or a generated type alias for a schema
    whose root is not an object (then annotate: ``JsonModelCodec[Alias](Alias, text)``).
    ``schema_text`` is the original schema, as registered. Set ``validate_on_encode=False``
    to skip re-validating encoded values when every value is built by normal construction
    (pydantic validates there) and never mutated. ``references`` are the documents
    ``schema_text`` ``$ref``s; a registry codec registers them first, under their own
    subjects, and registers the schema with them as its references.
    """

    schema_type = "JSON"

    @overload
    def __init__(
        self: JsonModelCodec[_M],
        model: type[_M],
        schema_text: str,
        *,
        name: str | None = None,
        validate_on_encode: bool = True,
        references: Sequence[SchemaRef] = (),
    ) -> None: ...

    @overload
    def __init__(
        self,
        model: object,
        schema_text: str,
        *,
        name: str | None = None,
        validate_on_encode: bool = True,
        references: Sequence[SchemaRef] = (),
    ) -> None: ...

    def __init__(
        self,
        model: object,
        schema_text: str,
        *,
        name: str | None = None,
        validate_on_encode: bool = True,
        references: Sequence[SchemaRef] = (),
    ) -> None:
        self.model = model
        self.schema_text = schema_text
        self.validate_on_encode = validate_on_encode
        self.references: tuple[SchemaRef, ...] = tuple(references)
        self._schema_references: tuple[ReferencedSchema, ...] | None = None
        self._type_name = str(getattr(model, "__name__", model))
        self.name = name or f"json:{self._type_name}"
        self._model_class: type[BaseModel] | None = None
        if isinstance(model, type) and issubclass(model, BaseModel):
            self._model_class = model
            validator: object = model.__pydantic_validator__
            self._serializer: SchemaSerializer = model.__pydantic_serializer__
        else:
            adapter: TypeAdapter[Any] = TypeAdapter(cast(Any, model))
            validator = adapter.validator
            self._serializer = adapter.serializer
        # A model whose schema is not built yet has a mock validator; generated modules
        # are complete at import, so this is the real pydantic-core validator.
        self._validator = cast(SchemaValidator, validator)

    @property
    def schema_references(self) -> tuple[ReferencedSchema, ...]:
        """:attr:`references` in the registry's form (what a ``RegistryCodec`` registers)."""
        if self._schema_references is None:
            # Built on first use: only an App with a schema registry asks for them.
            self._schema_references = tuple(_referenced(ref) for ref in self.references)
        return self._schema_references

    def encode(self, value: ModelT) -> bytes:
        """The value as compact UTF-8 JSON, by schema property names (aliases).

        Properties left absent (``MISSING``) are omitted; defaults are written. Raises
        :class:`JsonEncodeError` naming the field when the value does not match the schema.
        """
        if self._model_class is not None and not isinstance(value, self._model_class):
            hint = f"; build it with {self._type_name}(...) or .model_validate(...)"
            raise JsonEncodeError(
                f"{self.name}: expected a {self._type_name}, got {type(value).__name__}{hint}",
                path="",
                errors=[],
            )
        try:
            data = self._serializer.to_json(
                value, by_alias=True, warnings=False if self.validate_on_encode else "error"
            )
        except PydanticSerializationError as exc:
            raise JsonEncodeError(f"{self.name}: {exc}", path="", errors=[]) from exc
        if self.validate_on_encode:
            try:
                self._validator.validate_json(data)
            except ValidationError as exc:
                path, message, errors = _first_problem(exc)
                raise JsonEncodeError(
                    f"{self.name}: field {path or '<root>'!s}: {message}", path=path, errors=errors
                ) from None
        return data

    def decode(self, data: bytes) -> ModelT:
        """Parse and validate ``data``; :class:`JsonDecodeError` names the failing field."""
        try:
            value: ModelT = self._validator.validate_json(data)
        except ValidationError as exc:
            path, message, errors = _first_problem(exc)
            raise JsonDecodeError(
                f"{self.name}: record does not match the schema at {path or '<root>'}: {message}",
                path=path,
                errors=errors,
                data=data,
            ) from None
        return value

    def decode_with_writer_schema(self, data: bytes, writer_schema_text: str) -> ModelT:
        """JSON needs no schema resolution: the writer's schema only matters to the registry."""
        return self.decode(data)
