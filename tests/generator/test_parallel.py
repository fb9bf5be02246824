"""Compile work spread over processes gives the result of doing it in one, whatever fails."""

from __future__ import annotations

import json
import os
import select
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import generator.parallel as parallel
from generator.compiler import build_model, compile_folder
from generator.parallel import available_jobs, chunks, fork_map
from generator.render import render
from generator.writer import MANIFEST, write

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_INPUTS = Path(__file__).resolve().parent / "golden_inputs"
PARENT = os.getpid()

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(autouse=True)
def _single_threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Earlier tests in the session may leave idle threads (asyncio's executor); the tests
    # here fork only pure functions, so they may ignore them, except the test of that rule.
    monkeypatch.setattr(parallel, "_other_threads", lambda: False)


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The process ids of the workers fork_map starts (recorded, still started for real)."""
    started: list[int] = []
    real = parallel._start

    def recording(*args: Any) -> tuple[int, int] | None:
        child = real(*args)
        if child is not None and os.getpid() == PARENT:
            started.append(child[0])
        return child

    monkeypatch.setattr(parallel, "_start", recording)
    return started


def _all_reaped(pids: list[int]) -> bool:
    """Whether each of ``pids`` was waited for already (no zombie, none still running)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


def _square_where(item: int) -> tuple[int, int]:
    return item * item, os.getpid()


def test_results_are_in_order_and_come_from_other_processes() -> None:
    items = list(range(40))
    results = fork_map(_square_where, items, [1.0] * len(items), jobs=3)
    assert [square for square, _ in results] == [i * i for i in items]
    assert len({pid for _, pid in results}) == 3  # the parent and two workers
    assert os.getpid() in {pid for _, pid in results}


def test_a_process_running_other_threads_does_not_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real check
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        results = fork_map(_square_where, list(range(8)), [1.0] * 8, jobs=4)
    finally:
        release.set()
        thread.join()
    assert {pid for _, pid in results} == {os.getpid()}
    assert [square for square, _ in results] == [i * i for i in range(8)]


def test_small_work_stays_in_this_process() -> None:
    results = fork_map(_square_where, [1, 2, 3], [0.01] * 3, jobs=4)
    assert {pid for _, pid in results} == {os.getpid()}


def test_without_a_ticket_pipe_every_item_is_still_computed(
    monkeypatch: pytest.MonkeyPatch, workers: list[int]
) -> None:
    # No pipe (out of file descriptors): each worker does its first run, this process the rest.
    monkeypatch.setattr(parallel, "_tickets", lambda runs: None)
    results = fork_map(_square_where, list(range(40)), [1.0] * 40, jobs=3)
    assert [square for square, _ in results] == [i * i for i in range(40)]
    assert len({pid for _, pid in results}) == 3 and _all_reaped(workers)


def test_without_a_file_for_results_the_work_stays_in_this_process(
    monkeypatch: pytest.MonkeyPatch, workers: list[int]
) -> None:
    # No file for a worker's results (out of file descriptors or memory): no worker starts,
    # and what the workers would have taken first is computed here.
    monkeypatch.setattr(parallel, "_results_file", lambda: None)
    results = fork_map(_square_where, list(range(40)), [1.0] * 40, jobs=3)
    assert [square for square, _ in results] == [i * i for i in range(40)]
    assert {pid for _, pid in results} == {os.getpid()} and not workers


_COMPUTED_HERE: list[int] = []  # in a worker: the items it computed (its copy)


def _dies_after_some_runs(item: int) -> int:
    if os.getpid() != PARENT:
        _COMPUTED_HERE.append(item)
        if len(_COMPUTED_HERE) > 4:  # runs of two items: two of them written already
            os._exit(3)
    return item + 1


def test_a_worker_killed_after_writing_some_runs_costs_time_not_results(
    workers: list[int],
) -> None:
    items = list(range(40))
    assert fork_map(_dies_after_some_runs, items, [1.0] * 40, jobs=2) == [i + 1 for i in items]
    assert workers and _all_reaped(workers)


def _dies_in_a_worker(item: int) -> int:
    if os.getpid() != PARENT:
        os._exit(3)  # a worker killed halfway: no result at all
    return item + 1


def _raises_in_a_worker(item: int) -> int:
    if os.getpid() != PARENT:
        raise MemoryError("worker out of memory")
    return item + 1


@pytest.mark.parametrize("fn", [_dies_in_a_worker, _raises_in_a_worker])
def test_a_failed_worker_costs_time_not_results(fn: object, workers: list[int]) -> None:
    items = list(range(10))
    assert fork_map(fn, items, [1.0] * 10, jobs=2) == [i + 1 for i in items]  # type: ignore[arg-type]
    assert workers and _all_reaped(workers)


def _fails_on_seven(item: int) -> int:
    if item == 7:
        raise ValueError(f"bad item {item}")
    return item


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_an_error_of_the_work_itself_surfaces_as_raised(jobs: int, workers: list[int]) -> None:
    with pytest.raises(ValueError, match="bad item 7"):
        fork_map(_fails_on_seven, list(range(12)), [1.0] * 12, jobs=jobs)
    assert len(workers) == min(jobs, 12) - 1 and _all_reaped(workers)


def test_runs_hold_every_item_once_heaviest_first() -> None:
    weights = [5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0, 2.0]
    runs = chunks(weights, 2)
    assert sorted(i for run in runs for i in run) == list(range(len(weights)))
    assert runs[0] == [0] and runs[1] == [6]  # the heaviest alone, first
    loads = [sum(weights[i] for i in run) for run in runs]
    assert loads == sorted(loads, reverse=True) or max(loads[2:]) <= loads[1]
    assert chunks([1.0], 3) == [[0]]
    assert len(chunks([0.0] * 1000, 4)) <= 256  # tickets are single bytes
    assert sorted(i for run in chunks([0.0] * 1000, 4) for i in run) == list(range(1000))


_DONE_ELSEWHERE: list[int] = []  # a pipe: workers write a byte per item they computed


def _parent_stuck_on_the_first(item: int) -> tuple[int, int]:
    read_end, write_end = _DONE_ELSEWHERE
    if os.getpid() != PARENT:
        os.write(write_end, b".")
    elif item == 0:
        # The heaviest item, which this process takes first, takes as long as all the
        # rest: the workers must take every other run meanwhile, not wait for a share.
        waited = b""
        while len(waited) < 39:
            ready, _, _ = select.select([read_end], [], [], 120.0)
            assert ready, f"workers computed only {len(waited)} of the 39 other items"
            waited += os.read(read_end, 39 - len(waited))
    return item, os.getpid()


def test_workers_take_the_runs_a_slow_process_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys.modules[__name__], "_DONE_ELSEWHERE", [read_end, write_end])
    try:
        weights = [2.0] + [1.0] * 39
        results = fork_map(_parent_stuck_on_the_first, list(range(40)), weights, jobs=3)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert [item for item, _ in results] == list(range(40))
    assert [pid for _, pid in results].count(os.getpid()) == 1


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("3", 3), ("0", 1), ("x", 1)])
def test_jobs_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: int
) -> None:
    monkeypatch.setenv(parallel.JOBS_ENV, value)
    assert available_jobs() == expected


