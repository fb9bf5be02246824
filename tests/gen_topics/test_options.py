"""Each option is declared once: the keyword types follow the frozen objects that own them."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

from gen_topics import App, Settings, TopicOptions
from gen_topics._settings import AppSettings
from gen_topics._topic_options import TopicOptionArgs
from gen_topics._transport.base import ConsumerSettings, ProducerSettings


def _fields(cls: type[Any]) -> dict[str, str]:
    return {f.name: str(f.type) for f in dataclasses.fields(cls)}


def _keywords(cls: type[Any]) -> dict[str, str]:
    # TypedDict keeps postponed annotations as ForwardRefs; compare their text.
    return {
        name: getattr(hint, "__forward_arg__", str(hint))
        for name, hint in cls.__annotations__.items()
    }


def test_topic_keywords_are_the_options() -> None:
    hints = _keywords(TopicOptionArgs)
    fields = _fields(TopicOptions)
    assert set(hints) == set(fields)
    for name, annotation in fields.items():
        # A keyword may also be None ("keep the default").
        assert hints[name] in (annotation, f"{annotation} | None"), name


def test_app_keywords_are_the_settings() -> None:
    fields = _fields(Settings)
    del fields["id"]
    assert _keywords(AppSettings) == fields


@pytest.mark.parametrize(
    ("part", "prefix"), [(ProducerSettings, "producer_"), (ConsumerSettings, "consumer_")]
)
def test_transport_settings_come_from_the_app_settings_by_name(
    part: type[Any], prefix: str
) -> None:
    # Every producer/consumer knob the App has reaches the transport without a mapping table.
    settings = {f.name for f in dataclasses.fields(Settings)}
    for f in dataclasses.fields(part):
        if prefix + f.name in settings or f.name in settings:
            continue
        assert f.default is not dataclasses.MISSING, f"{part.__name__}.{f.name} has no source"


def test_settings_reach_the_transports() -> None:
    app = App(
        "svc", producer_linger_ms=7, producer_acks=1, consumer_max_poll_records=11, client_id="c"
    )
    producer = app.conf.producer()
    assert (producer.linger_ms, producer.acks, producer.client_id) == (7, 1, "c")
    consumer = app.conf.consumer()
    assert (consumer.group_id, consumer.max_poll_records, consumer.client_id) == ("svc", 11, "c")
    assert App("svc", consumer_group_id="g").conf.consumer().group_id == "g"


def test_options_are_frozen_and_validated() -> None:
    options = TopicOptions(partitions=3, config={"a": "1"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.partitions = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        options.config["a"] = "2"  # type: ignore[index]
    with pytest.raises(ValueError, match="zero partitions"):
        TopicOptions(partitions=0)
    with pytest.raises(ValueError, match="retention"):
        TopicOptions(retention="forever")
    assert options.replace(partitions=None, replicas=2) == TopicOptions(
        partitions=3, replicas=2, config={"a": "1"}
    )


def test_an_assigned_attribute_replaces_the_options_object() -> None:
    app = App("svc")
    topic = app.topic("t", partitions=2)
    before = topic.options
    topic.partitions = 5
    assert topic.options.partitions == 5
    assert before.partitions == 2
    assert typing.get_type_hints(TopicOptions)["partitions"] == int | None
