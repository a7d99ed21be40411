"""A `segment` batch as a job: one per output folder, logged, summarised, optionally pushed.

`run_batch` holds ``OUT/.medsee.lock`` (a second job on the same folder fails at once with
`UsageError`; the kernel frees the lock of a killed job), runs `segment.segment`, pushes each
case's ``seg.dcm`` with `push.push_instances` when ``push`` names a DICOMweb server (the
record ``pushed.json`` in the case folder makes a re-run push nothing twice; a failed push
fails that case's push, not its outputs), writes one JSON line per event to ``log`` and the
run summary (`run_summary`) to ``summary`` (default ``OUT/run.json``) at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from medsee_cli.engine.progress import READING, Progress, Step, silent
from medsee_cli.services.run_log import RunLog
from medsee_cli.services.run_summary import RunItem, RunSummary, Status
from medsee_cli.services.segment import CaseResult, SegmentOptions

SUMMARY_NAME = "run.json"


@dataclass(frozen=True)
class BatchOptions:
    segment: SegmentOptions
    summary: Optional[Path] = None  # None: OUT/run.json
    log: Optional[Path] = None  # JSON lines; None: no log file
    push: Optional[str] = None  # DICOMweb base URL: each case's seg.dcm goes into its source study

    @property
    def summary_path(self) -> Path:
        return self.summary or Path(self.segment.out) / SUMMARY_NAME


Listener = Callable[[CaseResult, RunItem], None]  # the console's view of each finished case


def run_batch(inputs: Sequence[str | Path], options: BatchOptions, listener: Optional[Listener] = None,
              progress: Progress = silent) -> RunSummary:
    """Run the batch under the folder's lock; returns the summary it wrote."""
    from medsee_cli.services.job_lock import job_lock
    from medsee_cli.services.segment import check_segment, segment

    out = Path(options.segment.out)
    check_segment(options.segment)  # usage errors: before the output folder is made
    if options.push is not None:
        from medsee_cli.services.push import check_destination

        check_destination(options.push)  # a bad URL or login set-up: usage error before any work
    summary = RunSummary("medsee segment")
    with job_lock(out), RunLog(options.log) as log:
        log.event("run-start", inputs=len(inputs), push=options.push is not None)

        def heard(step: Step) -> None:
            if step.stage == READING and step.item:
                log.event("case-start", step.item)
            progress(step)

        for case in segment(inputs, options.segment, heard):
            item = _item(case, options, log)
            summary.add(item)
            if listener is not None:
                listener(case, item)
        summary.write(options.summary_path)
        log.event("run-end", done=summary.count("done"), skipped=summary.count("skipped"),
                  failed=summary.count("failed"), exit_code=int(summary.exit_code))
    return summary


def _item(case: CaseResult, options: BatchOptions, log: RunLog) -> RunItem:
    """The case's summary entry and log line, with its push done when asked for."""
    if not case.ok:
        reason = _private(case.error, case)
        log.event("case-fail", case.case_id, key=case.key or None, reason=reason)
        return RunItem(case.case_id, "failed", reason)
    status: Status = "skipped" if case.skipped else "done"
    reason = "finished earlier with the same inputs, model and options" if case.skipped else ""
    log.event(f"case-{'skip' if case.skipped else 'done'}", case.case_id, key=case.key,
              warnings=list(case.warnings) or None)
    pushed = _push(case, options.push) if options.push is not None else None
    if pushed is not None:
        log.event("case-push", case.case_id, key=case.key, status=pushed)
    return RunItem(case.case_id, status, reason, pushed, case.warnings)


def _push(case: CaseResult, url: str) -> Optional[str]:
    """``pushed``, ``already-pushed``, ``already-there`` or ``failed: REASON``; None without a SEG."""
    from medsee_cli.services.push import RECORD_NAME, PushOptions, push_instances

    seg = case.outputs.get("dicom_seg")
    if not seg:
        return None
    folder = Path(seg).parent
    report = push_instances(url, [Path(seg)], PushOptions(record=folder / RECORD_NAME))
    item = report.items[0]
    return item.status if item.status != "failed" else f"failed: {item.reason}"


def _private(text: str, case: CaseResult) -> str:
    """A reason on one line, without the case's source path (folder names may name patients)."""
    return " ".join((text.replace(case.image, case.case_id) if case.image else text).split())