@pytest.mark.parametrize(
    "folder",
    [ROOT / "schemas", *sorted(p for p in GOLDEN_INPUTS.iterdir() if p.is_dir())],
    ids=lambda p: p.name,
)
def test_compiling_on_several_processes_writes_the_same_files(
    monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    alone = compile_folder(folder, jobs=1)
    monkeypatch.setattr(parallel, "_MIN_WORK", 0.0)  # fork even for these small folders
    assert compile_folder(folder, jobs=3) == alone


@pytest.mark.parametrize(
    "folder", [ROOT / "schemas", GOLDEN_INPUTS / "cross_file"], ids=lambda p: p.name
)
def test_the_renderers_setup_worked_out_beside_the_checks_is_the_one_render_makes(
    monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    monkeypatch.setattr(parallel, "_MIN_WORK", 0.0)  # the setup comes back from a worker
    model = build_model(folder, jobs=3)
    assert model.render_setup is not None
    assert render(model, jobs=1) == render(replace(model, render_setup=None), jobs=1)


def test_a_new_folder_written_on_several_processes_holds_the_same_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workers: list[int]
) -> None:
    files = compile_folder(ROOT / "schemas", jobs=1)
    write(tmp_path / "alone", files, clean=True, inputs="key", jobs=1)
    assert workers == []
    monkeypatch.setattr(parallel, "_MIN_WORK", 0.0)
    write(tmp_path / "several" / "out", files, clean=True, inputs="key", jobs=3)
    assert len(workers) == 2  # the parent takes a share too

    def snapshot(folder: Path) -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file()
        }

    alone = snapshot(tmp_path / "alone")
    assert snapshot(tmp_path / "several" / "out") == alone
    assert alone.keys() == {*files, MANIFEST}
    # And a later run over either finds nothing to change.
    assert write(tmp_path / "several" / "out", files, clean=True, inputs="key")[0] == []


