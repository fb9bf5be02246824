"""Packaging that pyproject.toml cannot express: the repository's top-level ``templates/``
ships inside the generator package (``generator/templates``) in the wheel, so that an install
adds only distinctive top-level names (``gen_topics``, ``generator``), never ``templates``.

Every other setting is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

# Namespace packages too: a subpackage without __init__.py (generator/avro) must ship.
PACKAGES = find_namespace_packages(
    include=["gen_topics", "gen_topics.*", "generator", "generator.*"]
)

setup(
    packages=[*PACKAGES, "generator.templates"],
    package_dir={"generator.templates": "templates"},
)
