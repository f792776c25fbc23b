"""The style guide's gates: ``mypy --strict`` on both packages and ruff on the whole tree, clean.

They run with the suite so that a type error or a lint slip fails CI like a broken test does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_mypy_strict_finds_nothing_in_scheduler_and_notifications() -> None:
    done = _run("mypy", "scheduler", "notifications")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "scheduler", "notifications", "tests", "bench")
    assert done.returncode == 0, done.stdout + done.stderr
