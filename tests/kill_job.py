"""Kill a batch job in the middle: SIGKILL once its log, or its output folder, shows enough."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def kill_when(job: subprocess.Popen[bytes], ready: Callable[[], bool], delay: float = 0.0) -> None:
    """SIGKILL ``job`` ``delay`` seconds after ``ready()`` first holds, or when it ends by itself."""
    deadline = time.monotonic() + 300
    while job.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.005)
    time.sleep(delay)
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=60)


def kill_after(job: subprocess.Popen[bytes], log: Path, event: str, count: int, delay: float = 0.0,
               before: int = 0) -> None:
    """SIGKILL ``job`` ``delay`` seconds after its log (past its first ``before`` lines) holds
    ``count`` ``event`` lines (``"case-start"``, ``"case-done"``), or when it ends by itself."""

    def logged() -> bool:
        lines = log.read_text().splitlines()[before:] if log.exists() else []
        return sum(f'"{event}"' in line for line in lines) >= count

    kill_when(job, logged, delay)


def log_lines(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0
