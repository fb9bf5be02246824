"""The compiled (mypyc) and the pure-Python Avro codec of a generated package.

Both give identical bytes and identical objects, fail alike on broken bytes, and the
pure-Python one is what runs wherever no current compiled module exists: no compiler, a
build that failed, a stale build, or ``GEN_TOPICS_AVRO_NATIVE=0``.

The compiled-path tests build ``schemas/`` and every golden feature once (one mypyc run,
``-O0``: this checks semantics, not speed). The corpus is compiled too when
``GEN_TOPICS_NATIVE_CORPUS=1`` (it takes minutes).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from generator.avro.model import Ref
from generator.avro.native import NativeBuildError, build, native_files
from generator.avro.text import schema_text
from generator.compiler import build_model
from generator.model import AvroPayload, CompileModel
from generator.render import render
from generator.writer import write
from tests.generator.avro_strategies import datum_strategy
from tests.generator.roundtrip import record_codecs
from tests.generator.test_resolution import CHANGES, check_resolution

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_INPUTS = Path(__file__).resolve().parent / "golden_inputs"
INPUTS = {"native_schemas": ROOT / "schemas"} | {
    f"native_golden_{p.name}": p for p in sorted(GOLDEN_INPUTS.iterdir()) if p.is_dir()
}
WITH_CORPUS = os.environ.get("GEN_TOPICS_NATIVE_CORPUS") == "1"


def _compiler_missing() -> str | None:
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypyc is not installed"
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc})"
    return None


needs_compiler = pytest.mark.skipif(
    _compiler_missing() is not None, reason=str(_compiler_missing())
)


def _run(code: str, base: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that imports packages from ``base``."""
    environ = {k: v for k, v in os.environ.items() if k != "GEN_TOPICS_AVRO_NATIVE"}
    environ["PYTHONPATH"] = os.pathsep.join([str(base), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=120,
        check=False,
    )


_PROBE = """
import importlib, json
codec = importlib.import_module("{pkg}._avro_codec")
payments = importlib.import_module("{pkg}.payments")
print(json.dumps({{"native": codec.NATIVE, "key": payments.KEY_CODEC.encode("k").hex()}}))
"""


def _probe(base: Path, pkg: str, **env: str) -> dict[str, Any]:
    done = _run(_PROBE.format(pkg=pkg), base, **env)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["stderr"] = done.stderr
    return out


# -- without a compiler --------------------------------------------------------------


def test_without_a_compiled_module_the_pure_python_codec_runs(tmp_path: Path) -> None:
    write(tmp_path / "plain", render(build_model(ROOT / "schemas")), clean=False)
    result = _probe(tmp_path, "plain")
    assert result["native"] is False
    assert bytes.fromhex(result["key"]) == b"\x02k"
    assert "RuntimeWarning" not in result["stderr"]


def test_a_machine_without_a_compiler_gets_the_pure_python_codec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "nocc", render(build_model(ROOT / "schemas")), clean=False)
    # setuptools compiles with $CC: point it at a compiler that does not exist.
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setenv("LDSHARED", str(tmp_path / "no-such-cc") + " -shared")
    with pytest.raises(NativeBuildError, match=r"mypyc failed|not installed"):
        build(tmp_path / "nocc", opt_level="0")
    assert native_files(tmp_path / "nocc") == []
    assert not (tmp_path / "nocc" / "_avro_codec_native.py").exists()
    monkeypatch.delenv("CC")
    monkeypatch.delenv("LDSHARED")
    assert _probe(tmp_path, "nocc")["native"] is False


# -- with the compiled module --------------------------------------------------------


