"""Atomic file output: write to a temporary name beside the target, then rename.

A reader never sees a half-written file, and a crash leaves only a ``.partial`` file that the
next run removes or overwrites.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from medsee_cli.errors import OutputExistsError

PARTIAL_SUFFIX = ".partial"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed onto ``target``.

    With ``overwrite=False`` an existing target raises `OutputExistsError` before anything is
    written. On error the temporary file is removed and the target is left as it was.
    """
    target = Path(target)
    if not overwrite and target.exists():
        raise OutputExistsError(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | os.PathLike[str], text: str, *, overwrite: bool = True) -> None:
    write_bytes_atomic(target, text.encode("utf-8"), overwrite=overwrite)


def partial_owner(path: Path) -> int | None:
    """The PID in a ``.NAME.PID.partial`` name, or None when the name is not one of ours."""
    name = path.name
    if not (name.startswith(".") and name.endswith(PARTIAL_SUFFIX)):
        return None
    pid = name[: -len(PARTIAL_SUFFIX)].rsplit(".", 1)[-1]
    return int(pid) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a live process of another user
        return True
    return True


def remove_stale_partials(folder: str | os.PathLike[str], *, folders: bool = False) -> list[Path]:
    """Remove the ``.NAME.PID.partial`` files in ``folder`` whose writer is gone (its PID is not a
    live process, or is this process, which has not started writing there). With ``folders``,
    such folders too (a killed run's private download folder), with what they hold. Returns them."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        path = Path(entry.path)
        pid = partial_owner(path)
        if pid is None or not (pid == os.getpid() or not _alive(pid)):
            continue
        if entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
        elif folders and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    return removed
