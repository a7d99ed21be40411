"""`segment`: explicit targets or referring expressions over many images, one folder per case.

Each image becomes ``OUT/<case-id>/`` holding ``mask.nii.gz`` (label map on the source grid),
``labels.json`` (its label table), ``boxes.json``, ``preview.png``, ``seg.dcm`` for DICOM
sources and ``provenance.json`` (written last); ``formats`` picks other files (``rtstruct.dcm``
too), and an input that cannot get a chosen format fails before the model runs. A bad input is
reported for that case and the batch goes on; the model is loaded once, and only when a case
needs it. A case folder is complete (with provenance.json and, last, the completion record
done.json) or absent; a re-run skips cases whose record matches (see `segment`). A DICOM output the source headers cannot honestly
support is skipped with a warning; the case's other files are written. How the cases are run
(`execution`): on this machine, the model on one thread while others read and write the cases
before and after it (`pipeline`), or as one task per case on Ray actors (`ray_executor`); the
stages of one case are `segment_case`.

Targets are one rule with `ask`: a checkpoint that lists what it was trained on decides what
it can outline. `ask` meets such targets among its own hypotheses and skips them with the
reason; here the user named them, so one the model cannot outline is a usage error (exit 2,
before any image is read).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.progress import Progress, silent
from medsee_cli.errors import UsageError
from medsee_cli.model.registry import DEFAULT_GROUNDING
from medsee_cli.services.batch_inputs import case_id, unique
from medsee_cli.services.execution import Execution
from medsee_cli.services.segment_model import ModelLoader

OUTPUT_FILES = {"mask": "mask.nii.gz", "boxes": "boxes.json", "preview": "preview.png", "dicom_seg": "seg.dcm",
                "rtstruct": "rtstruct.dcm"}


@dataclass(frozen=True)
class SegmentOptions:
    """``targets``: knowledge-base names; ``prompts``: free referring expressions (labelled
    ``prompt_1``, ``prompt_2``... in the label table). ``out``: the batch folder."""

    out: Path
    targets: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    model: str = DEFAULT_GROUNDING
    engine: EngineOptions = field(default_factory=EngineOptions)
    overwrite: bool = False  # replace case folders that have no completion record (not made by a batch)
    formats: Optional[tuple[str, ...]] = None  # None: NIfTI, JSON, PNG (+ DICOM-SEG for DICOM sources)
    loader: Optional[ModelLoader] = None  # None: the checkpoint ``model`` names (tests pass a toy)
    execution: Execution = field(default_factory=Execution)  # local threads or Ray actors (`execution`)


@dataclass(frozen=True)
class CaseResult:
    image: str
    case_id: str
    ok: bool
    error: str = ""
    exit_code: int = 0
    findings: list[Any] = field(default_factory=list)
    outputs: dict[str, Optional[str]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # outputs that could not honestly be made: "no DICOM-SEG: <why>"
    slice_numbers: dict[str, Any] = field(default_factory=dict)  # how findings number slices (io.slice_numbers)
    key: str = ""  # the work key (services.case_key); "" when it could not be computed
    skipped: bool = False  # finished by an earlier run with the same key: nothing was redone

    def to_dict(self) -> dict[str, Any]:
        """One case of medsee.segment/1; findings as `ask --json` gives them (`Finding.document`)."""
        return {"image": self.image, "case": self.case_id, "ok": self.ok, "skipped": self.skipped,
                "error": self.error or None,
                "findings": [f.document() for f in self.findings], "slice_numbers": dict(self.slice_numbers) or None,
                "outputs": dict(self.outputs), "warnings": list(self.warnings), "engine": dict(self.stats)}


def case_ids(paths: Sequence[str | Path]) -> list[str]:
    """One unique id per input, in order (repeated names get ``-2``, ``-3``...)."""
    return unique([case_id(p) for p in paths])


def target_list(options: SegmentOptions) -> tuple[list[str], list[str]]:
    """(label names, texts for the model): targets are checked against the knowledge base."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    if not options.targets and not options.prompts:
        raise UsageError("--target", "give at least one --target NAME or --prompt TEXT")
    kb = load_knowledge()
    names, texts = [], []
    for name in options.targets:
        if name not in kb:
            raise UsageError(f"--target {name}", "not in the knowledge base (see the target list in the README)")
        if not kb.get(name).segmentable:
            raise UsageError(f"--target {name}", "this model cannot outline it (not segmentable)")
        names.append(name)
        texts.append(name)
    for n, prompt in enumerate(options.prompts, start=1):
        if not prompt.strip():
            raise UsageError(f"--prompt {n}", "is empty")
        names.append(f"prompt_{n}")
        texts.append(prompt.strip())
    return names, texts


