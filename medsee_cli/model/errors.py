"""Errors of the model layer: each names the checkpoint or file and the reason."""

from __future__ import annotations

from medsee_cli.errors import ExitCode, ItemError, MedseeError


class CheckpointError(ItemError):
    """A model file is missing, corrupt, has the wrong checksum, or does not fit the architecture."""

    exit_code = ExitCode.CHECKPOINT


class UnknownModelError(MedseeError):
    """A checkpoint name that the registry does not list."""

    exit_code = ExitCode.USAGE

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"{name}: no such model (known: {', '.join(known) or 'none'})")
        self.name = name
