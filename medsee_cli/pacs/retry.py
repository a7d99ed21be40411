"""Try an operation again with exponential backoff, within a bounded total wait.

The waits come from `NetOptions.waits`. A `Breaker` shared by the operations of one run stops
the waiting once the server was found unreachable: every later operation gets a single try
(and its own one-line failure) until one gets through, so a PACS that went down costs one
backoff sequence per run, not one per item.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from medsee_cli.pacs.options import NetOptions

logger = logging.getLogger(__name__)
T = TypeVar("T")


class NetworkError(Exception):
    """A request that failed, described in one line without URLs, queries or credentials."""

    def __init__(self, reason: str, *, retryable: bool, unreachable: bool = False, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.unreachable = unreachable  # the server could not be reached at all (refused, reset, timed out)
        self.status = status  # the HTTP status, when there was an answer

    def after(self, tries: int, breaker_open: bool) -> "NetworkError":
        if breaker_open:
            suffix = " (1 try: the server was unreachable for an earlier item)"
        elif tries > 1:
            suffix = f" (after {tries} tries)"
        else:
            suffix = ""
        return NetworkError(self.reason + suffix, retryable=False, unreachable=self.unreachable, status=self.status)


class Breaker:
    """Shared by the operations of one run: open once one of them could not reach the server."""

    def __init__(self) -> None:
        self.open = False


Classify = Callable[[Exception], "NetworkError | None"]


def with_retries(operation: Callable[[], T], options: NetOptions, classify: Classify, *, what: str,
                 breaker: Breaker | None = None, sleep: Callable[[float], None] = time.sleep) -> T:
    """``operation()``, tried again after retryable failures; the last failure is raised as one
    `NetworkError`. Exceptions ``classify`` does not know (it returns None) propagate as they are."""
    was_open = breaker is not None and breaker.open
    waits = [] if was_open else options.waits()
    tries = 0
    while True:
        tries += 1
        try:
            result = operation()
        except Exception as exc:
            error = exc if isinstance(exc, NetworkError) else classify(exc)
            if error is None:
                raise
            if not error.retryable or tries > len(waits):
                if breaker is not None and error.unreachable:
                    breaker.open = True
                raise error.after(tries, was_open) from exc
            wait = waits[tries - 1]
            logger.info("%s: try %d of %d failed (%s); trying again in %.2f s", what, tries, len(waits) + 1,
                        error.reason, wait)
            sleep(wait)
        else:
            if breaker is not None:
                breaker.open = False
            return result
