"""Domain exceptions and the exit codes every command shares. None carries patient data.

One rule for every command (the README's "Errors" section states the same table):

==  =====================================================================================
0   everything asked for was done
1   some items failed (a bad input file/series/case); the others were done
2   usage error: a bad option, argument, target name or format (nothing was run)
3   an output exists already (use ``--overwrite``)
5   a model checkpoint failed its checks
6   done, with warnings: every item was processed but an output could not honestly be
    made (e.g. no DICOM-SEG for a source series without a SeriesInstanceUID)
70  internal error (a bug: please report it with ``--debug`` output)
130 interrupted
141 stdout was closed by its reader (``medsee ... | head``): a quiet, normal end, as for a
    coreutils program stopped by SIGPIPE
==  =====================================================================================

When several apply, the highest-priority one wins: 70 > 1 > 6 > 0 (usage errors, existing
outputs and checkpoint failures stop before any work).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ExitCode(enum.IntEnum):
    OK = 0
    ITEMS_FAILED = 1
    USAGE = 2
    OUTPUT_EXISTS = 3
    CHECKPOINT = 5
    WARNINGS = 6
    INTERNAL = 70
    INTERRUPTED = 130
    BROKEN_PIPE = 141


def batch_exit(failed: int, warned: int) -> ExitCode:
    """The exit code of a batch that ran: items failed > done with warnings > all done."""
    if failed:
        return ExitCode.ITEMS_FAILED
    if warned:
        return ExitCode.WARNINGS
    return ExitCode.OK


def items_exit(outcomes: Iterable[tuple[bool, int, bool]]) -> ExitCode:
    """The exit code of a batch from each item's (ok, exit code, warned): `OUTPUT_EXISTS` when
    every failure is an existing output not made by a batch, else `batch_exit`."""
    items = list(outcomes)
    failed = [code for ok, code, _ in items if not ok]
    if failed and all(code == ExitCode.OUTPUT_EXISTS for code in failed):
        return ExitCode.OUTPUT_EXISTS
    return batch_exit(len(failed), sum(1 for ok, _, warned in items if ok and warned))


class MedseeError(Exception):
    """Base of every error medsee raises on purpose; the CLI prints it without a traceback."""

    exit_code: int = ExitCode.ITEMS_FAILED


class ItemError(MedseeError):
    """An error about one named item (a file, series, checkpoint...): prints as ``ITEM: REASON``."""

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(f"{item}: {reason}")
        self.item = item
        self.reason = reason


class InputError(ItemError):
    """An input item (file, folder, series) cannot be used. Names the item and the reason.

    Exit 1 like any failed item, whether the command had one input or many."""

    exit_code = ExitCode.ITEMS_FAILED


class UsageError(ItemError):
    """The command line itself is wrong (option, argument, target name, format): exit 2, before
    any work. ``item`` names the option or argument."""

    exit_code = ExitCode.USAGE


class GeometryError(InputError):
    """A series whose slices do not form a volume we can describe with one affine."""


class UnsupportedInput(InputError):
    """A readable file that medsee deliberately does not handle (e.g. a structured report)."""


class OutputExistsError(MedseeError):
    """An output file exists and `--overwrite` was not given."""

    exit_code = ExitCode.OUTPUT_EXISTS

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: exists already (use --overwrite to replace it)")
        self.path = path
