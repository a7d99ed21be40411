"""One writer per output folder: an exclusive ``flock`` on a lock file inside it.

The lock file holds the PID and host of the process that has it, so a second process can say
who holds it. The kernel releases the lock when its holder exits, even after SIGKILL, so a lock
is never stale: a file left by a killed holder is simply locked again. A busy folder is refused
at once, never waited for (a cron job must not hang behind a hung one): `folder_lock_now`
raises `FolderBusy` (`services.job_lock` turns it into the user's `UsageError`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".medsee.lock"


class FolderBusy(Exception):
    """Another process holds the folder's lock: ``holder`` is its ``PID HOST`` (or "")."""

    def __init__(self, folder: Path, holder: str) -> None:
        super().__init__(f"{folder}: another process ({holder or 'unknown'}) is writing to this folder")
        self.folder = folder
        self.holder = holder


@contextlib.contextmanager
def folder_lock_now(folder: Path) -> Iterator[Path]:
    """Hold ``folder/.medsee.lock``, or raise `FolderBusy` at once when another process holds it."""
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(folder, os.pread(fd, 300, 0).decode("ascii", "replace").strip()) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
