"""Broker URLs: ``kafka://host:port[,host:port]`` and ``memory://[name]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gen_topics._transport.base import Transport

__all__ = ["BrokerURL", "parse_broker_url", "transport_for"]


@dataclass(frozen=True)
class BrokerURL:
    """A parsed broker URL: ``scheme`` is "kafka" or "memory"; ``servers`` the host:port list
    (for memory, one entry: the broker's name, "" for the default broker)."""

    scheme: str
    servers: tuple[str, ...]

    @property
    def bootstrap_servers(self) -> str:
        """Comma-joined host:port list, as Kafka clients take it."""
        return ",".join(self.servers)


def parse_broker_url(url: str) -> BrokerURL:
    """Parse ``kafka://h1:9092,h2:9092`` or ``memory://`` (optionally ``memory://name``).

    Raises ``ValueError`` naming the URL and the accepted forms.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in {"kafka", "memory", "aiokafka"}:
        raise ValueError(
            f"broker URL {url!r} is not supported: use 'kafka://host:port[,host:port]' "
            "or 'memory://'"
        )
    rest = rest.rstrip("/")
    if scheme == "memory":
        return BrokerURL("memory", (rest,))
    servers = tuple(part.strip() for part in rest.split(",") if part.strip())
    # Faust also accepts "kafka://a:1;kafka://b:2"; strip repeated schemes.
    servers = tuple(s.split("://", 1)[-1] for s in servers)
    if not servers:
        raise ValueError(f"broker URL {url!r} names no host: use 'kafka://host:port'")
    for server in servers:
        host, colon, port = server.rpartition(":")
        if not colon or not host or not port.isdigit():
            raise ValueError(
                f"broker URL {url!r}: {server!r} is not host:port (e.g. 'kafka://127.0.0.1:9092')"
            )
    return BrokerURL("kafka", servers)


def transport_for(url: BrokerURL) -> Transport[Any]:
    """The transport for a parsed URL (imports aiokafka only for kafka://)."""
    if url.scheme == "memory":
        from gen_topics._transport.memory import MemoryTransport

        return MemoryTransport(url.servers[0])
    from gen_topics._transport.kafka import KafkaTransport

    return KafkaTransport(url.bootstrap_servers)
