"""`EvalOptions`: every knob of one evaluation run, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medsee_cli.eval.metrics.surface import DEFAULT_TOLERANCE_MM

QUERY_KINDS = ("long", "short")


@dataclass(frozen=True)
class EvalOptions:
    split: str = "test"
    query: str = "long"  # MLMR-SD: which expression is the query
    nsd_tolerance_mm: float = DEFAULT_TOLERANCE_MM
    surface: bool = True  # compute HD95 / NSD (the slowest metrics)
    limit: int | None = None  # evaluate N items sampled across targets and cases (quick looks)
    seed: int = 0  # the sample --limit takes
    worst: int = 8  # worst cases drawn as overlays in the report
    out: Path | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.query not in QUERY_KINDS:
            raise ValueError(f"query must be one of {QUERY_KINDS}, got {self.query!r}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("--limit must be at least 1")
        if self.nsd_tolerance_mm <= 0:
            raise ValueError("the NSD tolerance must be positive (mm)")
