"""``ruff format --check`` as the generator runs it (isolated from any configuration)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from generator.formatting import LINE_LENGTH


def ruff_format_check(*folders: Path, suffix: str = ".py") -> str:
    """The files under ``folders`` that ruff format would change (with its diff), or ''.

    Files named ``*{suffix}`` are checked; golden files (``.py.txt``) are copied first."""
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory() as tmp:
        targets: list[Path] = []
        for i, folder in enumerate(folders):
            if suffix == ".py":
                targets.append(folder)
                continue
            copy = Path(tmp) / str(i)
            for path in folder.rglob(f"*{suffix}"):
                dest = copy / path.relative_to(folder).with_name(path.name[: -len(suffix)] + ".py")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
            targets.append(copy)
        done = subprocess.run(
            [
                str(find_ruff_bin()),
                "format",
                "--isolated",
                "--no-cache",
                "--diff",
                f"--line-length={LINE_LENGTH}",
                "--target-version=py311",
                *map(str, targets),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    return "" if done.returncode == 0 else (done.stdout + done.stderr)[-8000:]
