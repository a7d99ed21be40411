"""A batch's event log: one JSON object per line (``--log FILE``), appended.

Each event names the case by its id (a catalog key or a file stem) and its work key, never a
patient attribute or a source path; ``reason`` texts are the one-line reasons of the summary.
Each line goes out in one ``write`` on a file opened for appending, so a killed run leaves
whole lines.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any


class RunLog:
    """``event(kind, case, **fields)`` appends a line; a log without a file writes nothing."""

    def __init__(self, path: Path | None) -> None:
        self._fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def event(self, kind: str, case: str | None = None, **fields: Any) -> None:
        if self._fd is None:
            return
        doc = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), "event": kind,
               "case": case, **{k: v for k, v in fields.items() if v is not None}}
        os.write(self._fd, (json.dumps(doc, sort_keys=False) + "\n").encode())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
