"""`segment`: explicit targets or referring expressions over many images, one folder per case.

Each image becomes ``OUT/<case-id>/`` holding ``mask.nii.gz`` (label map on the source grid),
``labels.json`` (its label table), ``boxes.json``, ``preview.png``, ``seg.dcm`` for DICOM
sources and ``provenance.json`` (written last); ``formats`` picks other files (``rtstruct.dcm``
too), and an input that cannot get a chosen format fails before the model runs. A bad input is
reported for that case and the batch goes on; the model is loaded once. A case folder is
complete (with provenance.json) or absent. A DICOM output the source headers cannot honestly
support is skipped with a warning; the case's other files are written.

Targets are one rule with `ask`: a checkpoint that lists what it was trained on decides what
it can outline. `ask` meets such targets among its own hypotheses and skips them with the
reason; here the user named them, so one the model cannot outline is a usage error (exit 2,
before any image is read).
"""

from __future__ import annotations

import logging

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.progress import LOADING, READING, WRITING, Progress, Step, silent
from medsee_cli.errors import MedseeError, UsageError

DEFAULT_MODEL = "medsee-grounding-v1"
log = logging.getLogger(__name__)
SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".zip", ".dcm")


@dataclass(frozen=True)
class SegmentOptions:
    """``targets``: knowledge-base names; ``prompts``: free referring expressions (labelled
    ``prompt_1``, ``prompt_2``... in the label table). ``out``: the batch folder."""

    out: Path
    targets: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    model: str = DEFAULT_MODEL
    engine: EngineOptions = field(default_factory=EngineOptions)
    overwrite: bool = False
    formats: Optional[tuple[str, ...]] = None  # None: NIfTI, JSON, PNG (+ DICOM-SEG for DICOM sources)


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

    def to_dict(self) -> dict[str, Any]:
        """One case of medsee.segment/1; findings as `ask --json` gives them (`Finding.document`)."""
        return {"image": self.image, "case": self.case_id, "ok": self.ok, "error": self.error or None,
                "findings": [f.document() for f in self.findings], "slice_numbers": dict(self.slice_numbers) or None,
                "outputs": dict(self.outputs), "warnings": list(self.warnings), "engine": dict(self.stats)}


def case_id(path: str | Path) -> str:
    """A folder-safe case name from an image path (suffixes dropped)."""
    name = Path(path).name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "case"
    return cleaned


def case_ids(paths: Sequence[str | Path]) -> list[str]:
    """One unique id per input, in order (repeated names get ``-2``, ``-3``...)."""
    seen: dict[str, int] = {}
    ids = []
    for path in paths:
        base = case_id(path)
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


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
    """Segment every image; yields one `CaseResult` per image, failures included.

    Usage errors (targets, formats, ``out``) are raised before the model is loaded; a target
    the loaded model cannot outline before any image is read. ``progress`` hears each case's
    stages (the reading step names the case) and the engine's slices (`engine.progress`)."""
    from medsee_cli.io.slice_numbers import slice_numbers
    from medsee_cli.engine.loading import open_engine
    from medsee_cli.reasoning.target_text import open_target_texts
    from medsee_cli.services.inputs import read_input, require_3d
    from medsee_cli.services.results import (check_coded, check_formats, check_result_folder, write_findings,
                                             writer_options)
    from medsee_cli.services.targets import run_targets
    from medsee_cli.writers.options import WriterOptions
    from medsee_cli.writers.result import check_out_dir

    names, texts = target_list(options)
    if options.formats is not None:
        writer_options(options.formats, options.overwrite)  # an unknown format: usage error, before any work
        check_coded(options.formats, names)
    check_out_dir(Path(options.out), WriterOptions(formats=(), overwrite=True))
    progress(Step(LOADING))
    engine = open_engine(options.model, options.engine)
    check_model_targets(names, options, engine.model.trained_targets or None)
    encoded = open_target_texts(engine.model.text_encoder)  # once for the whole batch
    for image, ident in zip(images, case_ids(images)):
        folder = Path(options.out) / ident
        try:
            progress(Step(READING, item=ident))
            check_result_folder(folder, options.overwrite, options.formats)
            volume = read_input(image)
            require_3d(volume, str(image))
            if options.formats is not None:
                check_formats(options.formats, volume, str(image))
            findings, run = run_targets(engine, volume, names, encoded, texts, progress)
            progress(Step(WRITING))
            outputs, warnings = write_findings(volume, findings, folder, options.overwrite,
                                               options.model, "medsee segment", options.formats, modality=run.modality)
        except MedseeError as exc:
            yield CaseResult(str(image), ident, False, str(exc), exc.exit_code)
            continue
        except Exception as exc:  # one case's failure never ends the batch
            log.debug("case %s failed", ident, exc_info=exc)
            detail = " ".join(str(exc).split())[:200]
            yield CaseResult(str(image), ident, False, f"{image}: {exc.__class__.__name__}: {detail}", 1)
            continue
        yield CaseResult(str(image), ident, True, findings=findings, outputs=outputs, stats=run.stats(),
                         warnings=tuple(warnings), slice_numbers=slice_numbers(volume).to_dict())


def exit_code(cases: Sequence[CaseResult]) -> int:
    """The batch's exit code: 1 when a case failed (3 when every failure is an existing output),
    6 when every case was done but some output could not be made, else 0."""
    from medsee_cli.errors import ExitCode, batch_exit

    failed = [c for c in cases if not c.ok]
    if failed and all(c.exit_code == ExitCode.OUTPUT_EXISTS for c in failed):
        return ExitCode.OUTPUT_EXISTS
    return batch_exit(len(failed), sum(1 for c in cases if c.ok and c.warnings))
