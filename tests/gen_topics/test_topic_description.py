"""Topic description without a broker: schema, construction, names, derive (Faust's behaviour,
and where docs/runtime.md says we differ)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from gen_topics import App, Schema, Topic, TopicOptions
from gen_topics.codecs import Codec, JsonCodec, RawCodec


@pytest.fixture
def app(memory_url: str) -> Iterator[App]:
    yield App("desc", broker=memory_url)


# -- schema and types ------------------------------------------------------------------


def test_default_topic_has_empty_schema(app: App) -> None:
    topic = app.topic("foo")
    assert topic.schema is not None
    assert (topic.key_type, topic.value_type) == (None, None)
    assert (topic.key_serializer, topic.value_serializer) == (None, None)
    assert "Schema(" in repr(topic.schema)


def test_schema_given_is_used_as_is_when_no_overrides(app: App) -> None:
    schema = Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    topic = Topic[bytes, bytes](app, topics=["foo"], schema=schema)
    assert topic.schema == schema
    assert (topic.key_type, topic.value_type) == (bytes, bytes)
    assert (topic.key_serializer, topic.value_serializer) == ("raw", "raw")


def test_overrides_win_and_the_given_schema_is_not_mutated(app: App) -> None:
    # Fix over Faust: Faust writes the overrides into the caller's Schema object.
    schema = Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    topic = app.topic(
        "foo",
        schema=schema,
        key_type=str,
        value_type=str,
        key_serializer="str",
        value_serializer="json",
    )
    assert (topic.key_type, topic.value_type) == (str, str)
    assert (topic.key_serializer, topic.value_serializer) == ("str", "json")
    assert schema == Schema(bytes, bytes, "raw", "raw")
    other = app.topic("bar", schema=schema)
    assert other.value_serializer == "raw"


def test_schema_is_immutable() -> None:
    schema = Schema(key_serializer="raw")
    with pytest.raises(AttributeError):
        schema.key_serializer = "json"  # type: ignore[misc]


# -- construction and properties ---------------------------------------------------------


def test_topics_string_is_one_topic(app: App) -> None:
    # Fix over Faust: topics="abc" would be the topics a, b and c there.
    topic = Topic[Any, Any](app, topics="orders")
    assert topic.topics == ("orders",)
    assert topic.get_topic_name() == "orders"


def test_app_topic_takes_names_as_tuple(app: App) -> None:
    assert app.topic("a", "b").topics == ("a", "b")


def test_topics_and_pattern_is_type_error(app: App) -> None:
    with pytest.raises(TypeError, match="Cannot specify both topics and pattern"):
        Topic[Any, Any](app, topics=["a"], pattern="^a.*")


def test_setting_pattern_on_named_topic_is_type_error(app: App) -> None:
    topic = app.topic("a")
    with pytest.raises(TypeError, match="Cannot specify both topics and pattern"):
        topic.pattern = "^x"


def test_zero_partitions_is_value_error(app: App) -> None:
    topic = app.topic("a")
    with pytest.raises(ValueError, match="Topic cannot have zero partitions"):
        topic.partitions = 0
    with pytest.raises(ValueError, match="Topic cannot have zero partitions"):
        app.topic("a", partitions=0)
    topic.partitions = 3
    assert topic.partitions == 3


def test_pattern_string_is_compiled(app: App) -> None:
    topic = app.topic(pattern="^foo.*")
    assert isinstance(topic.pattern, re.Pattern)
    assert topic.pattern.pattern == "^foo.*"
    assert str(topic) == str(re.compile("^foo.*"))
    assert topic.topics == ()


def test_label_and_repr(app: App) -> None:
    topic = app.topic("a", "b")
    assert str(topic) == "a,b"
    assert topic.label == "Topic: a,b"
    assert topic.clone(is_iterator=True).label == "(*)Topic: a,b"
    assert repr(topic).startswith("<Topic Topic: a,b@0x")
    assert repr(topic.clone(active_partitions=set())).endswith("active={<pending for assignment>}>")


def test_retention_forms(app: App) -> None:
    assert app.topic("a", retention=3600).retention_seconds == 3600.0
    assert app.topic("a", retention="7d").retention_seconds == 7 * 86400.0
    assert app.topic("a", retention="30m").retention_seconds == 1800.0
    with pytest.raises(ValueError, match="retention '7 fortnights' is not understood"):
        app.topic("a", retention="7 fortnights")


# -- topic name ----------------------------------------------------------------------------


def test_get_topic_name_errors(app: App) -> None:
    with pytest.raises(TypeError, match="Topic with pattern subscription cannot be identified"):
        app.topic(pattern="x.*").get_topic_name()
    with pytest.raises(ValueError, match="Topic with multiple topic names cannot be identified"):
        app.topic("a", "b").get_topic_name()
    with pytest.raises(TypeError, match=r"Topic has no subscriptions \(no pattern, no topics\)"):
        app.topic().get_topic_name()
    assert app.topic("only").get_topic_name() == "only"


def test_topic_name_or_default(app: App) -> None:
    topic = app.topic("mine")
    assert topic._topic_name_or_default("xyz") == "xyz"
    assert topic._topic_name_or_default(None) == "mine"
    assert topic._topic_name_or_default(app.topic("other")) == "other"


# -- derive ----------------------------------------------------------------------------------


def test_derive_overrides_key_serializer_keeps_the_rest(app: App) -> None:
    topic = app.topic("foo", "bar", key_serializer="json", value_serializer="json")
    derived = topic.derive(key_serializer="raw")
    assert derived.key_serializer == "raw"
    assert derived.value_serializer == "json"
    assert derived.topics == ("foo", "bar")
    assert topic.key_serializer == "json"  # fix: the source is not mutated


def test_derive_prefix_and_suffix(app: App) -> None:
    topic = app.topic("foo", "bar")
    prefixed = topic.derive(key_serializer="raw", prefix="foo_")
    assert prefixed.topics == ("foo_foo", "foo_bar")
    assert prefixed.has_prefix is True
    suffixed = topic.derive(suffix="-x")
    assert suffixed.topics == ("foo-x", "bar-x")
    assert suffixed.has_prefix is False


def test_derive_prefix_on_pattern_is_value_error(app: App) -> None:
    topic = app.topic(pattern="^a")
    with pytest.raises(ValueError, match="Cannot add prefix/suffix to Topic with pattern"):
        topic.derive(prefix="p")
    with pytest.raises(ValueError, match="Cannot add prefix/suffix to Topic with pattern"):
        topic.derive_topic(suffix="-repartition")


def test_derive_none_inherits_and_falsy_overrides_are_kept(app: App) -> None:
    topic = app.topic(
        "a", partitions=4, compacting=True, internal=True, config={"x": "1"}, retention=60
    )
    derived = topic.derive(partitions=None, compacting=False, internal=False, config={})
    assert derived.partitions == 4
    assert derived.compacting is False
    assert derived.internal is False
    assert derived.config == {}
    assert derived.retention == 60


def test_derive_copies_config_and_carries_replicas_and_acks(app: App) -> None:
    # Fixes over Faust: config is never shared (it is read-only, and a derive replaces it);
    # replicas/acks/maxsize carry over.
    given = {"k": "v"}
    topic = app.topic("a", replicas=3, acks=False, maxsize=5, config=given)
    given["k"] = "changed by the caller"
    derived = topic.derive()
    assert (derived.replicas, derived.acks, derived.maxsize) == (3, False, 5)
    with pytest.raises(TypeError):
        derived.config["k"] = "changed"  # type: ignore[index]
    assert topic.derive(config={"k": "w"}).config == {"k": "w"}
    assert topic.config == {"k": "v"}
    assert topic.derive(replicas=9).replicas == 9


def test_derive_rejects_unknown_arguments(app: App) -> None:
    # Fix over Faust: unknown names were silently dropped.
    with pytest.raises(TypeError, match="bogus"):
        app.topic("a").derive(bogus=1)


def test_derive_keeps_the_subclass_and_its_defaults(app: App) -> None:
    class OrdersTopic(Topic[str, dict[str, Any]]):
        default_topics: ClassVar[tuple[str, ...]] = ("orders",)
        default_key_serializer: ClassVar[Codec[Any] | str | None] = RawCodec()
        default_value_serializer: ClassVar[Codec[Any] | str | None] = JsonCodec()
        default_options: ClassVar[TopicOptions] = TopicOptions(
            partitions=6, config={"min.insync.replicas": "1"}
        )

    topic = OrdersTopic(app)
    assert topic.topics == ("orders",)
    assert topic.partitions == 6
    assert isinstance(topic.key_serializer, RawCodec)
    assert topic.config == {"min.insync.replicas": "1"}
    derived = topic.derive(suffix="-retry")
    assert type(derived) is OrdersTopic
    assert derived.topics == ("orders-retry",)
    assert derived.partitions == 6
    assert isinstance(derived.value_serializer, JsonCodec)


def test_class_defaults_yield_to_arguments(app: App) -> None:
    class T(Topic[bytes, bytes]):
        default_topics: ClassVar[tuple[str, ...]] = ("t",)
        default_options: ClassVar[TopicOptions] = TopicOptions(acks=False, internal=True)

    assert (T(app).acks, T(app).internal) == (False, True)
    assert (T(app, acks=True).acks, T(app, internal=False).internal) == (True, False)
    assert T(app, topics=["u"]).topics == ("u",)
    assert T(app, pattern="^t").topics == ()


# -- iteration and queue (no broker needed) ---------------------------------------------------


def test_aiter_on_iterator_returns_self(app: App) -> None:
    it = app.topic("a").clone(is_iterator=True)
    assert it.__aiter__() is it


def test_aiter_registers_a_clone_not_the_original(app: App) -> None:
    topic = app.topic("a")
    it = topic.__aiter__()
    assert it is not topic and it.is_iterator
    assert it in app.topics
    assert topic not in app.topics


async def test_put_requires_iterator(app: App) -> None:
    topic = app.topic("a")
    with pytest.raises(RuntimeError, match=r"Cannot put on Topic channel before aiter\(a\)"):
        await topic.put(None)  # type: ignore[arg-type]


async def test_anext_before_aiter_is_runtime_error(app: App) -> None:
    with pytest.raises(RuntimeError, match=r"Need to call channel.__aiter__\(\)"):
        await app.topic("a").__anext__()


async def test_put_and_read_back_locally(app: App) -> None:
    from gen_topics import Event, Message

    it = app.topic("a").__aiter__()
    event: Event[Any, Any] = Event(b"k", b"v", {}, Message("a", 0, 0, None, b"k", b"v"))
    await it.put(event)
    assert await it.get(timeout=1) is event


async def test_maxsize_bounds_the_queue(app: App) -> None:
    import asyncio

    from gen_topics import Event, Message

    it = app.topic("a", maxsize=2).__aiter__()
    event: Event[Any, Any] = Event(None, None, {}, Message("a", 0, 0, None, None, None))
    await it.put(event)
    await it.put(event)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(it.put(event), 0.05)


def test_clone_using_queue(app: App) -> None:
    import asyncio

    queue: asyncio.Queue[Any] = asyncio.Queue()
    clone = app.topic("a").clone_using_queue(queue)
    assert clone.queue is queue and clone.is_iterator


def test_on_stop_iteration_removes_only_isolated_clones(app: App) -> None:
    plain = app.topic("a").__aiter__()
    isolated = app.topic(
        "b",
    ).clone(is_iterator=True, active_partitions={("b", 0)})
    app.conductor.add(isolated)
    plain.on_stop_iteration()
    isolated.on_stop_iteration()
    assert plain in app.topics
    assert isolated not in app.topics
