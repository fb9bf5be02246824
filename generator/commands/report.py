"""Output of the registry commands: text for people, JSON for tools, GitHub annotations."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from gen_topics.registry import SchemaRegistryError
from generator.commands.sources import SourceError
from generator.compat import InvalidLevelError, UnsupportedSchemaType
from generator.compat.avro_schema import AvroSchemaError
from generator.compat.jsonschema_model import JsonSchemaParseError
from generator.github import annotation

__all__ = ["FORMATS", "INPUT_ERRORS", "Issue", "emit"]

FORMATS = ("text", "json", "github")

#: What the commands report as bad input (exit status 2) rather than as a crash.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    SourceError,
    InvalidLevelError,
    AvroSchemaError,
    JsonSchemaParseError,
    UnsupportedSchemaType,
    SchemaRegistryError,
)


@dataclass(frozen=True)
class Issue:
    """One line of a command's result: an error, warning or notice about one subject."""

    severity: str  # error | warning | notice
    subject: str
    message: str
    file: str = ""
    line: int = 0
    rule: str = ""
    path: str = ""


def emit(
    command: str,
    issues: list[Issue],
    summary: str,
    fmt: str,
    *,
    ok: bool,
    extra: dict[str, Any] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Write ``issues`` and ``summary`` to ``stream`` (stdout) in format ``fmt``."""
    out = stream or sys.stdout
    if fmt == "json":
        doc: dict[str, Any] = {
            "command": command,
            "ok": ok,
            "summary": summary,
            "issues": [asdict(i) for i in issues],
        }
        if extra:
            doc.update(extra)
        out.write(json.dumps(doc, indent=2) + "\n")
        return
    for issue in issues:
        rule = f"{issue.rule} " if issue.rule else ""
        where = f" at {issue.path}" if issue.path else ""
        text = f"{issue.subject}: {rule}{issue.message}{where}".replace(f"{rule}{rule}", rule)
        if fmt == "github":
            title = f"gen-topics {command}"
            out.write(
                annotation(issue.severity, text, file=issue.file, line=issue.line, title=title)
            )
        else:
            loc = (
                f"{issue.file}:{issue.line}: "
                if issue.file and issue.line
                else (f"{issue.file}: " if issue.file else "")
            )
            out.write(f"{loc}{issue.severity}: {text}\n")
    out.write(summary + "\n")
