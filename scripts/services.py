#!/usr/bin/env python3
"""Start, stop and inspect the real Kafka broker and schema registry used by tests and demos.

    python3 scripts/services.py start          start both in the background, print their addresses
    python3 scripts/services.py status         are the started services still answering?
    python3 scripts/services.py stop           stop them and delete their data
    python3 scripts/services.py run -- CMD...  start both, run CMD with KAFKA_BOOTSTRAP_SERVERS
                                               and SCHEMA_REGISTRY_URL set, stop both, exit with
                                               CMD's exit code

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
from scripts.kafka_probe import broker_ready
from scripts.process import stop_group
from scripts.registry_service import registry_ready
from scripts.stack import KAFKA_ENV, REGISTRY_ENV, ServiceStack

STATE_FILE = Path(__file__).resolve().parent.parent / ".services" / "state.json"
_ENV_NAMES = {"kafka": KAFKA_ENV, "registry": REGISTRY_ENV}


def _read_state() -> list[dict[str, str | int]]:
    try:
        data = json.loads(STATE_FILE.read_text())
    except FileNotFoundError:
        return []
    services: list[dict[str, str | int]] = data["services"]
    return services


def _is_ours(pid: int, workdir: str) -> bool:
    # A pid from an old state file may now belong to an unrelated process: only touch it if its
    # command line still names the service's private working directory.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return workdir.encode() in cmdline


def _answers(name: str, address: str) -> bool:
    if name == "kafka":
        host, port = address.rsplit(":", 1)
        return broker_ready(host, int(port))
    return registry_ready(address)


def _print_env(services: dict[str, str]) -> None:
    for name, address in services.items():
        print(f"export {_ENV_NAMES[name]}={address}")


def cmd_start() -> int:
    live = [s for s in _read_state() if _is_ours(int(s["pid"]), str(s["workdir"]))]
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
    except BaseException:
        stack.stop()
        raise
    services = stack.started()
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(
        json.dumps(
            {
                "services": [
                    {
                        "name": s.name,
                        "version": s.version,
                        "address": s.address,
                        "pid": s.process.pid,
                        "workdir": str(s.workdir),
                        "log": str(s.process.log_path),
                    }
                    for s in services
                ]
            },
            indent=2,
        )
    )
    print(
        f"started in {time.monotonic() - began:.1f}s: "
        + ", ".join(
            f"{s.name} {s.version} at {s.address} (log {s.process.log_path})" for s in services
        )
    )
    _print_env({s.name: s.address for s in services})
    return 0


def cmd_status() -> int:
    services = _read_state()
    if not services:
        print("no services started (python3 scripts/services.py start)")
        return 1
    healthy = True
    for s in services:
        alive = _is_ours(int(s["pid"]), str(s["workdir"]))
        answers = alive and _answers(str(s["name"]), str(s["address"]))
        healthy = healthy and answers
        state = "answering" if answers else ("running, not answering" if alive else "not running")
        print(f"{s['name']} {s['version']} at {s['address']} (pid {s['pid']}): {state}")
    return 0 if healthy else 1


def cmd_stop() -> int:
    services = _read_state()
    for s in services:
        pid, workdir = int(s["pid"]), str(s["workdir"])
        if _is_ours(pid, workdir):
            stop_group(pid)
        shutil.rmtree(workdir, ignore_errors=True)
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


def cmd_run(command: list[str]) -> int:
    if not command:
        print("usage: services.py run -- CMD [ARGS...]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    stack = ServiceStack()
    try:
        env = dict(os.environ)
        env[KAFKA_ENV] = stack.kafka_bootstrap()
        env[REGISTRY_ENV] = stack.registry_url()
        print(f"{KAFKA_ENV}={env[KAFKA_ENV]} {REGISTRY_ENV}={env[REGISTRY_ENV]}", flush=True)
        return subprocess.call(command, env=env)
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="services.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start", help="start Kafka and the registry in the background")
    sub.add_parser("status", help="show whether the started services answer")
    sub.add_parser("stop", help="stop the started services and delete their data")
    run = sub.add_parser("run", help="run a command with both services up, then stop them")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            return cmd_start()
        if args.command == "status":
            return cmd_status()
        if args.command == "stop":
            return cmd_stop()
        command = list(args.cmd)
        if command[:1] == ["--"]:
            command = command[1:]
        return cmd_run(command)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; services stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
