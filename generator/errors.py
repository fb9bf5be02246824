"""Errors raised by the compiler: every one names a file, a line and what was expected."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gen_topics.errors import GenTopicsError


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, printed as ``file:line: message``."""

    file: str
    line: int
    message: str

    @property
    def location(self) -> str:
        """``file:line``; ``file`` for a problem with a whole file or folder (line 0); empty
        for one that is in no file (such as a schemas folder that does not exist)."""
        return f"{self.file}:{self.line}" if self.file and self.line else self.file

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class GeneratorError(GenTopicsError):
    """Invalid input: one or more :class:`Problem` in schema or descriptor files.

    The command prints each problem on its own line and exits with status 2.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(
            set(problems), key=lambda p: (p.file, p.line, p.message)
        )
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str, line: int, message: str) -> GeneratorError:
        """An error with one problem."""
        return cls([Problem(file, line, message)])


class ProblemCollector:
    """Collects problems so one run reports all of them, not only the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, line: int, message: str) -> None:
        """Record a problem at ``file:line``."""
        self.problems.append(Problem(file, line, message))

    def extend(self, error: GeneratorError) -> None:
        """Record every problem of ``error``."""
        self.problems.extend(error.problems)

    def raise_if_any(self) -> None:
        """Raise :class:`GeneratorError` when at least one problem was recorded."""
        if self.problems:
            raise GeneratorError(self.problems)
