"""`ask`: a question about a scan -> reasoning -> segmentation of each target -> files + answer.

The reasoning layer picks target structures (or abstains: then nothing is segmented and the
answer says why); every hypothesis the knowledge base marks segmentable, and the model can look
for, goes through the slice engine; findings are measured in 3D and, when ``out`` is given,
written as a result folder (mask.nii.gz, boxes.json, preview.png, seg.dcm for DICOM sources).
``out`` is checked before any work. A DICOM-SEG the source headers cannot honestly support is
not written: the answer and every other file still are, and ``warnings`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from medsee_cli.engine.options import EngineOptions
from medsee_cli.errors import InputError, UsageError

ASK_SCHEMA = "medsee.ask/1"
ASK_FORMATS = ("nifti", "json", "png", "dicom-seg")  # dicom-seg only for DICOM sources
DEFAULT_MODEL = "medsee-grounding-v1"
CAVEAT = "Automated measurement on one scan, not a diagnosis."


@dataclass(frozen=True)
class AskOptions:
    """``out``: result folder (``None``: no files are written). ``model``: registry name or folder.
    ``max_targets``: segment at most this many hypotheses (best first). ``encoder``/``llm``/
    ``llm_model``: the reasoning backend (see ``ReasonerOptions``)."""

    out: Optional[Path] = None
    model: str = DEFAULT_MODEL
    engine: EngineOptions = field(default_factory=EngineOptions)
    max_targets: int = 3
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

    def to_dict(self) -> dict[str, Any]:
        """Exactly the medsee.ask/1 document (``warnings``: one text per output not made; ``scan``:
        the modality and body regions the resolver ranked targets with)."""
        return {"schema": ASK_SCHEMA, "question": self.question, "answer": self.answer, "targets": self.targets,
                "findings": [f.to_dict() for f in self.findings], "outputs": dict(self.outputs),
                "warnings": list(self.warnings), "scan": dict(self.scan)}

    def details(self) -> dict[str, Any]:
        """Everything else: abstention, skipped targets, measurements, engine statistics."""
        return {"abstained": self.abstained, "skipped": dict(self.skipped),
                "measurements": [f.measurements() for f in self.findings], "engine": dict(self.stats)}


def _no_outputs() -> dict[str, Optional[str]]:
    return {"mask": None, "boxes": None, "preview": None, "dicom_seg": None}


def segmentable_targets(names: list[str], model_targets: Optional[tuple[str, ...]]) -> tuple[list[str], dict[str, str]]:
    """Split hypothesis names into those to segment and those skipped (with the reason).

    A checkpoint that lists what it was trained on decides; otherwise the knowledge base's
    ``segmentable`` flag does.
    """
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    keep, skipped = [], {}
    for name in names:
        if model_targets is not None:
            if name in model_targets:
                keep.append(name)
            else:
                skipped[name] = "this model was not trained to outline it"
        elif name in kb and not kb.get(name).segmentable:
            skipped[name] = "this model cannot outline it"
        else:
            keep.append(name)
    return keep, skipped


def display_name(name: str) -> str:
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    return kb.get(name).display if name in kb else name.replace("_", " ")


def ask(image_path: str | Path, question: str, options: AskOptions = AskOptions()) -> AskResult:
    """Answer ``question`` about the image at ``image_path`` (NIfTI/NRRD, DICOM folder or zip)."""
    from medsee_cli.reasoning.backends import build_reasoner
    from medsee_cli.reasoning.resolver import ReasonerOptions
    from medsee_cli.reasoning.scan import scan_context

    if not question.strip():
        raise UsageError("QUESTION", "is empty")
    if options.out is not None:
        check_result_folder(Path(options.out), options.overwrite, ASK_FORMATS)
    volume = read_input(image_path, series=options.series)
    require_3d(volume, str(image_path))
    reasoner = build_reasoner(ReasonerOptions(encoder=options.encoder, encoder_runtime=options.encoder_runtime,
                                              llm=options.llm, llm_model=options.llm_model))
    scan = scan_context(volume)
    resolution = reasoner.resolve(question, scan=scan)
    targets = [h.to_dict() for h in resolution.hypotheses]
    if resolution.abstained or not resolution.hypotheses:
        answer = f"{resolution.answer}\nNo segmentation was run: there was no target to look for."
        return AskResult(question, answer, targets, [], _no_outputs(), abstained=True, scan=scan.to_dict())

    from medsee_cli.engine.loading import open_engine
    from medsee_cli.engine.protocol import model_targets

    engine = open_engine(options.model, options.engine)
    names, skipped = segmentable_targets(list(resolution.names()), model_targets(engine.model))
    for name in names[options.max_targets:]:
        skipped[name] = f"only the {options.max_targets} best-ranked targets are segmented"
    names = names[: options.max_targets]
    lines = [resolution.answer]
    if not names:
        reasons = "; ".join(f"{display_name(n)}: {why}" for n, why in skipped.items())
        lines.append(f"No segmentation was run ({reasons}).")
        return AskResult(question, "\n".join(lines), targets, [], _no_outputs(), skipped=skipped, scan=scan.to_dict())
    findings, run = run_targets(engine, volume, names)
    lines += [describe_finding(f) for f in findings]
    lines += [f"{display_name(n).capitalize()}: not segmented ({why})." for n, why in skipped.items()]
    lines.append(CAVEAT)
    outputs: dict[str, Optional[str]] = _no_outputs()
    warnings: list[str] = []
    if options.out is not None:
        outputs, warnings = write_findings(volume, findings, Path(options.out), options.overwrite, options.model,
                                           ASK_SCHEMA)
    return AskResult(question, "\n".join(lines), targets, findings, outputs, skipped=skipped, stats=run.stats(),
                     warnings=tuple(warnings), scan=scan.to_dict())


def check_result_folder(out: Path, overwrite: bool, formats: Optional[tuple[str, ...]] = None) -> None:
    """Before any work: ``out`` can take a result folder (not a file; with ``overwrite`` off, none
    of its files exist yet: `OutputExistsError`). ``formats`` None: the default formats."""
    from medsee_cli.writers.options import WriterOptions
    from medsee_cli.writers.result import check_out_dir

    check_out_dir(out, WriterOptions(formats=formats or ASK_FORMATS, overwrite=overwrite))


def read_input(image: str | Path, series: Optional[str] = None) -> Any:
    """The input's volume; whatever a reader raises on it becomes that item's `InputError`
    (exit 1, one line), so one bad file never ends a batch or reads as an internal error."""
    from medsee_cli.errors import MedseeError
    from medsee_cli.io import load_volume

    try:
        return load_volume(image, series=series)
    except MedseeError:
        raise
    except MemoryError:
        raise InputError(str(image), "cannot be read (its header asks for more memory than there is)") from None
    except Exception as exc:  # a reader's failure on one file
        reason = " ".join(str(exc).split())[:200]
        raise InputError(str(image), f"cannot be read ({exc.__class__.__name__}: {reason})") from exc


def require_3d(volume: Any, item: str) -> None:
    """The engine segments 3D volumes: a 4D (time series, multi-echo) image fails before the model runs."""
    if volume.n_volumes > 1:
        raise InputError(item, f"is 4D ({volume.n_volumes} volumes of {'x'.join(map(str, volume.spatial_shape))}); "
                               "medsee segments 3D images (pick one volume first)")


def run_targets(engine: Any, volume: Any, names: list[str], texts: Optional[list[str]] = None) -> tuple[list[Any], Any]:
    """Stream ``volume`` for ``names`` and measure each target's finding."""
    from medsee_cli.engine.findings import measure

    run = engine.run(volume, names, texts)
    options = engine.options
    findings = [measure(volume, track, min_voxels=options.min_component_voxels,
                        min_slices=options.min_component_slices) for track in run.tracks]
    return findings, run


