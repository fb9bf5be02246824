"""Topic[K, V] is really typed: mypy --strict accepts correct use and rejects a wrong type."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from mypy import api

PRELUDE = """
from dataclasses import dataclass

from gen_topics import App, Event, RecordMetadata, Topic


@dataclass
class Order:
    id: str
    qty: int


class OrdersTopic(Topic[str, Order]):
    default_topics = ("orders",)
"""

GOOD = """
async def produce(app: App) -> RecordMetadata:
    topic = OrdersTopic(app)
    pending = await topic.send(key="o-1", value=Order("o-1", 2), headers={"h": b"1"})
    tombstone = await topic.send(key="o-2", value=None)
    await tombstone
    retry: OrdersTopic = topic.derive(suffix="-retry")
    retry.send_soon(key="o-3", value=Order("o-3", 1))
    return await pending


async def consume(app: App) -> int:
    async for event in OrdersTopic(app):
        typed: Event[str, Order] = event
        return typed.value.qty
    return 0
"""

BAD = """
async def produce(app: App) -> None:
    topic = OrdersTopic(app)
    await topic.send(key="o-1", value="not an order")
    await topic.send(key=42, value=Order("o-1", 2))


async def consume(app: App) -> str:
    async for event in OrdersTopic(app):
        return event.value.qty
    return ""
"""


def _check(tmp_path: Path, name: str, body: str) -> tuple[str, int]:
    source = tmp_path / f"{name}.py"
    source.write_text(textwrap.dedent(PRELUDE) + textwrap.dedent(body))
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nstrict = True\n\n"
        "[mypy-aiokafka.*,fastavro.*,httpx.*]\nignore_missing_imports = True\n"
    )
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            str(source),
        ]
    )
    return stdout + stderr, status


def test_mypy_strict_accepts_correct_use_and_rejects_wrong_types(tmp_path: Path) -> None:
    out, status = _check(tmp_path, "good_use", GOOD)
    assert status == 0, out
    out, status = _check(tmp_path, "bad_use", BAD)
    assert status == 1, out
    errors = [line for line in out.splitlines() if "bad_use.py" in line and "error:" in line]
    expected = [
        r'Argument "value" to "send" of "\w+" has incompatible type "str"; '
        r'expected "Order \| None"',
        r'Argument "key" to "send" of "\w+" has incompatible type "int"; expected "str \| None"',
        r'Incompatible return value type \(got "int", expected "str"\)',
    ]
    for pattern in expected:
        assert any(re.search(pattern, line) for line in errors), (pattern, out)
    assert len(errors) == 3, out
