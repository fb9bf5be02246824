"""mypy --strict accepts generated/ and typed usage, and reports a wrong key or value type."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]

USAGE = """
import datetime as dt
import uuid

from runtime import App
from generated.avro.com.acme.customers import Customer
from generated.avro.com.acme.orders import OrderConfirmed, OrderPlaced
from generated.customers import CustomersTopic
from generated.orders import OrdersTopic


async def use(app: App) -> None:
    orders = OrdersTopic(app)
    confirmed = OrderConfirmed(order_id=uuid.uuid4(), at=dt.datetime.now(dt.UTC))
    await orders.send(key="o-1", value=confirmed)
    same: OrdersTopic = orders.derive(partitions=2)
    async for event in orders:
        key: str | None = event.key
        value = event.value
        if isinstance(value, OrderPlaced):
            first_sku: str = value.lines[0].sku
    await CustomersTopic(app).send(key="c-1", value=None)  # a tombstone
{bad}
"""

BAD_LINES = {
    "wrong-key": "    await orders.send(key=42, value=confirmed)",
    "wrong-value": '    await orders.send(key="o-1", value=Customer)',
    "wrong-field": '    OrderConfirmed(order_id="not-a-uuid", at=dt.datetime.now(dt.UTC))',
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One cache for the module: later runs only re-check the usage file.
    return tmp_path_factory.mktemp("mypy_cache")


def _mypy(tmp_path: Path, source: str, cache: Path) -> tuple[str, int]:
    path = tmp_path / "usage.py"
    path.write_text(source)
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(cache),
            str(path),
        ]
    )
    return stdout + stderr, status


def test_generated_package_passes_mypy_strict(cache_dir: Path) -> None:
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(cache_dir),
            "-p",
            "generated",
        ]
    )
    assert status == 0, stdout + stderr


def test_typed_usage_passes(tmp_path: Path, cache_dir: Path) -> None:
    output, status = _mypy(tmp_path, USAGE.format(bad=""), cache_dir)
    assert status == 0, output


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_wrong_types_are_reported(tmp_path: Path, case: str, cache_dir: Path) -> None:
    output, status = _mypy(tmp_path, USAGE.format(bad=BAD_LINES[case]), cache_dir)
    assert status == 1, output
    bad_line = USAGE.format(bad=BAD_LINES[case]).splitlines().index(BAD_LINES[case]) + 1
    assert f"usage.py:{bad_line}: error" in output, output
    assert output.count(": error") == 1, output