def describe_finding(finding: Any) -> str:
    from medsee_cli.engine.describe import describe

    return describe(finding, display_name(finding.target))


Outputs = dict[str, Optional[str]]


def write_findings(volume: Any, findings: list[Any], out: Path, overwrite: bool, model: str,
                   purpose: str, formats: Optional[tuple[str, ...]] = None) -> tuple[Outputs, list[str]]:
    """A label map (value n = n-th target) and the result folder around it: returns the outputs
    (``None`` for one not written) and the warnings for outputs that could not honestly be made.

    Each finding is measured on its own; where two overlap in the label map the smaller one is
    painted last, so a lesion inside an organ stays visible. ``formats`` (default: NIfTI, JSON,
    PNG, plus DICOM-SEG for a DICOM source when every target has a code) picks the files; DICOM
    formats are left out when nothing was found (there is no segment to encode)."""
    import numpy as np

    from medsee_cli.writers import Label, LabelTable, WriterOptions, write_result

    labelmap = np.zeros(volume.spatial_shape, dtype=np.uint8 if len(findings) < 256 else np.uint16)
    found = [(f.voxels, value) for value, f in enumerate(findings, start=1) if f.present and f.region is not None]
    for _, value in sorted(found, reverse=True):
        findings[value - 1].region.paint(labelmap, value)
    table = LabelTable(tuple(Label(value=n, name=f.target, score=round(f.score, 4) if f.present else 0.0,
                                   volume_ml=f.volume_ml if f.present else None)
                             for n, f in enumerate(findings, start=1)))
    if formats is None:
        chosen = [f for f in ASK_FORMATS if f not in DICOM_FORMATS]
        if volume.refs is not None and all(_coded(f.target) for f in findings):
            chosen.append("dicom-seg")  # DICOM-SEG needs a coded type per segment
    else:
        chosen = list(dict.fromkeys(formats))
    if not labelmap.any():
        chosen = [f for f in chosen if f not in DICOM_FORMATS]
    result = write_result(volume, labelmap, table, out, WriterOptions(
        formats=tuple(chosen), overwrite=overwrite, provenance={"model": Path(model).name, "command": purpose}))
    written = result.files
    outputs = {"mask": _str(written.get("nifti")), "boxes": _str(written.get("json")),
               "preview": _str(written.get("png")), "dicom_seg": _str(written.get("dicom-seg"))} | (
        {"rtstruct": _str(written.get("rtstruct"))} if "rtstruct" in chosen else {})
    return outputs, result.warnings


