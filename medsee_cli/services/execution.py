"""How a batch's cases are run: on this machine, or as tasks on a Ray cluster.

``local`` (the default): one process; the model runs on the calling thread while ``workers``
threads read the next cases and write the finished ones (`pipeline`); with ``cases_at_once``
above 1, that many cases run on the model at once, their slices encoded in shared batches
(for a GPU: `engine.shared_encoder`). ``ray``: ``workers`` Ray
actors, each a process with its own copy of the model, one case per task (`ray_executor`);
the results are the same files, byte for byte, as a local run's. Ray is an optional extra
(``pip install 'medsee[ray]'``).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Optional

from medsee_cli.errors import UsageError

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Execution:
    """``address``: the Ray cluster to join (``auto``, ``ray://HOST:10001``); ``None``: the one
    ``RAY_ADDRESS`` names, else a Ray started on this machine for the run. ``cpus_per_worker`` /
    ``gpus_per_worker``: what each Ray actor reserves (a GPU worker: ``gpus_per_worker=1``)."""

    executor: str = "local"
    workers: int = 1
    cases_at_once: int = 1  # local: cases whose model work runs together, slices batched across them
    address: Optional[str] = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0


def check_execution(execution: Execution) -> None:
    """Usage errors, before any work: an unknown executor, no worker, Ray options without Ray,
    Ray not installed."""
    if execution.executor not in EXECUTORS:
        raise UsageError("--executor", f"unknown executor {execution.executor!r} (known: {', '.join(EXECUTORS)})")
    if execution.workers < 1:
        raise UsageError("--workers", "must be at least 1")
    if execution.cases_at_once < 1:
        raise UsageError("--cases-at-once", "must be at least 1")
    if execution.executor != "ray":
        if execution.address is not None:
            raise UsageError("--ray-address", "applies only with --executor ray")
        if execution.gpus_per_worker:
            raise UsageError("--gpus-per-worker", "applies only with --executor ray")
        return
    if execution.cases_at_once != 1:
        raise UsageError("--cases-at-once", "applies to the local executor (Ray: several workers per GPU with "
                                            "--gpus-per-worker 0.5)")
    if execution.cpus_per_worker <= 0 or execution.gpus_per_worker < 0:
        raise UsageError("--gpus-per-worker", "Ray workers need more than 0 CPUs and at least 0 GPUs")
    if importlib.util.find_spec("ray") is None:
        raise UsageError("--executor ray", "Ray is not installed (pip install 'medsee[ray]')")
