"""Out-of-memory aware batching: run a batch in pieces, halving the piece size on OOM."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")
log = logging.getLogger(__name__)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch's CUDA OOM error and the 'out of memory' RuntimeErrors of other backends."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _release_cache() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and hasattr(mps, "empty_cache") and torch.backends.mps.is_available():
        mps.empty_cache()


class AdaptiveBatcher:
    """Remembers the largest piece that fitted; ``size`` only goes down (halved on each OOM)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("batch size must be at least 1")
        self.size = size
        self.halvings = 0

    def run(self, count: int, step: Callable[[int, int], T]) -> list[T]:
        """Call ``step(start, stop)`` over ``range(count)`` in pieces of at most ``size`` items."""
        results: list[T] = []
        start = 0
        while start < count:
            stop = min(count, start + self.size)
            try:
                results.append(step(start, stop))
            except Exception as exc:
                if not is_out_of_memory(exc) or stop - start == 1:
                    raise
                self.size = max(1, (stop - start) // 2)
                self.halvings += 1
                log.warning("out of memory with %d slices per batch; retrying with %d", stop - start, self.size)
                _release_cache()
                continue
            start = stop
        return results
