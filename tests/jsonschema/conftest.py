"""Fixtures: the example JSON Schemas (schemas/json) compiled into an importable package."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from generator.jsonschema import JsonSchemaCompiler

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
EXAMPLE_REFS = ("json/shipments/shipment_event.json", "json/shipments/shipment_key.json")


def write_package(files: dict[str, str], root: Path, package: str) -> Path:
    """Write rendered ``jsonmodels/...`` files under ``root/package`` (importable from root)."""
    base = root / package
    base.mkdir(parents=True, exist_ok=True)
    for relative, source in files.items():
        target = base / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    (base / "__init__.py").write_text("", encoding="utf-8")
    (base / "py.typed").write_text("", encoding="utf-8")
    return base


@pytest.fixture(scope="session")
def example_render() -> dict[str, str]:
    """``gen-topics``' JSON part for the example domain: output path -> module source."""
    compiler = JsonSchemaCompiler(SCHEMAS)
    for ref in EXAMPLE_REFS:
        compiler.resolve(ref, SCHEMAS / "shipments.topic.yaml", 1)
    return compiler.render()


@pytest.fixture(scope="session")
def example_package(
    example_render: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """The example models written to a temporary folder on sys.path: (folder, package)."""
    root = tmp_path_factory.mktemp("jsonmodels")
    package = f"jsexample_{uuid.uuid4().hex[:8]}"
    write_package(example_render, root, package)
    sys.path.insert(0, str(root))
    try:
        yield root, package
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="session")
def events(example_package: tuple[Path, str]) -> ModuleType:
    """The generated ``jsonmodels.shipments.shipment_event`` module."""
    return importlib.import_module(f"{example_package[1]}.jsonmodels.shipments.shipment_event")


@pytest.fixture(scope="session")
def keys(example_package: tuple[Path, str]) -> ModuleType:
    """The generated ``jsonmodels.shipments.shipment_key`` module."""
    return importlib.import_module(f"{example_package[1]}.jsonmodels.shipments.shipment_key")


@pytest.fixture(scope="session")
def common_address(example_package: tuple[Path, str]) -> ModuleType:
    """The generated ``jsonmodels.common.address`` module."""
    return importlib.import_module(f"{example_package[1]}.jsonmodels.common.address")


@pytest.fixture(scope="session")
def common_contact(example_package: tuple[Path, str]) -> ModuleType:
    """The generated ``jsonmodels.common.contact`` module."""
    return importlib.import_module(f"{example_package[1]}.jsonmodels.common.contact")
