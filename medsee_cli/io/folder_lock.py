"""One writer per output folder: an exclusive ``flock`` on a lock file inside it.

The lock file holds the PID and host of the process that has it, so a second process can say
whom it waits for. The kernel releases the lock when its holder exits, even after SIGKILL, so a
lock is never stale: a file left by a killed holder is simply locked again. `folder_lock` waits
for a busy folder; `folder_lock_now` refuses it at once (`FolderBusy`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".medsee.lock"


class FolderBusy(Exception):
    """Another process holds the folder's lock: ``holder`` is its ``PID HOST`` (or "")."""

    def __init__(self, folder: Path, holder: str) -> None:
        super().__init__(f"{folder}: another process ({holder or 'unknown'}) is writing to this folder")
        self.folder = folder
        self.holder = holder


@contextlib.contextmanager
def folder_lock(folder: Path, on_wait: Callable[[int | None], None] | None = None, *, wait: bool = True) -> Iterator[Path]:
    """Hold ``folder/.medsee.lock``; when another process holds it, call ``on_wait(pid)`` once
    and block until it is free, or (``wait=False``) raise `FolderBusy` at once."""
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise FolderBusy(folder, _text(fd)) from None
            if on_wait is not None:
                on_wait(_holder(fd))
            fcntl.flock(fd, fcntl.LOCK_EX)
        _claim(fd)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def folder_lock_now(folder: Path) -> contextlib.AbstractContextManager[Path]:
    """Hold ``folder/.medsee.lock`` or raise `FolderBusy` at once (no waiting)."""
    return folder_lock(folder, wait=False)


def _claim(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)


def _text(fd: int) -> str:
    return os.pread(fd, 300, 0).decode("ascii", "replace").strip()


def _holder(fd: int) -> int | None:
    words = _text(fd).split()
    return int(words[0]) if words and words[0].isdigit() else None