def check_model_targets(names: Sequence[str], options: SegmentOptions, trained: Optional[Sequence[str]]) -> None:
    """The rule `ask` uses (`segmentable_targets`), as a usage error for targets the user named."""
    from medsee_cli.services.targets import segmentable_targets

    _, skipped = segmentable_targets([n for n in names if n in options.targets], tuple(trained) if trained else None)
    if skipped:
        can = ", ".join(trained) if trained else "the knowledge base's segmentable targets"
        name = next(iter(skipped))
        raise UsageError(f"--target {name}", f"{Path(options.model).name} was not trained to outline it "
                                             f"(it can outline: {can})")


def segment(images: Sequence[str | Path], options: SegmentOptions, progress: Progress = silent) -> Iterator[CaseResult]:
    """Segment every case of ``images`` (files, DICOM folders, ingest catalog folders: see
    `batch_inputs`); yields one `CaseResult` per case, failures and skips included.

    Usage errors (targets, formats, ``out``, a target the model cannot outline) are raised
    before any image is read. A case whose folder holds a completion record with the same key
    (`case_key`) and intact files is skipped; any other is run, written into a private staging
    folder with its record last, and put in place of the old folder (`completion.publish`). A
    folder without a record (not made by a batch) is replaced only with ``overwrite``. The model
    is loaded once, when the first case needs it."""
    from medsee_cli.io.atomic import remove_stale_partials
    from medsee_cli.services.batch_inputs import list_cases
    from medsee_cli.services.case_key import result_options
    from medsee_cli.services.completion import staging_root

    names, texts, loader = check_segment(options)
    out = Path(options.out)
    cases = list_cases(images)
    keyed = result_options(options.targets, options.prompts, options.formats, options.engine)
    execution = options.execution
    remove_stale_partials(out, folders=True)
    try:
        if execution.executor == "ray":
            from medsee_cli.services.ray_executor import run_on_ray

            yield from run_on_ray(options, loader, names, texts, keyed, cases, execution, progress)
        else:
            from medsee_cli.services.pipeline import run_pipelined
            from medsee_cli.services.segment_case import CaseRunner
            from medsee_cli.services.segment_model import ModelFailed

            try:
                yield from run_pipelined(CaseRunner(options, loader, names, texts, keyed, progress), cases,
                                         execution.workers)
            except ModelFailed as failed:  # the model, not a case: the batch cannot go on
                raise failed.error from None
    finally:
        shutil.rmtree(staging_root(out), ignore_errors=True)
        remove_stale_partials(out, folders=True)  # what workers of a killed run left meanwhile


def check_segment(options: SegmentOptions) -> tuple[list[str], list[str], ModelLoader]:
    """Every usage error of a run (targets, formats, ``out``, a target the model cannot outline),
    before any image is read or anything is written: (target names, their texts, the loader)."""
    from medsee_cli.services.execution import check_execution
    from medsee_cli.services.results import check_coded, writer_options
    from medsee_cli.services.segment_model import checkpoint_loader
    from medsee_cli.writers.options import WriterOptions
    from medsee_cli.writers.result import check_out_dir

    names, texts = target_list(options)
    if options.formats is not None:
        writer_options(options.formats, options.overwrite)  # an unknown format: usage error, before any work
        check_coded(options.formats, names)
    check_out_dir(Path(options.out), WriterOptions(formats=(), overwrite=True))
    check_execution(options.execution)
    loader = options.loader or checkpoint_loader(options.model)
    check_model_targets(names, options, loader.trained_targets or None)
    return names, texts, loader


def exit_code(cases: Sequence[CaseResult]) -> int:
    """The batch's exit code: 1 when a case failed (3 when every failure is an existing output),
    6 when every case was done but some output could not be made, else 0."""
    from medsee_cli.errors import items_exit

    return items_exit((c.ok, c.exit_code, bool(c.warnings)) for c in cases)
