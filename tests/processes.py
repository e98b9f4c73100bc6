"""Python code run in a fresh interpreter, for what a test process cannot undo: settings read
at import, a process's own start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `code` from the project's root with exactly `env`; its output captured as text.
    A minute at most: a child that hangs fails its test instead of stalling the suite."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
