"""``gen-topics plan SCHEMAS --bootstrap-servers HOST:PORT``: what differs from the cluster.

Compares every topic the descriptors (and AsyncAPI documents) declare with the cluster:
missing topics, partitions, replication factor and every declared config (retention,
cleanup policy, ``config``); with ``--all`` also the cluster's topics no descriptor declares.
Exit status: 0 in sync, 1 changes pending, 2 invalid input or the cluster unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiokafka.errors import KafkaError

from gen_topics._transport.kafka import KafkaAdmin
from gen_topics.errors import GenTopicsError
from generator.commands.cluster import (
    Change,
    ClusterConfigError,
    Plan,
    add_cluster_arguments,
    admin_options,
    make_plan,
    read_command_config,
)
from generator.commands.report import Issue, emit
from generator.compiler import build_model
from generator.descriptors import TopicDescriptor
from generator.errors import GeneratorError

__all__ = ["connect_and_run", "main", "plan_issues", "plan_summary"]

T = TypeVar("T")
_SEVERITY = {"apply": "notice", "refuse": "error", "report": "warning"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-topics plan",
        description="Compare the topics the descriptors declare with a Kafka cluster. "
        "Exit status: 0 in sync, 1 changes pending, 2 error.",
    )
    add_cluster_arguments(parser)
    parser.add_argument(
        "--all",
        action="store_true",
        help="also list the cluster's topics that no descriptor declares",
    )
    return parser


def plan_issues(plan: Plan, root: Path) -> list[Issue]:
    """The plan's changes as report lines (file paths as the user wrote the folder)."""
    return [
        Issue(
            _SEVERITY[c.action],
            c.topic,
            c.message if c.action != "refuse" else f"refused: {c.message}",
            (root / c.file).as_posix() if c.file else "",
            c.line,
        )
        for c in plan.changes
    ]


def plan_summary(command: str, plan: Plan) -> str:
    """One line: how many changes of each kind, how many topics are in sync."""
    counts = {a: sum(1 for c in plan.changes if c.action == a) for a in _SEVERITY}
    if not plan.changes:
        return f"{command}: the cluster matches the descriptors ({len(plan.in_sync)} topics)"
    parts = [f"{counts['apply']} changes to apply"]
    if counts["refuse"]:
        parts.append(f"{counts['refuse']} refused")
    if counts["report"]:
        parts.append(f"{counts['report']} undeclared topics")
    return f"{command}: {', '.join(parts)}; {len(plan.in_sync)} topics in sync"


async def connect_and_run(
    args: argparse.Namespace, work: Callable[[KafkaAdmin], Awaitable[T]]
) -> T:
    """Connect an admin client with the arguments' settings, run ``work``, disconnect."""
    # Connection failures are reported once, by the command; not also by aiokafka's logger.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    properties = read_command_config(args.command_config) if args.command_config else {}
    options = admin_options(properties)
    timeout_ms = int(options.pop("request_timeout_ms", args.timeout * 1000))
    admin = KafkaAdmin(args.bootstrap_servers, request_timeout_ms=timeout_ms, **options)
    try:
        await asyncio.wait_for(admin.start(), timeout=timeout_ms / 1000)
        return await work(admin)
    finally:
        await admin.close()


def descriptors_of(schemas: Path) -> list[TopicDescriptor]:
    """Every topic the schemas folder declares (all inputs validated, as the compiler does)."""
    return [topic.descriptor for topic in build_model(schemas).topics]


def run_checked(command: str, args: argparse.Namespace, body: Callable[[], T]) -> T | int:
    """``body()``, or exit status 2 with the error reported in the chosen format."""
    try:
        return body()
    except GeneratorError as exc:
        issues = [Issue("error", "-", p.message, p.file, p.line) for p in exc.problems]
        emit(command, issues, f"{command}: invalid input", args.format, ok=False)
    except (ClusterConfigError, GenTopicsError) as exc:
        emit(command, [Issue("error", "-", str(exc))], f"{command}: failed", args.format, ok=False)
    except (KafkaError, OSError, TimeoutError) as exc:
        message = (
            f"cannot reach the Kafka cluster at {args.bootstrap_servers} "
            f"({type(exc).__name__}: {exc or 'timed out'}); check --bootstrap-servers and "
            "--command-config"
        )
        emit(
            command,
            [Issue("error", "cluster", message)],
            f"{command}: failed",
            args.format,
            ok=False,
        )
    return 2


def main(argv: list[str]) -> int:
    """Run ``gen-topics plan``; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.bootstrap_servers:
        parser.error("--bootstrap-servers is required (or set KAFKA_BOOTSTRAP_SERVERS)")

    def body() -> Plan:
        descriptors = descriptors_of(args.schemas)

        async def work(admin: KafkaAdmin) -> Plan:
            return await make_plan(admin, descriptors, undeclared=args.all)

        return asyncio.run(connect_and_run(args, work))

    plan = run_checked("plan", args, body)
    if isinstance(plan, int):
        return plan
    extra: dict[str, Any] = {"changes": plan.to_json(), "in_sync": plan.in_sync}
    emit(
        "plan",
        plan_issues(plan, args.schemas),
        plan_summary("plan", plan),
        args.format,
        ok=not plan.pending,
        extra=extra,
    )
    sys.stdout.flush()
    return 1 if plan.pending else 0


__all__ += ["Change", "descriptors_of", "run_checked"]
