"""The Ray executor: one task per case on ``workers`` Ray actors, each holding its own model.

Each actor is a process that opens the model once (when its first case needs it) and runs
whole cases with the same `CaseRunner` a local run uses, writing into the same output folder
(shared storage on a multi-node cluster: every node must see the inputs and ``OUT`` at the
same paths, and have medsee and its model files installed). So the files are those of a
local run, byte for byte; each actor stages its results in its own private folder. The
driver (this process) holds the output folder's lock, hands out cases as actors free up and
yields the results in the cases' order, findings without their voxel masks (the files have
them). Ray is imported only here, only when asked for.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from medsee_cli.engine.progress import READING, Progress, Step
from medsee_cli.errors import MedseeError
from medsee_cli.services.batch_inputs import Case
from medsee_cli.services.execution import Execution
from medsee_cli.services.segment import CaseResult, SegmentOptions
from medsee_cli.services.segment_case import CaseRunner
from medsee_cli.services.segment_model import ModelFailed, ModelLoader


@dataclass(frozen=True)
class Fatal:
    """What an actor sends back when the model cannot be opened (the batch ends)."""

    message: str
    exit_code: int


class CaseWorker:
    """The actor's body (wrapped by ``ray.remote`` in `run_on_ray`)."""

    def __init__(self, options: SegmentOptions, loader: ModelLoader, names: list[str], texts: list[str],
                 keyed: dict[str, Any]) -> None:
        from medsee_cli.engine.progress import silent

        self.runner = JobRunner(options, loader, names, texts, keyed, silent)

    def case(self, case: Case) -> CaseResult | Fatal:
        try:
            result = self.runner.case(case)
        except ModelFailed as failed:
            return Fatal(str(failed.error), failed.error.exit_code)
        return replace(result, findings=[replace(f, region=None) for f in result.findings])

    def close(self) -> None:
        """Remove this process's staging folder."""
        import shutil

        from medsee_cli.services.completion import staging_root

        shutil.rmtree(staging_root(Path(self.runner.options.out)), ignore_errors=True)


def _lock_holder(out: Path) -> str:
    from medsee_cli.io.folder_lock import LOCK_NAME

    try:
        return (out / LOCK_NAME).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


class JobRunner(CaseRunner):
    """`CaseRunner` that publishes only while the job that started it still holds ``OUT``: an
    actor outliving a killed driver (Ray takes a few seconds to notice) must not write into
    the folder the next job now holds."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.holder = _lock_holder(Path(self.options.out))  # the driver's "PID HOST"

    def before_publish(self) -> None:
        if _lock_holder(Path(self.options.out)) != self.holder:
            raise MedseeError(f"{self.options.out} is now held by another job: the result was not kept")


class _Fatal(MedseeError):
    def __init__(self, fatal: Fatal) -> None:
        super().__init__(fatal.message)
        self.exit_code = fatal.exit_code


def run_on_ray(options: SegmentOptions, loader: ModelLoader, names: list[str], texts: list[str],
               keyed: dict[str, Any], cases: Sequence[Case], execution: Execution,
               progress: Progress) -> Iterator[CaseResult]:
    """Every case's result, in order. Paths are made absolute for the workers; a Ray this call
    started is shut down at the end, a cluster it joined is left running."""
    import ray

    options = replace(options, out=Path(options.out).resolve())
    cases = [replace(c, source=c.source.resolve()) for c in cases]
    started = not ray.is_initialized()
    if started:
        address = execution.address or os.environ.get("RAY_ADDRESS") or None
        cpus = None if address else max(1, math.ceil(execution.workers * execution.cpus_per_worker))
        ray.init(address=address, num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
    actor = ray.remote(num_cpus=execution.cpus_per_worker, num_gpus=execution.gpus_per_worker)(CaseWorker)
    pool = _Pool(ray, lambda: actor.remote(options, loader, names, texts, keyed), min(execution.workers, len(cases)))
    try:
        yield from pool.run(cases, progress)
    finally:
        pool.close()
        if started:
            ray.shutdown()


class _Pool:
    """The actors: each case goes to a free one; an actor that dies fails its case (one line)
    and is replaced; results are yielded as soon as every earlier one is in."""

    def __init__(self, ray: Any, start: Callable[[], Any], size: int) -> None:
        self.ray, self.start = ray, start
        self.idle = [start() for _ in range(size)]
        self.running: dict[Any, tuple[int, Case, Any]] = {}  # task -> (case index, case, actor)
        self.results: dict[int, CaseResult] = {}
        self.following = 0  # the next index to yield

    def run(self, cases: Sequence[Case], progress: Progress) -> Iterator[CaseResult]:
        for index, case in enumerate(cases):
            while not self.idle:
                yield from self._collect()
            worker = self.idle.pop()
            progress(Step(READING, item=case.ident))
            self.running[worker.case.remote(case)] = (index, case, worker)
        while self.running:
            yield from self._collect()

    def _collect(self) -> Iterator[CaseResult]:
        done, _ = self.ray.wait(list(self.running), num_returns=1)
        index, case, worker = self.running.pop(done[0])
        try:
            outcome = self.ray.get(done[0])
        except self.ray.exceptions.RayError as exc:  # the actor died (out of memory, node lost...)
            reason = " ".join(str(exc).split())[:200]
            outcome = CaseResult(case.label, case.ident, False, f"{case.label}: the Ray worker failed: {reason}", 1)
            self.ray.kill(worker)
            worker = self.start()
        if isinstance(outcome, Fatal):
            raise _Fatal(outcome)
        self.results[index] = outcome
        self.idle.append(worker)
        while self.following in self.results:
            yield self.results.pop(self.following)
            self.following += 1

    def close(self) -> None:
        """Idle actors remove their staging folders; busy ones (the batch was stopped) are killed,
        and the next run removes what they left (their processes are gone)."""
        for worker in self.idle:
            try:
                self.ray.get(worker.close.remote(), timeout=60)
            except Exception:  # a dead actor has nothing left to clean
                pass
        for worker in self.idle + [w for _, _, w in self.running.values()]:
            self.ray.kill(worker)
