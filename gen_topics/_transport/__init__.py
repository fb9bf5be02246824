"""Transports: how the runtime talks to a broker (real Kafka via aiokafka, or in-process memory)."""

from gen_topics._transport.base import (
    AdminTransport,
    ConsumerSettings,
    ConsumerTransport,
    ProducerSettings,
    ProducerTransport,
    TopicDescription,
    Transport,
)
from gen_topics._transport.urls import BrokerURL, parse_broker_url, transport_for

__all__ = [
    "AdminTransport",
    "BrokerURL",
    "ConsumerSettings",
    "ConsumerTransport",
    "ProducerSettings",
    "ProducerTransport",
    "TopicDescription",
    "Transport",
    "parse_broker_url",
    "transport_for",
]
