"""Compile time at scale, as the whole ``gen-topics`` process a user runs.

FILES generated .avsc files (cross-file references, logical types, unions) and FILES/2
topics (default 5,000 and 2,500). Each round runs, in turn: a generation into an empty
folder, a regeneration of the unchanged tree, ``--check`` on the unchanged tree, and after
editing one input, ``--check`` (stale) and a regeneration; and a generation with ``-j 1`` (one
process) to show what the workers bring. Prints min/median/max wall
seconds over the rounds and the targets of issue 12: generate under 3 s, ``--check`` on an
unchanged tree under 1 s.

Run: .venv/bin/python benchmarks/bench_compile.py   (FILES=1000 ROUNDS=5 to change)
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEN_TOPICS = Path(sys.executable).with_name("gen-topics")

FILES = int(os.environ.get("FILES", "5000"))
TOPICS = FILES // 2
ROUNDS = int(os.environ.get("ROUNDS", "3"))
TARGETS = {"generate": 3.0, "check": 1.0}
TARGETED = (
    "generate into an empty folder",
    "regenerate, unchanged tree",
    "--check, unchanged tree",
)


def make_schemas(root: Path, files: int = FILES, topics: int = TOPICS) -> None:
    for i in range(files):
        ns = f"bench.domain{i % 20}"
        fields = [
            {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
            },
            {
                "name": "status",
                "type": {"type": "enum", "name": f"Status{i}", "symbols": ["A", "B", "C"]},
                "default": "A",
            },
            {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
            {"name": "note", "type": ["null", "string"], "default": None},
        ]
        if i % 10:  # chains of ten records across files and namespaces
            prev = f"bench.domain{(i - 1) % 20}.Record{i - 1}"
            fields.append({"name": "previous", "type": ["null", prev], "default": None})
        schema = {"type": "record", "name": f"Record{i}", "namespace": ns, "fields": fields}
        (root / f"record{i}.avsc").write_text(json.dumps(schema, indent=2))
    lines = ["topics:"]
    for t in range(topics):
        lines += [
            f"  topic-{t}:",
            "    key: string",
            f"    value: bench.domain{(2 * t) % 20}.Record{2 * t}",
            "    partitions: 3",
            "    retention: 7d",
        ]
    (root / "bench.topic.yaml").write_text("\n".join(lines) + "\n")


def _run(schemas: Path, out: Path, *extra: str, expect: int = 0) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one gen-topics process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [str(GEN_TOPICS), str(schemas), "-o", str(out), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != expect:
        raise SystemExit(f"gen-topics exited {done.returncode}, expected {expect}:\n{done.stderr}")
    return took, cpu


def _edit_one_input(schemas: Path, round_no: int) -> None:
    path = schemas / "record0.avsc"
    schema = json.loads(path.read_text())
    schema["doc"] = f"edited in round {round_no}"
    path.write_text(json.dumps(schema, indent=2))


def _compile_bytecode() -> str:
    """Compile gen-topics' own modules to bytecode, as pip does when it installs a package:
    with PYTHONDONTWRITEBYTECODE set (common in containers and CI) an editable checkout
    would otherwise compile them from source in every timed run (about 0.13 s each)."""
    import gen_topics
    import generator

    folders = [str(Path(m.__file__).parent) for m in (generator, gen_topics) if m.__file__]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], env=env, check=True)
    return ", ".join(folders)


def main() -> None:
    compiled = _compile_bytecode()
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp())
    figures: dict[str, list[tuple[float, float]]] = {}
    try:
        schemas = tmp / "schemas"
        schemas.mkdir()
        make_schemas(schemas)
        for round_no in range(ROUNDS):
            single = tmp / f"single{round_no}"
            figures.setdefault("generate into an empty folder, -j 1", []).append(
                _run(schemas, single, "-j", "1")
            )
            out = tmp / f"generated{round_no}"
            for name, extra in (
                ("generate into an empty folder", ()),
                ("regenerate, unchanged tree", ()),
                ("--check, unchanged tree", ("--check",)),
            ):
                figures.setdefault(name, []).append(_run(schemas, out, *extra))
            _edit_one_input(schemas, round_no)
            figures.setdefault("--check, one input edited (stale)", []).append(
                _run(schemas, out, "--check", expect=1)
            )
            figures.setdefault("regenerate, one input edited", []).append(_run(schemas, out))
            # The outputs stay until the end: for a minute or more after thousands of
            # files are deleted, ext4 looks at each of their inodes again for every file
            # it creates (recently_deleted() in fs/ext4/ialloc.c, seen with perf), about
            # 1 ms a file here, which a user's first generation does not pay. So a second
            # run of this benchmark right after the first one reads high.
        outputs = sum(1 for _ in (tmp / "schemas").iterdir())
        load_after = os.getloadavg()[0]
        print(
            f"{FILES} .avsc files, {TOPICS} topics ({outputs} input files); whole gen-topics "
            f"process over {ROUNDS} rounds: wall seconds min / median / max, median cpu seconds"
        )
        print(f"bytecode of {compiled} compiled first, as an installed gen-topics has it")
        print(
            f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before, "
            f"{load_after:.1f} after (cpu counts the worker processes too: above the wall time "
            "when they run side by side, below it when waiting for a core)"
        )
        for name, runs in figures.items():
            walls, cpus = [w for w, _ in runs], [c for _, c in runs]
            target = TARGETS["check" if name.startswith("--check") else "generate"]
            median = statistics.median(walls)
            verdict = ""
            if name in TARGETED:
                cpu = statistics.median(cpus)
                verdict = (
                    f"   target < {target:.0f} s: wall {median / target:.2f}x, "
                    f"cpu {cpu / target:.2f}x of budget: "
                    + ("met" if median < target else "MISSED")
                )
            print(
                f"  {name:36s} wall {min(walls):6.2f} / {median:6.2f} / {max(walls):6.2f}"
                f"   cpu {statistics.median(cpus):6.2f}{verdict}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
