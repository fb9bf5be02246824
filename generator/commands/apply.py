"""``gen-topics apply SCHEMAS --bootstrap-servers HOST:PORT``: make the cluster as declared.

Performs what ``gen-topics plan`` shows: creates missing topics, raises partition counts,
sets configs (incrementally: other configs stay as they are), with the run-time's admin
client as ``Topic.declare()`` uses it. It never deletes a topic, lowers a partition count or
moves replicas: those are listed as refused, and the exit status is 1. Running it again
changes nothing. Not on a terminal it needs ``--yes``.
Exit status: 0 the cluster is as declared, 1 something was refused, 2 error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from gen_topics._transport.kafka import KafkaAdmin
from generator.commands.cluster import Change, Plan, add_cluster_arguments, apply_plan, make_plan
from generator.commands.plan import (
    connect_and_run,
    descriptors_of,
    plan_issues,
    plan_summary,
    run_checked,
)
from generator.commands.report import Issue, emit

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-topics apply",
        description="Create missing topics, raise partitions and set configs as the "
        "descriptors declare. Never deletes topics or lowers partitions. "
        "Exit status: 0 done, 1 something refused, 2 error.",
    )
    add_cluster_arguments(parser)
    parser.add_argument(
        "--yes", action="store_true", help="apply without asking (needed when not on a terminal)"
    )
    return parser


def _confirm(args: argparse.Namespace, changes: list[Change]) -> bool | None:
    """True to go on; False when the user said no; None when nobody can be asked."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return None
    answer = input(f"apply {len(changes)} changes to {args.bootstrap_servers}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def main(argv: list[str]) -> int:
    """Run ``gen-topics apply``; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.bootstrap_servers:
        parser.error("--bootstrap-servers is required (or set KAFKA_BOOTSTRAP_SERVERS)")
    out = sys.stderr if args.format == "text" else None
    state: dict[str, object] = {}

    def body() -> tuple[Plan, list[Change], Plan | None]:
        descriptors = descriptors_of(args.schemas)

        async def work(admin: KafkaAdmin) -> tuple[Plan, list[Change], Plan | None]:
            plan = await make_plan(admin, descriptors)
            todo = [c for c in plan.changes if c.action == "apply"]
            if not todo:
                return plan, [], None
            if args.format == "text":
                emit(
                    "apply",
                    plan_issues(plan, args.schemas),
                    plan_summary("apply", plan),
                    "text",
                    ok=False,
                    stream=out,
                )
            go = _confirm(args, todo)
            state["confirmed"] = go
            if not go:
                return plan, [], None
            done = await apply_plan(admin, plan)
            return plan, done, await make_plan(admin, descriptors)

        return asyncio.run(connect_and_run(args, work))

    result = run_checked("apply", args, body)
    if isinstance(result, int):
        return result
    plan, done, after = result
    if state.get("confirmed") is None and any(c.action == "apply" for c in plan.changes):
        emit(
            "apply",
            [
                Issue(
                    "error",
                    "-",
                    "not on a terminal: pass --yes to apply the changes "
                    "(run gen-topics plan to see them)",
                )
            ],
            "apply: nothing applied",
            args.format,
            ok=False,
        )
        return 2
    if state.get("confirmed") is False:
        print("apply: nothing applied", file=sys.stderr)
        return 1
    final = after or plan
    refused = [c for c in final.changes if c.action == "refuse"]
    left = [c for c in final.changes if c.action == "apply"]
    issues = [Issue("notice", c.topic, f"done: {c.message}") for c in done]
    issues += [i for i in plan_issues(final, args.schemas) if i.severity != "warning"]
    if left:
        summary = f"apply: {len(left)} changes did not take effect; see above"
    elif not done:
        summary = "apply: nothing to do" + (f", {len(refused)} refused" if refused else "")
    else:
        summary = f"apply: {len(done)} changes applied" + (
            f", {len(refused)} refused" if refused else ""
        )
    emit(
        "apply",
        issues,
        summary,
        args.format,
        ok=not (refused or left),
        extra={"applied": [c.__dict__ for c in done], "remaining": final.to_json()},
    )
    if left:
        return 2
    return 1 if refused else 0
