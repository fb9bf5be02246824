"""Kafka's default partitioner: murmur2 of the key bytes, as the Java client computes it.

``partition_for_key(key, n)`` gives the same partition number as the Java producer
(``toPositive(murmur2(key)) % n``), so keys land on the same partitions whether they
were produced here, on the memory broker, or by any Kafka client.
"""

from __future__ import annotations

__all__ = ["RoundRobin", "murmur2", "partition_for_key", "to_positive"]

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash of ``data`` as a signed 32-bit int (``Utils.murmur2`` in Java)."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    end = length & ~3
    for i in range(0, end, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = (h * _M) & _MASK
        h ^= k
    tail = length & 3
    if tail == 3:
        h ^= data[end + 2] << 16
    if tail >= 2:
        h ^= data[end + 1] << 8
    if tail >= 1:
        h ^= data[end]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def to_positive(number: int) -> int:
    """Java's ``Utils.toPositive``: clear the sign bit (not ``abs``)."""
    return number & 0x7FFFFFFF


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a non-null ``key``."""
    if num_partitions <= 0:
        raise ValueError(f"num_partitions must be positive, got {num_partitions}")
    return to_positive(murmur2(key)) % num_partitions


class RoundRobin:
    """Spreads keyless records over partitions in turn (one counter per topic)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def partition(self, topic: str, num_partitions: int) -> int:
        """The next partition for a keyless record on ``topic``."""
        n = self._next.get(topic, 0)
        self._next[topic] = n + 1
        return n % num_partitions
