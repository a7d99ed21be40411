"""`ask`: a question about a scan -> reasoning -> segmentation of each target -> files + answer.

The reasoning layer picks target structures (or abstains: then nothing is segmented and the
answer says why); every hypothesis the knowledge base marks segmentable, and the model can look
for, goes through the slice engine; findings are measured in 3D and, when ``out`` is given,
written as a result folder (mask.nii.gz, boxes.json, preview.png, seg.dcm for DICOM sources).
``out`` is checked before any work. A DICOM-SEG the source headers cannot honestly support is
not written: the answer and every other file still are, and ``warnings`` says why.

One sentence encoder is opened per run: it serves the reasoner and encodes the target texts for
the model (`reasoning.target_text`). Reading inputs, running targets and writing results are
shared with `segment` (`services.inputs`, `services.targets`, `services.results`). A run
reports its stages and the engine's slices through ``progress`` (`engine.progress`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.progress import LOADING, READING, REASONING, WRITING, Progress, Step, silent
from medsee_cli.errors import UsageError
from medsee_cli.services.plan import TargetRule, display_name

ASK_SCHEMA = "medsee.ask/1"
DEFAULT_MODEL = "medsee-grounding-v1"
CAVEAT = "Automated measurement on one scan, not a diagnosis."


@dataclass(frozen=True)
class AskOptions:
    """``out``: result folder (``None``: no files are written). ``model``: registry name or folder.
    ``max_targets``: segment at most this many hypotheses (best first) when the question only
    points at its targets (a symptom, a function, a cause). ``related``: when the question names
    its targets ("where is the liver?"), those are segmented plus this many of the related
    hypotheses (the others are named in the answer as worth checking). ``encoder``/``llm``/
    ``llm_model``: the reasoning backend (see ``ReasonerOptions``)."""

    out: Optional[Path] = None
    model: str = DEFAULT_MODEL
    engine: EngineOptions = field(default_factory=EngineOptions)
    max_targets: int = TargetRule.max_targets
    related: int = TargetRule.related
    overwrite: bool = False
    encoder: str = "auto"
    encoder_runtime: str = "numpy"
    llm: str = ""
    llm_model: str = "default"
    series: Optional[str] = None


@dataclass(frozen=True)
class AskResult:
    question: str
    answer: str
    targets: list[dict[str, Any]]
    findings: list[Any]  # engine Finding objects
    outputs: dict[str, Optional[str]]
    abstained: bool = False
    skipped: dict[str, str] = field(default_factory=dict)  # target -> why it was not segmented
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # outputs that could not honestly be made: "no DICOM-SEG: <why>"
    scan: dict[str, Any] = field(default_factory=dict)  # the scan in view as reasoning saw it
    excluded: tuple[str, ...] = ()  # targets the question asked to leave out ("not the kidney")
    backend: str = ""  # the reasoning backend that ranked the targets
    slice_numbers: dict[str, Any] = field(default_factory=dict)  # how the answer numbers slices (io.slice_numbers)
    viewing: tuple[str, ...] = ()  # how to open the written files in common viewers (services.viewing)

    def to_dict(self) -> dict[str, Any]:
        """The medsee.ask/1 document: the keys of the first version (schema, question, answer,
        targets, findings, outputs, warnings, scan) plus ``abstained``, ``excluded``, ``backend``,
        ``skipped`` (``[{"name", "reason"}]``), ``slice_numbers`` and ``engine``; each finding
        carries its ``measurements`` as in ``segment --json`` (`Finding.document`)."""
        return {"schema": ASK_SCHEMA, "question": self.question, "answer": self.answer, "abstained": self.abstained,
                "targets": self.targets, "excluded": list(self.excluded), "backend": self.backend,
                "skipped": [{"name": name, "reason": why} for name, why in self.skipped.items()],
                "findings": [f.document() for f in self.findings], "slice_numbers": dict(self.slice_numbers),
                "outputs": dict(self.outputs), "warnings": list(self.warnings), "scan": dict(self.scan),
                "engine": dict(self.stats)}

    def details(self) -> dict[str, Any]:
        """Everything else: abstention, skipped targets, measurements, engine statistics."""
        return {"abstained": self.abstained, "skipped": dict(self.skipped),
                "measurements": [f.measurements() for f in self.findings], "engine": dict(self.stats)}


def ask(image_path: str | Path, question: str, options: AskOptions = AskOptions(),
        progress: Progress = silent) -> AskResult:
    """Answer ``question`` about the image at ``image_path`` (NIfTI/NRRD, DICOM folder or zip).
    ``progress`` hears each stage and the engine's slices (`engine.progress`)."""
    from medsee_cli.io.slice_numbers import slice_numbers
    from medsee_cli.reasoning.backends import build_reasoner
    from medsee_cli.reasoning.encoder import open_encoder
    from medsee_cli.engine.loading import open_engine
    from medsee_cli.reasoning.resolver import ReasonerOptions
    from medsee_cli.reasoning.target_text import open_target_texts
    from medsee_cli.services.inputs import read_input, require_3d
    from medsee_cli.services.plan import plan_targets
    from medsee_cli.services.results import check_result_folder, no_outputs, write_findings
    from medsee_cli.services.targets import run_targets
    from medsee_cli.services.viewing import how_to_view

    if not question.strip():
        raise UsageError("QUESTION", "is empty")
    if options.out is not None:
        check_result_folder(Path(options.out), options.overwrite)
    progress(Step(READING, item=str(image_path)))
    volume = read_input(image_path, series=options.series)
    require_3d(volume, str(image_path))
    numbering = slice_numbers(volume)
    progress(Step(REASONING))
    reasoning = ReasonerOptions(encoder=options.encoder, encoder_runtime=options.encoder_runtime,
                                llm=options.llm, llm_model=options.llm_model)
    encoder = open_encoder(reasoning.encoder, reasoning.encoder_runtime, reasoning.threads)  # once per run
    reasoner = build_reasoner(reasoning, encoder)
    engines: list[Any] = []

    def model_targets() -> Optional[tuple[str, ...]]:  # the model loads only when there is a target
        progress(Step(LOADING))
        engines.append(open_engine(options.model, options.engine))
        return engines[0].model.trained_targets or None

    plan = plan_targets(question, volume, reasoner, model_targets, TargetRule(options.max_targets, options.related))
    resolution, scan, names, skipped = plan.resolution, plan.scan, list(plan.names), dict(plan.skipped)
    known = AskResult(question, resolution.answer, [h.to_dict() for h in resolution.hypotheses], [], no_outputs(),
                      scan=scan.to_dict(), excluded=tuple(resolution.excluded), backend=resolution.backend,
                      slice_numbers=numbering.to_dict())
    if plan.abstained:
        answer = f"{resolution.answer}\nNo segmentation was run: there was no target to look for."
        return replace(known, answer=answer, abstained=True)
    lines = [resolution.answer]
    if not names:
        reasons = "; ".join(f"{display_name(n)}: {why}" for n, why in skipped.items())
        lines.append(f"No segmentation was run ({reasons}).")
        return replace(known, answer="\n".join(lines), skipped=skipped)
    engine = engines[0]
    texts = open_target_texts(engine.model.text_encoder, encoder, reasoning.encoder)
    findings, run = run_targets(engine, volume, names, texts, progress=progress)
    lines += [describe_finding(f) for f in findings]
    lines += [f"{display_name(n).capitalize()}: not segmented ({why})." for n, why in skipped.items()]
    if numbering.note and any(f.present for f in findings):
        lines.append(f"Slice numbers count from 1 here, not InstanceNumbers: {numbering.note}.")
    lines.append(CAVEAT)
    outputs: dict[str, Optional[str]] = no_outputs()
    warnings: list[str] = []
    if options.out is not None:
        progress(Step(WRITING))
        outputs, warnings = write_findings(volume, findings, Path(options.out), options.overwrite, options.model,
                                           ASK_SCHEMA, modality=run.modality)
    viewing = how_to_view(str(image_path), outputs, dicom=volume.refs is not None)
    return replace(known, answer="\n".join(lines), findings=findings, outputs=outputs, skipped=skipped,
                   stats=run.stats(), warnings=tuple(warnings), viewing=viewing)


def describe_finding(finding: Any) -> str:
    from medsee_cli.engine.describe import describe

    return describe(finding, display_name(finding.target))
