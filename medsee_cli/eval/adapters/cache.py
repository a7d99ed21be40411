"""`LastOne`: keeps the one most recently decoded case output (CT label maps are large).

Items of one case come together in every dataset medsee reads, so one slot is enough: the
next case's output replaces the last one, which is let go before the new one is read. A case
whose reading failed keeps its error, so its other items fail the same way without reading
the file again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from medsee_cli.errors import MedseeError

V = TypeVar("V")


class LastOne(Generic[V]):
    """A one-entry cache: ``get(key, load)`` loads only when ``key`` differs from the last."""

    def __init__(self) -> None:
        self._slot: tuple[Hashable, V | MedseeError] | None = None

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        if self._slot is None or self._slot[0] != key:
            self._slot = None  # let the last case go before the next one is read
            result: V | MedseeError
            try:
                result = load()
            except MedseeError as exc:
                result = exc
            self._slot = (key, result)
        value = self._slot[1]
        if isinstance(value, MedseeError):
            raise value
        return value
