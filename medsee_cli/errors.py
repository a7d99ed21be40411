"""Domain exceptions. The CLI turns each into one clean line; none carries patient data."""

from __future__ import annotations


class MedseeError(Exception):
    """Base of every error medsee raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1


class ItemError(MedseeError):
    """An error about one named item (a file, series, checkpoint...): prints as ``ITEM: REASON``."""

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(f"{item}: {reason}")
        self.item = item
        self.reason = reason


class InputError(ItemError):
    """An input item (file, folder, series) cannot be used. Names the item and the reason."""

    exit_code = 2


class GeometryError(InputError):
    """A series whose slices do not form a volume we can describe with one affine."""


class UnsupportedInput(InputError):
    """A readable file that medsee deliberately does not handle (e.g. a structured report)."""


class OutputExistsError(MedseeError):
    """An output file exists and `--overwrite` was not given."""

    exit_code = 3

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: exists already (use --overwrite to replace it)")
        self.path = path


class NotYetAvailable(MedseeError):
    """A command whose implementation has not landed yet."""

    exit_code = 4