def test_a_file_a_worker_cannot_write_fails_the_write_and_leaves_no_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = compile_folder(GOLDEN_INPUTS / "cross_file", jobs=1)
    # A name the file system refuses, written by whichever process draws it.
    files["x" * 300 + ".py"] = "# too long a name\n"
    monkeypatch.setattr(parallel, "_MIN_WORK", 0.0)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="File name too long"):
        write(out, files, clean=True, jobs=3)
    assert sorted(tmp_path.iterdir()) == []


def test_a_schema_fastavro_rejects_is_reported_the_same_on_several_processes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import fastavro

    from generator.errors import GeneratorError

    # The loader refuses every schema fastavro is known to refuse, so the refusal is
    # injected: what is tested is that it travels back from a worker intact and in order.
    real = fastavro.parse_schema

    def picky(schema: Any, *args: Any, **kwargs: Any) -> Any:
        if "Refused" in json.dumps(schema):
            raise fastavro.schema.SchemaParseException("no Refused types here")
        return real(schema, *args, **kwargs)

    monkeypatch.setattr(fastavro, "parse_schema", picky)
    for name in ("Fine", "Refused", "AlsoRefused"):
        (tmp_path / f"{name}.avsc").write_text(
            json.dumps({"type": "record", "name": name, "fields": [{"name": "a", "type": "int"}]})
        )
    (tmp_path / "t.topic.yaml").write_text(
        "topics:\n"
        + "".join(f"  t{i}:\n    value: {n}\n" for i, n in enumerate(["Fine", "Refused"] * 5))
        + "  last:\n    key: AlsoRefused\n"
    )
    messages = []
    for jobs in (1, 3):
        monkeypatch.setattr(parallel, "_MIN_WORK", 0.0 if jobs > 1 else 0.3)
        with pytest.raises(GeneratorError) as info:
            compile_folder(tmp_path, jobs=jobs)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].count("fastavro (the runtime) rejects the value schema") == 5
    assert "rejects the key schema: no Refused types here" in messages[0]


BAD_INPUTS = ROOT / "tests" / "data" / "bad_inputs"


@pytest.mark.parametrize(
    "folder", sorted(p for p in BAD_INPUTS.iterdir() if p.is_dir()), ids=lambda p: p.name
)
def test_input_problems_are_the_same_and_in_the_same_order_on_several_processes(
    monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    from generator.errors import GeneratorError

    def problems(jobs: int) -> list[tuple[str, int, str]] | dict[str, str]:
        try:
            return compile_folder(folder, jobs=jobs)
        except GeneratorError as exc:
            return [(p.file, p.line, p.message) for p in exc.problems]

    alone = problems(1)
    monkeypatch.setattr(parallel, "_MIN_WORK", 0.0)
    assert problems(3) == alone
