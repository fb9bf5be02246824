"""Local schema compatibility checks (Avro and JSON Schema), no registry needed."""

from generator.compat.check import CompatibilityReport, UnsupportedSchemaType, check_compatibility
from generator.compat.findings import CompatibilityLevel, Finding, InvalidLevelError, parse_level

__all__ = [
    "CompatibilityLevel",
    "CompatibilityReport",
    "Finding",
    "InvalidLevelError",
    "UnsupportedSchemaType",
    "check_compatibility",
    "parse_level",
]
