"""KIP-447 for aiokafka: the two requests that exactly-once processing in a consumer group
needs and aiokafka 0.14 (pinned in pyproject.toml) does not send.

- TxnOffsetCommit v3 carries the consumer's group metadata (generation id, member id, group
  instance id). aiokafka sends v0, without it, so the group coordinator cannot tell a fenced
  member (a zombie whose partitions the group gave to another member) from the current one,
  and the zombie's transaction commits offsets it no longer owns.
- OffsetFetch v7 with ``require_stable``: the coordinator answers UNSTABLE_OFFSET_COMMIT
  (retriable) for a partition whose offsets a transaction has added but not yet completed,
  instead of the offset before it. A partition's new owner otherwise reads the previous
  offset right after the revoking member's commit and processes records again.

Both are installed per client instance (:func:`install_group_fencing`,
:func:`install_stable_offset_fetch`): an attribute on that one aiokafka object shadows its
class's method, so other aiokafka clients in the process keep aiokafka's behaviour.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import Any

import aiokafka.errors as Errors
from aiokafka.client import CoordinationType
from aiokafka.producer.sender import TxnOffsetCommitHandler
from aiokafka.producer.transaction_manager import TransactionState
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Int64,
    Schema,
    TaggedFields,
)
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from gen_topics._transport.base import GroupMetadata

__all__ = [
    "FENCED_INSTANCE_ID",
    "StaleMemberError",
    "UnstableOffsetCommitError",
    "install_group_fencing",
    "install_stable_offset_fetch",
]

log = logging.getLogger(__name__)

# Kafka error codes that aiokafka 0.14 has no class for.
FENCED_INSTANCE_ID = 82
UNSTABLE_OFFSET_COMMIT = 88
_UNKNOWN_OFFSET = -1


class StaleMemberError(Errors.KafkaError):  # type: ignore[misc]
    """The group coordinator refused a transaction's offsets from this member: its
    generation is stale or its member id unknown (the group rebalanced without it), or its
    static instance id was taken over by a newer member."""

    retriable = False

    def __init__(self, code: int, name: str, metadata: GroupMetadata) -> None:
        super().__init__(
            f"{name} (error {code}) for group {metadata.group_id!r}, generation "
            f"{metadata.generation_id}, member {metadata.member_id!r}"
        )
        self.code = code
        self.error_name = name
        self.metadata = metadata


class UnstableOffsetCommitError(Errors.KafkaError):  # type: ignore[misc]
    """UNSTABLE_OFFSET_COMMIT: a transaction holds offsets of the partition that are not
    completed yet; aiokafka retries the fetch after its backoff."""

    retriable = True


# -- TxnOffsetCommit v3 ------------------------------------------------------------------


class TxnOffsetCommitResponse_v3(Response):  # type: ignore[misc]
    """Per partition an error code."""

    API_KEY = 28
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("error_code", Int16),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class TxnOffsetCommitRequest_v3(RequestStruct):  # type: ignore[misc]
    """Version 3 (Kafka 2.5+, flexible): adds generation id, member id, group instance id."""

    FLEXIBLE_VERSION = True
    API_KEY = 28
    API_VERSION = 3
    RESPONSE_TYPE = TxnOffsetCommitResponse_v3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("group_id", CompactString("utf-8")),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("generation_id", Int32),
        ("member_id", CompactString("utf-8")),
        ("group_instance_id", CompactString("utf-8")),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("committed_offset", Int64),
                        ("committed_leader_epoch", Int32),
                        ("committed_metadata", CompactString("utf-8")),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class TxnOffsetCommitRequest(Request[TxnOffsetCommitRequest_v3]):  # type: ignore[misc]
    """TxnOffsetCommit with the group metadata; only v3 (a broker without it is refused:
    committing without the metadata is what this module exists to avoid)."""

    API_KEY = 28

    def __init__(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        metadata: GroupMetadata,
        topics: list[tuple[str, list[tuple[int, int, str]]]],
    ) -> None:
        self._fields = (transactional_id, producer_id, producer_epoch, metadata, topics)

    def build(self, request_struct_class: type[TxnOffsetCommitRequest_v3]) -> Any:
        tid, pid, epoch, md, topics = self._fields
        return request_struct_class(
            tid,
            md.group_id,
            pid,
            epoch,
            md.generation_id,
            md.member_id,
            md.group_instance_id,
            [
                (name, [(p, offset, -1, meta, {}) for p, offset, meta in parts], {})
                for name, parts in topics
            ],
            {},
        )


# The answers on which aiokafka's own handler retries (after finding the coordinator again
# for the first set).
_COORDINATOR_MOVED = (
    Errors.CoordinatorNotAvailableError,
    Errors.NotCoordinatorError,
    Errors.RequestTimedOutError,
)
_RETRY = (Errors.CoordinatorLoadInProgressError, Errors.UnknownTopicOrPartitionError)
_STALE_MEMBER = {
    Errors.IllegalGenerationError.errno: "ILLEGAL_GENERATION",
    Errors.UnknownMemberIdError.errno: "UNKNOWN_MEMBER_ID",
    FENCED_INSTANCE_ID: "FENCED_INSTANCE_ID",
}


def _fail_transaction(txn_manager: Any, exc: BaseException) -> None:
    """Make the open transaction abortable only, failing the offsets waiting to be added.

    aiokafka's ``error_transaction`` also forgets the partitions and the group already added
    to the transaction; its abort then finds an "empty" transaction and sends no EndTxn, so
    the broker keeps the transaction open and the next commit would commit what was to be
    aborted. Here they are kept, so the abort that must follow does end it on the broker.
    """
    if txn_manager.state is not TransactionState.ABORTABLE_ERROR:
        txn_manager._transition_to(TransactionState.ABORTABLE_ERROR)
    for _group, _offsets, fut in txn_manager._pending_txn_offsets:
        if not fut.done():
            fut.set_exception(exc)
    txn_manager._pending_txn_offsets.clear()
    waiter = txn_manager._transaction_waiter
    if waiter is not None and not waiter.done():
        waiter.set_exception(exc)
        waiter.exception()  # retrieved: the caller gets ``exc`` from the offsets' future


class _GroupTxnOffsetCommitHandler(TxnOffsetCommitHandler):  # type: ignore[misc]
    """aiokafka's handler, sending v3 with the group metadata taken when the offsets were
    handed over, and turning a fenced member's refusal into an abortable error."""

    def __init__(self, sender: Any, offsets: Any, group_id: str, metadata: GroupMetadata) -> None:
        super().__init__(sender, offsets, group_id)
        self._metadata = metadata

    def create_request(self) -> TxnOffsetCommitRequest:
        txn_manager = self._sender._txn_manager
        by_topic: dict[str, list[tuple[int, int, str]]] = collections.defaultdict(list)
        for tp, offset in sorted(self._offsets.items()):
            by_topic[tp.topic].append((tp.partition, offset.offset, offset.metadata))
        return TxnOffsetCommitRequest(
            txn_manager.transactional_id,
            txn_manager.producer_id,
            txn_manager.producer_epoch,
            self._metadata,
            list(by_topic.items()),
        )

    def handle_response(self, resp: Any) -> float | None:
        txn_manager = self._sender._txn_manager
        for name, partitions, _tags in resp.topics:
            for partition, code, _ptags in partitions:
                tp = TopicPartition(name, partition)
                if code == 0:
                    txn_manager.offset_committed(tp, self._offsets[tp].offset, self._group_id)
                    continue
                if code in _STALE_MEMBER:
                    _fail_transaction(
                        txn_manager, StaleMemberError(code, _STALE_MEMBER[code], self._metadata)
                    )
                    return None
                error_type = Errors.for_code(code)
                if error_type in _COORDINATOR_MOVED:
                    self._sender._coordinator_dead(CoordinationType.GROUP)
                    return float(self._default_backoff)
                if error_type in _RETRY:
                    return float(self._default_backoff)
                if error_type is Errors.InvalidProducerEpoch or error_type is Errors.ProducerFenced:
                    raise Errors.ProducerFenced()
                if error_type is Errors.TransactionalIdAuthorizationFailed:
                    raise error_type(txn_manager.transactional_id)
                # Anything else (group authorization, an error this client does not know):
                # the transaction can still be aborted, which is always safe, rather than
                # ending aiokafka's sender task.
                _fail_transaction(
                    txn_manager,
                    error_type(f"TxnOffsetCommit of {tp} for group {self._group_id!r}"),
                )
                return None
        return None


