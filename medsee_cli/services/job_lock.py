"""One batch job per output folder: make ``OUT`` and hold its lock, or refuse at once.

A second job on a folder another job holds (`io.folder_lock`) is a usage error (exit 2) before
it does any work: ``--out: OUT is in use by another medsee job (PID HOST); run again when it has
finished``. The kernel frees the lock when its holder dies, so a killed job never blocks the
next one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from medsee_cli.errors import UsageError


@contextlib.contextmanager
def job_lock(out: Path) -> Iterator[Path]:
    """Create ``out`` if needed and hold its lock while the block runs; `UsageError` when it
    cannot be created or another job holds it."""
    from medsee_cli.io.folder_lock import FolderBusy, folder_lock_now

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError("--out", f"{out} cannot be created ({exc.strerror or exc})") from None
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(folder_lock_now(out))
        except FolderBusy as exc:
            raise UsageError("--out", f"{out} is in use by another medsee job ({exc.holder or 'unknown process'}); "
                                      "run again when it has finished") from None
        yield out
