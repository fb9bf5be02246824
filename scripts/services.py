#!/usr/bin/env python3
"""Start, stop and inspect the real Kafka broker and schema registry used by tests and demos.

    python3 scripts/services.py start          start both in the background, print their addresses
    python3 scripts/services.py status         are the started services still answering?
    python3 scripts/services.py stop           stop them and delete their data
    python3 scripts/services.py run -- CMD...  start both, run CMD with KAFKA_BOOTSTRAP_SERVERS
                                               and SCHEMA_REGISTRY_URL set, stop both, exit with
                                               CMD's exit code

    --cluster (start, run)                     also start a three-node Kafka cluster
                                               (KAFKA_CLUSTER_BOOTSTRAP_SERVERS)

Stdlib only. Background services are recorded in .services/state.json at the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

if __package__ in (None, ""):
    # Run as a file (python3 scripts/services.py): make the `scripts` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.errors import ServiceError
from scripts.kafka_cluster import NAME as CLUSTER_NAME
from scripts.kafka_cluster import lists_brokers
from scripts.kafka_probe import broker_ready
from scripts.process import stop_group
from scripts.registry_service import registry_ready
from scripts.stack import KAFKA_CLUSTER_ENV, KAFKA_ENV, REGISTRY_ENV, ServiceStack

STATE_FILE = Path(__file__).resolve().parent.parent / ".services" / "state.json"
_ENV_NAMES = {"kafka": KAFKA_ENV, "registry": REGISTRY_ENV, CLUSTER_NAME: KAFKA_CLUSTER_ENV}

# One entry per service: name, version, address, pids (one per process), workdir, log.
State = dict[str, str | int | list[int]]


def _read_state() -> list[State]:
    try:
        data = json.loads(STATE_FILE.read_text())
    except FileNotFoundError:
        return []
    services: list[State] = data["services"]
    return services


def _pids(entry: State) -> list[int]:
    pids = entry.get("pids")
    if isinstance(pids, list):
        return [int(p) for p in pids]
    return [int(str(entry["pid"]))]  # a state file written before clusters existed


def _is_ours(pid: int, workdir: str) -> bool:
    # A pid from an old state file may now belong to an unrelated process: only touch it if its
    # command line still names the service's private working directory.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return workdir.encode() in cmdline


def _alive(entry: State) -> bool:
    return all(_is_ours(pid, str(entry["workdir"])) for pid in _pids(entry))


def _answers(name: str, address: str) -> bool:
    if name == "kafka":
        host, port = address.rsplit(":", 1)
        return broker_ready(host, int(port))
    if name == CLUSTER_NAME:
        nodes = address.split(",")
        return all(lists_brokers(int(node.rsplit(":", 1)[1]), len(nodes)) for node in nodes)
    return registry_ready(address)


def _print_env(services: dict[str, str]) -> None:
    for name, address in services.items():
        print(f"export {_ENV_NAMES[name]}={address}")


def cmd_start(cluster: bool = False) -> int:
    live = [s for s in _read_state() if _alive(s)]
    if live:
        print("services already running (stop them with: python3 scripts/services.py stop):")
        _print_env({str(s["name"]): str(s["address"]) for s in live})
        return 0
    # The services must outlive this command: `stop` ends them later, using the state file.
    stack = ServiceStack(detached=True, use_env=False)
    began = time.monotonic()
    try:
        stack.kafka_bootstrap()
        stack.registry_url()
        if cluster:
            stack.kafka_cluster()
    except BaseException:
        stack.stop()
        raise
    services = stack.started()
    entries: list[State] = [
        {
            "name": s.name,
            "version": s.version,
            "address": s.address,
            "pids": [s.process.pid],
            "workdir": str(s.workdir),
            "log": str(s.process.log_path),
        }
        for s in services
    ]
    started = stack.cluster_or_none()
    if started is not None:
        entries.append(
            {
                "name": started.name,
                "version": started.version,
                "address": started.address,
                "pids": started.pids,
                "workdir": str(started.workdir),
                "log": ", ".join(str(node.process.log_path) for node in started.nodes),
            }
        )
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps({"services": entries}, indent=2))
    print(
        f"started in {time.monotonic() - began:.1f}s: "
        + ", ".join(
            f"{e['name']} {e['version']} at {e['address']} (log {e['log']})" for e in entries
        )
    )
    _print_env({str(e["name"]): str(e["address"]) for e in entries})
    return 0


def cmd_status() -> int:
    services = _read_state()
    if not services:
        print("no services started (python3 scripts/services.py start)")
        return 1
    healthy = True
    for s in services:
        alive = _alive(s)
        answers = alive and _answers(str(s["name"]), str(s["address"]))
        healthy = healthy and answers
        state = "answering" if answers else ("running, not answering" if alive else "not running")
        pids = ", ".join(str(p) for p in _pids(s))
        print(f"{s['name']} {s['version']} at {s['address']} (pid {pids}): {state}")
    return 0 if healthy else 1


def cmd_stop() -> int:
    services = _read_state()
    ours = [(pid, s) for s in services for pid in _pids(s) if _is_ours(pid, str(s["workdir"]))]
    # SIGTERM to all first: a cluster's last node would otherwise wait for a quorum that the
    # nodes stopped before it took away.
    for pid, _ in ours:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    for pid, _ in ours:
        stop_group(pid)
    for s in services:
        shutil.rmtree(str(s["workdir"]), ignore_errors=True)
        print(f"stopped {s['name']} ({s['address']})")
    with contextlib.suppress(FileNotFoundError):
        STATE_FILE.unlink()
    if not services:
        print("no services were started")
    return 0


def _raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM (e.g. CI cancelling the job) into an exception so the finally block below
    # stops the services instead of orphaning them.
    raise KeyboardInterrupt(f"signal {signum}")


def cmd_run(command: list[str], cluster: bool = False) -> int:
    if not command:
        print("usage: services.py run -- CMD [ARGS...]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    stack = ServiceStack()
    try:
        env = dict(os.environ)
        env[KAFKA_ENV] = stack.kafka_bootstrap()
        env[REGISTRY_ENV] = stack.registry_url()
        shown = f"{KAFKA_ENV}={env[KAFKA_ENV]} {REGISTRY_ENV}={env[REGISTRY_ENV]}"
        if cluster:
            env[KAFKA_CLUSTER_ENV] = stack.kafka_cluster().address
            shown += f" {KAFKA_CLUSTER_ENV}={env[KAFKA_CLUSTER_ENV]}"
        print(shown, flush=True)
        return subprocess.call(command, env=env)
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="services.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start Kafka and the registry in the background")
    start.add_argument("--cluster", action="store_true", help="also a three-node Kafka cluster")
    sub.add_parser("status", help="show whether the started services answer")
    sub.add_parser("stop", help="stop the started services and delete their data")
    run = sub.add_parser("run", help="run a command with both services up, then stop them")
    run.add_argument("--cluster", action="store_true", help="also a three-node Kafka cluster")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            return cmd_start(args.cluster)
        if args.command == "status":
            return cmd_status()
        if args.command == "stop":
            return cmd_stop()
        command = list(args.cmd)
        if command[:1] == ["--"]:
            command = command[1:]
        return cmd_run(command, args.cluster)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; services stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
