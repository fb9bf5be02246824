"""A minimal Kafka Metadata request over a raw socket: is the broker answering?

Stdlib only, so the service manager can check readiness before any client library is installed.
Metadata v4 is used because Kafka 4.x removed v0-v3 (KIP-896) and v4 is still the non-flexible
(fixed-width header) encoding, which keeps the parser short.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

_METADATA = 3
_VERSION = 4
_CLIENT_ID = b"gen-topics-probe"


@dataclass(frozen=True)
class BrokerInfo:
    """One broker listed in a Metadata response."""

    node_id: int
    host: str
    port: int


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        text = self.data[self.pos : self.pos + length].decode()
        self.pos += length
        return text


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection mid-response")
        chunks.extend(chunk)
    return bytes(chunks)


def metadata_brokers(host: str, port: int, *, timeout: float = 2.0) -> list[BrokerInfo]:
    """Send a Metadata v4 request for no topics and return the brokers the cluster reports.

    Raises OSError (including ConnectionError and socket.timeout) when the broker does not answer.
    """
    correlation_id = 1
    header = struct.pack(">hhih", _METADATA, _VERSION, correlation_id, len(_CLIENT_ID)) + _CLIENT_ID
    # Empty topic array (not null: null means "all topics"), allow_auto_topic_creation=false.
    body = struct.pack(">i?", 0, False)
    request = header + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        reader = _Reader(_recv_exact(sock, size))
    if reader.take(">i") != correlation_id:
        raise ConnectionError("Metadata response carries the wrong correlation id")
    reader.take(">i")  # throttle_time_ms
    brokers: list[BrokerInfo] = []
    for _ in range(reader.take(">i")):
        node_id = reader.take(">i")
        broker_host = reader.string() or ""
        broker_port = reader.take(">i")
        reader.string()  # rack
        brokers.append(BrokerInfo(node_id, broker_host, broker_port))
    return brokers


def broker_ready(host: str, port: int) -> bool:
    """Return True when the broker answers a Metadata request listing at least one broker."""
    try:
        return bool(metadata_brokers(host, port))
    except (OSError, struct.error):
        return False
