"""One writer per output folder: an exclusive ``flock`` on a lock file inside it.

The lock file holds the PID of the process that has it, so a second process can say whom it
waits for. The kernel releases the lock when its holder exits, even after SIGKILL, so a lock
is never stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".medsee.lock"


@contextlib.contextmanager
def folder_lock(folder: Path, on_wait: Callable[[int | None], None] | None = None) -> Iterator[Path]:
    """Hold ``folder/.medsee.lock``; when another process holds it, call ``on_wait(pid)`` once
    and block until it is free."""
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(_holder(fd))
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None
