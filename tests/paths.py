"""Where the repository and its test data are, for tests at any depth under tests/."""

from __future__ import annotations

from pathlib import Path

#: The repository root.
ROOT = Path(__file__).resolve().parents[1]
#: The conformance corpus copied from peer projects (tests/data/corpus).
CORPUS = ROOT / "tests" / "data" / "corpus"
