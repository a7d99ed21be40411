"""`ask`: a question about a scan -> reasoning -> segmentation of each target -> files + answer.

The reasoning layer picks target structures (or abstains: then nothing is segmented and the
answer says why); every hypothesis the knowledge base marks segmentable, and the model can look
for, goes through the slice engine; findings are measured in 3D and, when ``out`` is given,
written as a result folder (mask.nii.gz, boxes.json, preview.png, seg.dcm for DICOM sources).
``out`` is checked before any work. A DICOM-SEG the source headers cannot honestly support is
not written: the answer and every other file still are, and ``warnings`` says why.

What a run opens once is an `AskSession`: one sentence encoder, which serves the reasoner and
encodes the target texts for the model (`reasoning.target_text`), and the model, opened when a
question first has something to segment. `ask` answers one question with a session of its own;
`ask_batch` answers a question file with one session for the whole run. Reading inputs,
running targets and writing results are shared with `segment` (`services.inputs`,
`services.targets`, `services.results`). A run reports its stages and the engine's slices
through ``progress`` (`engine.progress`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.progress import LOADING, READING, REASONING, WRITING, Progress, Step, silent
from medsee_cli.errors import UsageError
from medsee_cli.model.registry import DEFAULT_GROUNDING
from medsee_cli.services.plan import TargetRule, display_name

if TYPE_CHECKING:
    from medsee_cli.engine.findings import Finding
    from medsee_cli.engine.stream import EngineRun, SliceEngine
    from medsee_cli.io.volume import Volume
    from medsee_cli.reasoning.resolution import Reasoner
    from medsee_cli.reasoning.scan import ScanContext
    from medsee_cli.reasoning.target_text import TargetTexts
    from medsee_cli.services.segment_model import CheckpointLoader, ModelLoader

ASK_SCHEMA = "medsee.ask/1"
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
    model: str = DEFAULT_GROUNDING
    engine: EngineOptions = field(default_factory=EngineOptions)
    max_targets: int = TargetRule.max_targets
    related: int = TargetRule.related
    overwrite: bool = False
    encoder: str = "auto"
    encoder_runtime: str = "numpy"
    llm: str = ""
    llm_model: str = "default"
    series: Optional[str] = None
    loader: Optional[ModelLoader] = None  # None: the checkpoint ``model`` names (tests pass a toy)


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
    from medsee_cli.services.inputs import read_input, require_3d
    from medsee_cli.services.results import check_result_folder

    if not question.strip():
        raise UsageError("QUESTION", "is empty")
    if options.out is not None:
        check_result_folder(Path(options.out), options.overwrite)
    progress(Step(READING, item=str(image_path)))
    volume = read_input(image_path, series=options.series)
    require_3d(volume, str(image_path))
    from medsee_cli.services.segment_model import ModelFailed

    try:
        return AskSession(options, progress).answer(volume, str(image_path), question, options.out)
    except ModelFailed as failed:
        raise failed.error from None


class AskSession:
    """What a run opens once and its questions share: the sentence encoder and the reasoner on
    it (at the first question), the model (when a question first has a target to segment), and,
    for the volume in hand, its scan context and its engine runs by target list.

    Questions about one volume that plan the same targets share one engine run; other target
    lists get runs of their own, so an answer never depends on which other questions were asked
    with it. A model that cannot be opened raises `segment_model.ModelFailed` (a batch cannot go on)."""

    def __init__(self, options: AskOptions, progress: Progress = silent) -> None:
        self.options = options
        self.progress = progress
        self._encoder: Any = None
        self._reasoner: Optional[Reasoner] = None
        self._checkpoint: Optional[CheckpointLoader] = None
        self._opened: Optional[tuple[SliceEngine, TargetTexts]] = None
        self._volume: Optional[Volume] = None
        self._scan: Optional[ScanContext] = None
        self._runs: dict[tuple[str, ...], tuple[list[Finding], EngineRun]] = {}

    @property
    def loader(self) -> ModelLoader:
        """The model's loader: its identity and targets are known without loading the model."""
        from medsee_cli.services.segment_model import checkpoint_loader

        if self.options.loader is not None:
            return self.options.loader
        if self._checkpoint is None:
            self._checkpoint = checkpoint_loader(self.options.model)
        return self._checkpoint

    def answer(self, volume: Volume, image: str, question: str, out: Optional[Path] = None) -> AskResult:
        """Answer ``question`` about ``volume`` (``image``: the input as the user gave it); with
        ``out``, write the result folder there (replacing files only with ``overwrite``)."""
        from medsee_cli.engine.describe import reading
        from medsee_cli.io.slice_numbers import slice_numbers
        from medsee_cli.services.plan import plan_targets
        from medsee_cli.services.results import no_outputs, write_findings
        from medsee_cli.services.viewing import how_to_view

        options = self.options
        if not question.strip():
            raise UsageError("QUESTION", "is empty")
        numbering = slice_numbers(volume)
        self.progress(Step(REASONING))
        plan = plan_targets(question, volume, self._reasoning(), lambda: self.loader.trained_targets or None,
                            TargetRule(options.max_targets, options.related), self._scan_of(volume))
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
        findings, run = self._run(volume, names)
        lines += [describe_finding(f) for f in findings]
        lines += [f"{display_name(n).capitalize()}: not segmented ({why})." for n, why in skipped.items()]
        if numbering.note and any(f.present for f in findings):
            lines.append(f"Slice numbers count from 1 here, not InstanceNumbers: {numbering.note}.")
        how_read = reading(run.slice_step, volume.spacing[2], run.slices_bridged)
        if how_read and any(f.present for f in findings):
            lines.append(how_read)
        lines.append(CAVEAT)
        outputs: dict[str, Optional[str]] = no_outputs()
        warnings: list[str] = []
        if out is not None:
            self.progress(Step(WRITING))
            outputs, warnings = write_findings(volume, findings, Path(out), options.overwrite, options.model,
                                               ASK_SCHEMA, modality=run.modality)
        viewing = how_to_view(image, outputs, dicom=volume.refs is not None)
        return replace(known, answer="\n".join(lines), findings=findings, outputs=outputs, skipped=skipped,
                       stats=run.stats(), warnings=tuple(warnings), viewing=viewing)

    def _reasoning(self) -> Reasoner:
        from medsee_cli.reasoning.backends import build_reasoner
        from medsee_cli.reasoning.encoder import open_encoder
        from medsee_cli.reasoning.resolver import ReasonerOptions

        if self._reasoner is None:
            options = self.options
            reasoning = ReasonerOptions(encoder=options.encoder, encoder_runtime=options.encoder_runtime,
                                        llm=options.llm, llm_model=options.llm_model)
            self._encoder = open_encoder(reasoning.encoder, reasoning.encoder_runtime, reasoning.threads)
            self._reasoner = build_reasoner(reasoning, self._encoder)
        return self._reasoner

    def _scan_of(self, volume: Volume) -> ScanContext:
        """``volume``'s scan context, worked out once while it is the volume in hand (a new
        volume also forgets the engine runs of the last one)."""
        from medsee_cli.reasoning.scan import scan_context

        if self._scan is None or volume is not self._volume:
            self._volume, self._scan, self._runs = volume, scan_context(volume), {}
        return self._scan

    def _run(self, volume: Volume, names: list[str]) -> tuple[list[Finding], EngineRun]:
        from medsee_cli.services.targets import run_targets

        self._scan_of(volume)
        if tuple(names) not in self._runs:
            engine, texts = self._engine()
            self._runs[tuple(names)] = run_targets(engine, volume, names, texts, progress=self.progress)
        return self._runs[tuple(names)]

    def _engine(self) -> tuple[SliceEngine, TargetTexts]:
        from medsee_cli.errors import MedseeError
        from medsee_cli.services.segment_model import ModelFailed

        if self._opened is None:
            self.progress(Step(LOADING))
            loader = self.loader
            if self._checkpoint is not None:  # our own checkpoint: its target texts reuse the reasoner's encoder
                loader = self._checkpoint.reusing(self._encoder, self.options.encoder)
            try:
                self._opened = loader.open(self.options.engine)
            except MedseeError as exc:  # a damaged checkpoint (exit 5), a missing encoder...
                raise ModelFailed(exc) from exc
        return self._opened


def describe_finding(finding: Any) -> str:
    from medsee_cli.engine.describe import describe

    return describe(finding, display_name(finding.target))