def _corpus_inputs(base: Path) -> dict[str, CompileModel]:
    from tests.generator.test_corpus import FOLDERS, _compile, _package

    models: dict[str, CompileModel] = {}
    for folder, (whole, *single) in FOLDERS.items():
        name = "native_" + _package(folder)
        try:
            models[name] = _compile(whole, base / "in" / name)
        except Exception:  # a folder defining a name twice: one batch per file
            for i, batch in enumerate(single):
                models[f"{name}_{i}"] = _compile(batch, base / "in" / f"{name}_{i}")
    return models


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(folder, package name -> model) of the packages built with their compiled codec."""
    if _compiler_missing():
        pytest.skip(str(_compiler_missing()))
    base = tmp_path_factory.mktemp("native")
    models: dict[str, CompileModel] = {name: build_model(src) for name, src in INPUTS.items()}
    if WITH_CORPUS:
        models |= _corpus_inputs(base)
    for name, model in models.items():
        write(base / name, render(model), clean=False)
    build(*(base / name for name in models), opt_level="0", jobs=2)
    sys.path.insert(0, str(base))
    try:
        yield base, models
    finally:
        sys.path.remove(str(base))


def _pair(pkg: str) -> tuple[Any, Any]:
    """(pure-Python module, compiled module) of package ``pkg``, side by side."""
    os.environ["GEN_TOPICS_AVRO_NATIVE"] = "0"
    try:
        pure = importlib.import_module(f"{pkg}._avro_codec")
    finally:
        del os.environ["GEN_TOPICS_AVRO_NATIVE"]
    native = importlib.import_module(f"{pkg}._avro_codec_native")
    assert pure.NATIVE is False
    assert native.CODE_DIGEST == pure.CODE_DIGEST
    assert not str(native.__file__).endswith(".py")
    return pure, native


def _outcome(fn: Callable[[bytes], Any], data: bytes) -> tuple[str, Any]:
    try:
        value = fn(data)
    except Exception as exc:
        return "error", type(exc).__name__
    return "value", repr(value)


def _encoder(write_fn: Callable[[bytearray, Any], None]) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        out = bytearray()
        write_fn(out, value)
        return bytes(out)

    return encode


def _decoder(read_fn: Callable[[bytes, int], tuple[Any, int]]) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        value, pos = read_fn(data, 0)
        if pos > len(data):
            raise EOFError("truncated")
        return value

    return decode


def _cases(pkg: str, model: CompileModel, pure: Any, native: Any) -> list[tuple[str, Any]]:
    """(schema text, (pure encode, pure decode, native encode, native decode)) per record
    type and per Avro topic key/value."""
    out = []
    for fullname in sorted(model.registry.types):
        if model.registry.types[fullname].kind != "record":
            continue
        text = schema_text(Ref(fullname), model.registry)
        fns = (
            _encoder(pure.WRITERS[fullname]),
            _decoder(pure.READERS[fullname]),
            _encoder(native.WRITERS[fullname]),
            _decoder(native.READERS[fullname]),
        )
        out.append((text, fns))
    for topic in model.topics:
        for side, payload in (("key", topic.key), ("value", topic.value)):
            if not isinstance(payload, AvroPayload):
                continue
            module = importlib.import_module(f"{pkg}.{topic.module}")
            codec = getattr(module, f"{side.upper()}_CODEC")
            names = (codec._encoder.__name__, codec._decoder.__name__)
            fns = tuple(getattr(m, n) for m in (pure, native) for n in names)
            out.append((payload.schema_text, fns))
    return out


def _check(text: str, fns: Any, examples: int) -> None:
    pure_enc, pure_dec, native_enc, native_dec = fns
    schema = fastavro.parse_schema(json.loads(text))

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(datum_strategy(json.loads(text)), st.data())
    def check(datum: Any, draw: st.DataObject) -> None:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, datum)
        data = buf.getvalue()
        pure_value, native_value = pure_dec(data), native_dec(data)
        assert pure_value == native_value
        assert repr(pure_value) == repr(native_value)
        assert pure_enc(pure_value) == native_enc(native_value) == data
        # Broken bytes: cut short, or one byte changed; both paths agree on the outcome.
        cut = draw.draw(st.integers(0, max(len(data) - 1, 0)))
        assert _outcome(pure_dec, data[:cut]) == _outcome(native_dec, data[:cut])
        if data:
            at = draw.draw(st.integers(0, len(data) - 1))
            changed = data[:at] + bytes([draw.draw(st.integers(0, 255))]) + data[at + 1 :]
            assert _outcome(pure_dec, changed) == _outcome(native_dec, changed)

    try:
        check()
    except Unsatisfiable:
        return  # a record that requires itself has no finite value


def _package_names() -> list[str]:
    return list(INPUTS)


@needs_compiler
@pytest.mark.parametrize("pkg", _package_names())
def test_compiled_and_pure_python_codecs_agree(pkg: str, compiled: tuple[Path, Any]) -> None:
    _base, models = compiled
    pure, native = _pair(pkg)
    for text, fns in _cases(pkg, models[pkg], pure, native):
        _check(text, fns, examples=15)


@needs_compiler
@pytest.mark.skipif(not WITH_CORPUS, reason="set GEN_TOPICS_NATIVE_CORPUS=1 (takes minutes)")
def test_compiled_and_pure_python_codecs_agree_on_the_corpus(compiled: tuple[Path, Any]) -> None:
    _base, models = compiled
    corpus = [name for name in models if name not in INPUTS]
    assert corpus
    for pkg in corpus:
        pure, native = _pair(pkg)
        for text, fns in _cases(pkg, models[pkg], pure, native):
            _check(text, fns, examples=5)


@needs_compiler
@pytest.mark.parametrize("change", list(CHANGES))
def test_resolution_on_the_compiled_path_matches_fastavro(
    change: str, compiled: tuple[Path, Any]
) -> None:
    _base, models = compiled
    _pair("native_schemas")
    codecs = record_codecs(models["native_schemas"], "native_schemas", "_avro_codec_native")
    planned = [name for name, codec, _ in codecs if name in codec._planned]
    assert planned and all(
        type(codec._planned[name]).__name__ != "function"
        for name, codec, _ in codecs
        if name in planned
    )
    for _name, codec, text in codecs:
        check_resolution(codec, text, change, examples=10)


@needs_compiler
def test_the_compiled_codec_is_chosen_automatically(compiled: tuple[Path, Any]) -> None:
    base, _models = compiled
    result = _probe(base, "native_schemas")
    assert result["native"] is True
    assert bytes.fromhex(result["key"]) == b"\x02k"
    assert _probe(base, "native_schemas", GEN_TOPICS_AVRO_NATIVE="0")["native"] is False


@needs_compiler
def test_a_stale_compiled_codec_is_ignored_with_a_warning(compiled: tuple[Path, Any]) -> None:
    base, _models = compiled
    pkg = "native_golden_enums_and_defaults"
    source = base / pkg / "_avro_codec.py"
    text = source.read_text()
    # Regenerating after a schema change writes a codec with another digest.
    source.write_text(re.sub(r'CODE_DIGEST: Final = "\w+"', 'CODE_DIGEST: Final = "0"', text))
    try:
        done = _run(f"import {pkg}._avro_codec as c; print(c.NATIVE)", base)
    finally:
        source.write_text(text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert "RuntimeWarning" in done.stderr and "compiled from other code" in done.stderr
