"""Source-level fixes on datamodel-code-generator output (generator/jsonschema/postprocess.py)."""

from __future__ import annotations

from generator.jsonschema.postprocess import mark_field_overrides

IGNORE = "# type: ignore[assignment, unused-ignore]"


def test_a_redeclared_field_of_a_base_in_another_module_is_marked() -> None:
    sources: dict[tuple[str, ...], str] = {
        ("common", "base.py"): "class Base:\n    x: int = 1\n    y: str = ''\n",
        ("child.py",): "from .common.base import Base\n\n\nclass Child(Base):\n"
        "    x: int = 2\n    z: int = 3\n",
    }
    out = mark_field_overrides(sources)
    child = out[("child.py",)].splitlines()
    assert child[4].endswith(IGNORE)  # x redeclares Base.x
    assert IGNORE not in child[5]  # z is new
    assert out[("common", "base.py")] == sources[("common", "base.py")]


def test_a_base_imported_from_the_package_init_is_found() -> None:
    # `from . import Base` names the package; the class lives in its __init__.py.
    sources: dict[tuple[str, ...], str] = {
        ("pkg", "__init__.py"): "class Base:\n    x: int = 1\n",
        ("pkg", "child.py"): "from . import Base\n\n\nclass Child(Base):\n    x: int = 2\n",
    }
    out = mark_field_overrides(sources)
    assert out[("pkg", "child.py")].splitlines()[4].endswith(IGNORE)
    assert IGNORE not in out[("pkg", "__init__.py")]