def install_group_fencing(producer: Any, metadata: Callable[[], GroupMetadata | None]) -> None:
    """Make this aiokafka producer send TxnOffsetCommit v3 with ``metadata()``, the group
    metadata of the consumer whose offsets the current transaction commits (read when the
    request is built; None: the group's id alone, as aiokafka does)."""
    sender = producer._sender

    async def do_txn_offset_commit(offsets: Any, group_id: str) -> Any:
        if not offsets:
            return None
        md = metadata() or GroupMetadata(group_id)
        if md.group_id != group_id:
            md = GroupMetadata(group_id)
        try:
            node_id = await sender._find_coordinator(CoordinationType.GROUP, group_id)
        except Errors.GroupAuthorizationFailedError as exc:
            _fail_transaction(sender._txn_manager, exc)
            return None
        return await _GroupTxnOffsetCommitHandler(sender, offsets, group_id, md).do(node_id)

    # The instance attribute shadows Sender._do_txn_offset_commit for this producer only.
    sender._do_txn_offset_commit = do_txn_offset_commit


# -- OffsetFetch v7 (require_stable) -------------------------------------------------------


class OffsetFetchResponse_v7(Response):  # type: ignore[misc]
    """Committed offsets per partition, with a group-level error code."""

    API_KEY = 9
    API_VERSION = 7
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("committed_offset", Int64),
                        ("committed_leader_epoch", Int32),
                        ("metadata", CompactString("utf-8")),
                        ("error_code", Int16),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("error_code", Int16),
        ("tags", TaggedFields),
    )


