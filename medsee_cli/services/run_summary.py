"""The summary of one batch run (``medsee.run/1``): every case done, skipped or failed, why.

Written atomically when the run ends (default ``OUT/run.json``); a run killed before that
leaves the previous summary. Its exit code: 0 when every case was done or skipped, 1 when some
failed (their outputs are absent or the old ones; a failed push fails only the push). Usage
errors (2) and fatal ones (70) end a run before it has a summary.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from medsee_cli.errors import ExitCode, batch_exit
from medsee_cli.io.atomic import write_text_atomic

Status = Literal["done", "skipped", "failed"]
SCHEMA = "medsee.run/1"


@dataclass(frozen=True)
class RunItem:
    """One case: ``reason`` is one line (why it failed; for a skip, why it counts as done);
    ``push``: the push's status (``pushed``, ``already-pushed``, ``failed: REASON``...) or None."""

    case: str
    status: Status
    reason: str = ""
    push: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status == "failed" or (self.push or "").startswith("failed")

    def to_dict(self) -> dict[str, object]:
        return {"case": self.case, "status": self.status, "reason": self.reason or None, "push": self.push,
                "warnings": list(self.warnings)}


@dataclass
class RunSummary:
    command: str
    items: list[RunItem] = field(default_factory=list)
    started: str = field(default_factory=lambda: _now())

    def add(self, item: RunItem) -> None:
        self.items.append(item)

    def count(self, status: Status) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def exit_code(self) -> ExitCode:
        return batch_exit(sum(1 for i in self.items if i.failed), sum(1 for i in self.items if i.warnings))

    def to_dict(self) -> dict[str, object]:
        return {"schema": SCHEMA, "command": self.command, "started": self.started, "finished": _now(),
                "done": self.count("done"), "skipped": self.count("skipped"), "failed": self.count("failed"),
                "exit_code": int(self.exit_code), "items": [i.to_dict() for i in self.items]}

    def write(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
