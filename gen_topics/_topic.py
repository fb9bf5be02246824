"""Topic[K, V]: a typed Kafka topic description with Faust's ``Topic`` API.

Faust behaviour is followed except where docs/runtime.md ("Where we differ from Faust")
says otherwise: ``topics="orders"`` is one topic; a passed Schema is never mutated and ``derive``
copies; ``send(value=None)`` is a tombstone for every codec; a key/value that does not
encode fails before anything is sent; async callbacks are always awaited;
``maybe_declare`` shares one call, delivers failures to every waiter and retries later.

The class is assembled from :mod:`gen_topics._topic_core` (description, clones, codecs),
:mod:`gen_topics._topic_sending` and :mod:`gen_topics._topic_reading`; this module adds
``derive`` and declaring.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any, Self, TypeVar, Unpack

from gen_topics._declare import declare_names, topic_config
from gen_topics._schema import Schema, Serializer
from gen_topics._topic_core import _SharedDeclare
from gen_topics._topic_options import TopicOptionArgs, TopicOptions
from gen_topics._topic_reading import TopicReading
from gen_topics._topic_sending import TopicSending
from gen_topics.errors import TopicConfigMismatch

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["Topic"]

_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(TopicOptions))


class Topic(TopicSending[K, V], TopicReading[K, V]):
    """A named Kafka channel whose keys are ``K`` and values ``V``.

    Generated subclasses set the ``default_*`` class attributes and ``default_options``
    (a :class:`TopicOptions`); each constructor argument left as ``None`` takes the default.
    """

    # -- derive / clone -----------------------------------------------------------

    def derive(self, **kwargs: Any) -> Self:
        """A new topic of the same class with this one's configuration and ``kwargs`` applied."""
        return self.derive_topic(**kwargs)

    def derive_topic(
        self,
        *,
        topics: Sequence[str] | str | None = None,
        schema: Schema | None = None,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        allow_empty: bool | None = None,
        prefix: str = "",
        suffix: str = "",
        **options: Unpack[TopicOptionArgs],
    ) -> Self:
        """Derive a topic: copies (never shares) this topic's schema and options.

        Unlike Faust, ``replicas``, ``acks`` and ``maxsize`` carry over, and unknown
        keyword arguments raise ``TypeError`` instead of being dropped silently.
        """
        unknown = set(options) - _OPTION_NAMES
        if unknown:
            raise TypeError(
                f"derive_topic() got unexpected keyword arguments: {', '.join(sorted(unknown))}"
            )
        names: Sequence[str] = (
            (topics,)
            if isinstance(topics, str)
            else (topics if topics is not None else self.topics)
        )
        if prefix or suffix:
            if self._pattern is not None:
                raise ValueError("Cannot add prefix/suffix to Topic with pattern")
            names = [f"{prefix}{name}{suffix}" for name in names]
        if prefix:
            options["has_prefix"] = True
        base = schema if schema is not None else self.schema
        return type(self)(
            self.app,
            topics=tuple(names),
            pattern=self._pattern,
            schema=base.replace(
                key_type=key_type,
                value_type=value_type,
                key_serializer=key_serializer,
                value_serializer=value_serializer,
                allow_empty=allow_empty,
            ),
            base_options=self.options.replace(**options),
        )

    # -- declaring ----------------------------------------------------------------

    async def declare(self) -> list[TopicConfigMismatch]:
        """Create each name with partitions, replicas, retention, cleanup policy and config;
        compare existing topics and report differences by the app's policy.

        Returns the mismatches found (where Faust's ``declare`` returns ``None``, this
        returns an empty list).
        """
        if not self.app.conf.topic_allow_declare or not self.topics:
            return []
        admin = await self.app.admin()
        options = self.options
        config = topic_config(
            retention=options.retention_seconds,
            compacting=options.compacting,
            deleting=options.deleting,
            config=options.config,
        )
        return await declare_names(
            self.app,
            admin,
            self.topics,
            partitions=options.partitions,
            replicas=options.replicas,
            config=config,
        )

    async def maybe_declare(self) -> None:
        """Declare once: concurrent callers share one call; a failure reaches all of them and
        a later call tries again."""
        state = self._declare
        if state.done:
            return
        if state.task is None:
            state.task = asyncio.ensure_future(self._declare_once(state))
        await asyncio.shield(state.task)

    async def _declare_once(self, state: _SharedDeclare) -> None:
        try:
            await self.declare()
        except BaseException:
            state.task = None
            raise
        state.done = True