class OffsetFetchRequest_v7(RequestStruct):  # type: ignore[misc]
    """Version 7 (Kafka 2.5+, flexible): adds ``require_stable``."""

    FLEXIBLE_VERSION = True
    API_KEY = 9
    API_VERSION = 7
    RESPONSE_TYPE = OffsetFetchResponse_v7
    SCHEMA = Schema(
        ("group_id", CompactString("utf-8")),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("partition_indexes", CompactArray(Int32)),
                ("tags", TaggedFields),
            ),
        ),
        ("require_stable", Boolean),
        ("tags", TaggedFields),
    )


class StableOffsetFetchRequest(Request[OffsetFetchRequest_v7]):  # type: ignore[misc]
    """OffsetFetch that asks the coordinator for stable offsets only."""

    API_KEY = 9

    def __init__(self, group_id: str, topics: list[tuple[str, list[int]]]) -> None:
        self._group_id = group_id
        self._topics = topics

    def build(self, request_struct_class: type[OffsetFetchRequest_v7]) -> Any:
        return request_struct_class(
            self._group_id, [(name, parts, {}) for name, parts in self._topics], True, {}
        )


def _fetch_error(coordinator: Any, code: int, where: str) -> Errors.KafkaError | None:
    """The error to raise for an OffsetFetch answer's ``code`` (None: skip the partition)."""
    if code == UNSTABLE_OFFSET_COMMIT:
        return UnstableOffsetCommitError(
            f"{where}: a transaction's offsets are not completed yet (UNSTABLE_OFFSET_COMMIT)"
        )
    error_type = Errors.for_code(code)
    if error_type is Errors.UnknownTopicOrPartitionError:
        log.warning("OffsetFetch of group %r: unknown %s", coordinator.group_id, where)
        return None
    if error_type is Errors.NotCoordinatorForGroupError:
        coordinator.coordinator_dead()
        return error_type()
    if error_type is Errors.GroupAuthorizationFailedError:
        return error_type(coordinator.group_id)
    if error_type.retriable:
        return error_type()
    return Errors.KafkaError(
        f"OffsetFetch of group {coordinator.group_id!r}, {where}: {error_type()!r}"
    )


def install_stable_offset_fetch(consumer: Any) -> None:
    """Make this aiokafka consumer fetch committed offsets with ``require_stable`` (what it
    reads at assignment, and ``committed()``); a pending transaction's partitions are
    fetched again after aiokafka's retry backoff until the transaction completes."""
    coordinator = consumer._coordinator

    async def do_fetch_commit_offsets(partitions: Any) -> dict[TopicPartition, Any]:
        by_topic: dict[str, list[int]] = collections.defaultdict(list)
        for tp in partitions:
            by_topic[tp.topic].append(tp.partition)
        request = StableOffsetFetchRequest(coordinator.group_id, list(by_topic.items()))
        response = await coordinator._send_req(request)
        if response.error_code:
            error = _fetch_error(coordinator, response.error_code, "the group")
            if error is not None:
                raise error
        offsets: dict[TopicPartition, Any] = {}
        for name, parts, _tags in response.topics:
            for partition, offset, _epoch, metadata, code, _ptags in parts:
                if code:
                    error = _fetch_error(coordinator, code, f"partition {name}[{partition}]")
                    if error is None:
                        continue
                    raise error
                if offset != _UNKNOWN_OFFSET:
                    offsets[TopicPartition(name, partition)] = OffsetAndMetadata(
                        offset, metadata or ""
                    )
        return offsets

    # The instance attribute shadows GroupCoordinator._do_fetch_commit_offsets for this
    # consumer only. The coordinator exists from the constructor on (with a group id).
    coordinator._do_fetch_commit_offsets = do_fetch_commit_offsets
