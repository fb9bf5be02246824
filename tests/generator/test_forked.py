"""The command line renders a large package's codec in a forked process: the same files
as without it, and a child that fails or dies changes nothing but where the work ran."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import generator.render as render_module
from generator.compiler import build_model
from generator.forked import in_forked_process
from generator.render import render

ROOT = Path(__file__).resolve().parents[2]


def test_parallel_rendering_gives_the_same_files(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_model(ROOT / "schemas")
    serial = render(model)
    monkeypatch.setattr(render_module, "PARALLEL_FROM", 0)
    calls: list[int] = []
    real = render_module.in_forked_process

    def counting(fn: object, arg: object) -> object:
        calls.append(1)
        return real(fn, arg)  # type: ignore[arg-type]

    monkeypatch.setattr(render_module, "in_forked_process", counting)
    assert render(model, parallel=True) == serial
    assert calls == [1]


def _pid_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def test_the_result_comes_from_the_child() -> None:
    pid, value = in_forked_process(_pid_square, 7)()
    assert value == 49
    if (os.cpu_count() or 1) > 1:
        assert pid != os.getpid()


class _Boom(Exception):
    pass


def _fails_everywhere(n: int) -> int:
    raise _Boom(f"bad input {n}")


def test_an_error_is_raised_in_the_caller() -> None:
    result = in_forked_process(_fails_everywhere, 3)
    with pytest.raises(_Boom, match="bad input 3"):
        result()


_PARENT = os.getpid()


def _dies_in_the_child(n: int) -> int:
    if os.getpid() != _PARENT:
        os._exit(9)  # a child killed mid-way (out of memory, a signal)
    return n + 1


def test_a_child_that_dies_costs_only_time() -> None:
    assert in_forked_process(_dies_in_the_child, 1)() == 2