DICOM_FORMATS = ("dicom-seg", "rtstruct")


def known_formats(formats: tuple[str, ...]) -> None:
    from medsee_cli.writers.options import FORMATS

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError("--format", f"unknown output format(s) {unknown}; choose from {list(FORMATS)}")


def check_coded(formats: tuple[str, ...], names: Sequence[str]) -> None:
    """Before any work: DICOM outputs need a coded type (a knowledge-base target, not a free
    prompt) for every segment; asking for them with free prompts is a usage error."""
    wanted = [f for f in formats if f in DICOM_FORMATS]
    uncoded = [n for n in names if not _coded(n)]
    if wanted and uncoded:
        raise UsageError("--format", f"{', '.join(wanted)} needs a coded target for every segment; "
                                     f"{uncoded} are free prompts")


def check_formats(formats: tuple[str, ...], volume: Any, item: str) -> None:
    """Refuse, before the model runs on it, formats this input cannot get: DICOM outputs need a
    DICOM source series."""
    wanted = [f for f in formats if f in DICOM_FORMATS]
    if wanted and volume.refs is None:
        raise InputError(item, f"{', '.join(wanted)} needs a DICOM source series (this image is not DICOM)")


def _coded(name: str) -> bool:
    from medsee_cli.reasoning.knowledge import load_knowledge

    return name in load_knowledge()


def _str(path: Optional[Path]) -> Optional[str]:
    return None if path is None else str(path)
