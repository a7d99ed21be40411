"""Atomic file output: write to a temporary name beside the target, then rename.

A reader never sees a half-written file, and a crash leaves only a ``.partial`` file that the
next run removes or overwrites.
"""

from __future__ import annotations

import contextlib
import os
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
