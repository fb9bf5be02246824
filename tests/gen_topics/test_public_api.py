"""The public surface of gen_topics: what is exported, and one root for every error."""

from __future__ import annotations

import inspect
import pkgutil

import gen_topics
import gen_topics.errors
import gen_topics.json_codec
import gen_topics.registry
import gen_topics.registry.errors
import gen_topics.registry.subjects

EXPORTED = {
    "TP",
    "App",
    "AvroCodec",
    "Codec",
    "CodecError",
    "CommitFailed",
    "DeadLetterError",
    "DeclareError",
    "DecodeError",
    "DeliveryError",
    "EncodeError",
    "Event",
    "FutureMessage",
    "GenTopicsError",
    "Message",
    "PendingMessage",
    "PreparedCodec",
    "RecordMetadata",
    "RegistryUnavailableError",
    "Schema",
    "SchemaCodec",
    "SchemaRegistryError",
    "SeekError",
    "Settings",
    "ShutdownReport",
    "Topic",
    "TopicConfigMismatch",
    "TransactionError",
    "TransactionFencedError",
    "MemberFencedError",
    "TransactionTimeoutError",
    "TopicOptions",
    "UndeliveredRecordsError",
    "TransientDecodeError",
    "UnknownCodecError",
    "UnknownPartitionError",
    "get_codec",
}
PUBLIC_MODULES = {"codecs", "errors", "json_codec", "metrics", "registry", "sensors", "tracing"}


def test_exported_names() -> None:
    assert set(gen_topics.__all__) == EXPORTED
    for name in gen_topics.__all__:
        assert getattr(gen_topics, name).__module__.startswith("gen_topics"), name


def test_every_other_module_is_marked_internal() -> None:
    names = {m.name for m in pkgutil.iter_modules(gen_topics.__path__)}
    assert names - PUBLIC_MODULES == {n for n in names if n.startswith("_")}


def _exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for module in (
        gen_topics,
        gen_topics.errors,
        gen_topics.json_codec,
        gen_topics.registry,
        gen_topics.registry.errors,
        gen_topics.registry.subjects,
    ):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Exception) and obj.__module__.startswith("gen_topics"):
                found.append(obj)
    return found


def test_every_error_has_one_root() -> None:
    classes = _exception_classes()
    assert len(classes) > 15
    for cls in classes:
        assert issubclass(cls, gen_topics.GenTopicsError), cls


def test_the_root_docstring_draws_every_error() -> None:
    doc = gen_topics.errors.__doc__ or ""
    for cls in _exception_classes():
        assert cls.__name__ in doc, cls.__name__
