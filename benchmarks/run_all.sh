#!/bin/sh
# Runs every benchmark RUNS times (default 1), one after another, with Kafka and the registry
# already up (`make bench` starts them), and keeps each run's output in benchmarks/results/.
set -eu
runs="${1:-1}"
cd "$(dirname "$0")/.."
mkdir -p benchmarks/results
i=1
while [ "$i" -le "$runs" ]; do
    for script in benchmarks/bench_*.py; do
        name="$(basename "$script" .py)"
        out="benchmarks/results/$name-$i.txt"
        echo "== $name, run $i of $runs ($(date -u +%H:%M:%S), load: $(cut -d' ' -f1-3 /proc/loadavg))"
        { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) load $(cut -d' ' -f1-3 /proc/loadavg)"; .venv/bin/python "$script"; } 2>&1 | tee "$out"
    done
    i=$((i + 1))
done
