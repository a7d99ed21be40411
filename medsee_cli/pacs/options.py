"""`NetOptions`: timeouts and retries for every DICOMweb request of one run."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class NetOptions:
    """How long to wait, and how often to try again.

    One *operation* (a search, the retrieval of one series, the push of one instance) is tried
    up to ``attempts`` times. Before try n+1 it waits ``backoff_s * 2**(n-1)`` seconds, each wait
    at most ``backoff_max_s``, and all the waits of one operation together at most ``budget_s``
    (a try that would need more is not made). Connection failures, timeouts and HTTP 408, 429,
    500, 502, 503, 504 are tried again; anything else (401, 403, 404, a TLS error, a refused
    instance) fails at once.
    """

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0
    attempts: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    budget_s: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1 (got {self.attempts})")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "attempts" and not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"{f.name} must be a number of seconds >= 0 (got {value!r})")
        if self.connect_timeout_s == 0 or self.read_timeout_s == 0:
            raise ValueError("timeouts must be above 0 seconds")

    def waits(self) -> list[float]:
        """The waits before tries 2, 3, ... that fit in the budget (fewer when it runs out)."""
        out: list[float] = []
        spent = 0.0
        for n in range(self.attempts - 1):
            wait = min(self.backoff_s * (2.0 ** n), self.backoff_max_s)
            if spent + wait > self.budget_s:
                break
            out.append(wait)
            spent += wait
        return out

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) as requests takes it."""
        return (float(self.connect_timeout_s), float(self.read_timeout_s))


NETWORK_KEYS = tuple(f.name for f in fields(NetOptions))
