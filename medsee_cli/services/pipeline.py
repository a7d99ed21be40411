"""The local executor: the model on this thread, reading and writing on ``workers`` threads.

While the model runs on case n, up to ``workers`` later cases are read (keyed, checked,
their image loaded) and earlier ones written, so a batch of DICOM series costs about the
model's time rather than model + decoding + writing. With ``cases_at_once`` = M above 1, M
cases run on the model at once, each on a thread of its own (their slices batched together
by the runner's shared encoder), and each such thread writes its case. Results come out in
the cases' order. Progress is reported from this thread only (a display need not be
thread-safe): a case "starts" when the model's turn comes to it. Memory: at most ``workers``
images wait to be run, M are being run and ``2 * workers`` results wait to be written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from medsee_cli.engine.progress import READING, WRITING, Step
from medsee_cli.services.batch_inputs import Case
from medsee_cli.services.segment import CaseResult
from medsee_cli.services.segment_case import CaseRunner, Ready


def _done(result: CaseResult) -> Future[CaseResult]:
    future: Future[CaseResult] = Future()
    future.set_result(result)
    return future


def run_pipelined(runner: CaseRunner, cases: Sequence[Case], workers: int) -> Iterator[CaseResult]:
    """Every case's result, in order; a `ModelFailed` ends the batch (threads are stopped first)."""
    together = runner.concurrent
    io = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="medsee-io")
    model = ThreadPoolExecutor(max_workers=together, thread_name_prefix="medsee-case") if together > 1 else None
    try:
        todo = iter(cases)
        reading: deque[tuple[Case, Future[Ready | CaseResult]]] = deque()
        results: deque[Future[CaseResult]] = deque()  # in the cases' order
        limit = 2 * workers + together

        def read_ahead() -> None:
            while len(reading) < workers:
                case = next(todo, None)
                if case is None:
                    return
                reading.append((case, io.submit(runner.read, case)))

        def run_and_write(ready: Ready) -> CaseResult:  # on a model thread
            found = runner.infer(ready)
            return found if isinstance(found, CaseResult) else runner.write(found)

        read_ahead()
        while reading:
            case, future = reading.popleft()
            read_ahead()
            runner.progress(Step(READING, item=case.ident))
            read = future.result()
            if isinstance(read, CaseResult):
                results.append(_done(read))
            elif model is not None:
                results.append(model.submit(run_and_write, read))
            else:
                found = runner.infer(read)
                if isinstance(found, CaseResult):
                    results.append(_done(found))
                else:
                    runner.progress(Step(WRITING))
                    results.append(io.submit(runner.write, found))
            while results and (results[0].done() or len(results) > limit):
                yield results.popleft().result()
        while results:
            yield results.popleft().result()
    finally:
        for pool in (model, io):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        runner.close()
