"""Outputs that could not honestly be made: the exception a writer raises, and how it is told.

A writer raises `OutputNotMade(reason)` when the file it would write cannot be made without
inventing data (e.g. a DICOM-SEG for a series without a SeriesInstanceUID). `write_result` keeps
going with the other formats and records ``{format: reason}``; commands print one line per
skipped output (`skipped_line`) and exit 6 (``ExitCode.WARNINGS``).
"""

from __future__ import annotations

NAMES = {"nifti": "NIfTI mask", "labels": "label table", "json": "boxes JSON", "png": "preview PNG",
         "dicom-seg": "DICOM-SEG", "rtstruct": "RTSTRUCT"}


class OutputNotMade(Exception):
    """One output cannot honestly be made; ``reason`` says why (one line, no patient data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def skipped_text(fmt: str, reason: str) -> str:
    """``no DICOM-SEG: the source series has no SeriesInstanceUID``."""
    return f"no {NAMES.get(fmt, fmt)}: {reason}"


def skipped_texts(skipped: dict[str, str]) -> list[str]:
    return [skipped_text(fmt, reason) for fmt, reason in skipped.items()]
