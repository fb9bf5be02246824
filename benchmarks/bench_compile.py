"""Compile time at scale: 1,000 generated .avsc files (cross-file references, logical types,
unions) and 500 topics; then --check on the unchanged output. Target: compile under 10 s.
Run: .venv/bin/python benchmarks/bench_compile.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.compiler import compile_folder  # noqa: E402
from generator.writer import compare, with_manifest, write  # noqa: E402

FILES, TOPICS = 1000, 500


def make_schemas(root: Path) -> None:
    for i in range(FILES):
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
    for t in range(TOPICS):
        lines += [
            f"  topic-{t}:",
            "    key: string",
            f"    value: bench.domain{(2 * t) % 20}.Record{2 * t}",
            "    partitions: 3",
            "    retention: 7d",
        ]
    (root / "bench.topic.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        schemas, out = tmp / "schemas", tmp / "generated"
        schemas.mkdir()
        make_schemas(schemas)
        start = time.perf_counter()
        files = compile_folder(schemas)
        compiled = time.perf_counter() - start
        write(out, files, clean=False)
        total = time.perf_counter() - start
        start = time.perf_counter()
        result = compare(out, with_manifest(compile_folder(schemas)))
        check = time.perf_counter() - start
        assert result.clean
        print(f"{FILES} .avsc files, {TOPICS} topics -> {len(files)} output files")
        print(f"compile (in memory):        {compiled:6.2f} s")
        print(
            f"compile + write:            {total:6.2f} s   "
            f"(target < 10 s: {total / 10:.2f}x of budget)"
        )
        print(f"--check on unchanged tree:  {check:6.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
