"""The result folder a service leaves behind: checked before any work, written from findings.

Shared by `ask` and `segment`. `check_result_folder` runs before the model (an existing output
with ``overwrite`` off is an `OutputExistsError`; an unknown format a `UsageError`);
`write_findings` paints the findings into one label map on the source grid and hands it to
`writers.write_result`. DICOM outputs need a DICOM source and a coded type for every segment:
`check_coded` and `check_formats` refuse them before the model runs; with the default formats
DICOM-SEG is simply left out where it cannot be made.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from medsee_cli.errors import InputError, UsageError
from medsee_cli.services.targets import is_coded

if TYPE_CHECKING:
    from medsee_cli.writers.options import WriterOptions

DEFAULT_FORMATS = ("nifti", "json", "png", "dicom-seg")  # dicom-seg only for DICOM sources
DICOM_FORMATS = ("dicom-seg", "rtstruct")

Outputs = dict[str, Optional[str]]


def no_outputs() -> Outputs:
    return {"mask": None, "boxes": None, "preview": None, "dicom_seg": None}


def writer_options(formats: Optional[tuple[str, ...]], overwrite: bool) -> WriterOptions:
    """`WriterOptions` for ``formats`` (None: the defaults); an unknown or empty format list is
    the user's `UsageError` (``--format``), not an internal error."""
    from medsee_cli.writers.options import WriterOptions

    if formats is not None and not formats:
        raise UsageError("--format", "give at least one output format")
    try:
        return WriterOptions(formats=formats or DEFAULT_FORMATS, overwrite=overwrite)
    except ValueError as exc:
        raise UsageError("--format", str(exc)) from None


def check_result_folder(out: Path, overwrite: bool, formats: Optional[tuple[str, ...]] = None) -> None:
    """Before any work: ``out`` can take a result folder (not a file; with ``overwrite`` off, none
    of its files exist yet: `OutputExistsError`). ``formats`` None: the default formats."""
    from medsee_cli.writers.result import check_out_dir

    check_out_dir(out, writer_options(formats, overwrite))


def check_coded(formats: tuple[str, ...], names: Sequence[str]) -> None:
    """Before any work: DICOM outputs need a coded type (a knowledge-base target, not a free
    prompt) for every segment; asking for them with free prompts is a usage error."""
    wanted = [f for f in formats if f in DICOM_FORMATS]
    uncoded = [n for n in names if not is_coded(n)]
    if wanted and uncoded:
        raise UsageError("--format", f"{', '.join(wanted)} needs a coded target for every segment; "
                                     f"{uncoded} are free prompts")


def check_formats(formats: tuple[str, ...], volume: Any, item: str) -> None:
    """Refuse, before the model runs on it, formats this input cannot get: DICOM outputs need a
    DICOM source series."""
    wanted = [f for f in formats if f in DICOM_FORMATS]
    if wanted and volume.refs is None:
        raise InputError(item, f"{', '.join(wanted)} needs a DICOM source series (this image is not DICOM)")


def write_findings(volume: Any, findings: list[Any], out: Path, overwrite: bool, model: str,
                   purpose: str, formats: Optional[tuple[str, ...]] = None, *,
                   modality: Optional[str] = None) -> tuple[Outputs, list[str]]:
    """A label map (value n = n-th target) and the result folder around it: returns the outputs
    (``None`` for one not written) and the warnings for outputs that could not honestly be made.

    Each finding is measured on its own; where two overlap in the label map the smaller one is
    painted last, so a lesion inside an organ stays visible. ``formats`` (default: NIfTI, JSON,
    PNG, plus DICOM-SEG for a DICOM source when every target has a code) picks the files; DICOM
    formats are left out when nothing was found (there is no segment to encode). ``modality`` is
    the run's decision (``EngineRun.modality``): boxes.json and the preview follow it."""
    import numpy as np

    from medsee_cli.writers import Label, LabelTable, WriterOptions, write_result

    labelmap = np.zeros(volume.spatial_shape, dtype=np.uint8 if len(findings) < 256 else np.uint16)
    found = [(f.voxels, value) for value, f in enumerate(findings, start=1) if f.present and f.region is not None]
    for _, value in sorted(found, reverse=True):
        findings[value - 1].region.paint(labelmap, value)
    table = LabelTable(tuple(Label(value=n, name=f.target, score=round(f.score, 4) if f.present else 0.0,
                                   confidence=f.reported_confidence,
                                   volume_ml=f.volume_ml if f.present else None,
                                   drawn=tuple(sorted(f.drawn)) if f.present else ())
                             for n, f in enumerate(findings, start=1)))
    if formats is None:
        chosen = [f for f in DEFAULT_FORMATS if f not in DICOM_FORMATS]
        if volume.refs is not None and all(is_coded(f.target) for f in findings):
            chosen.append("dicom-seg")  # DICOM-SEG needs a coded type per segment
    else:
        chosen = list(dict.fromkeys(formats))
    if not labelmap.any():
        chosen = [f for f in chosen if f not in DICOM_FORMATS]
    result = write_result(volume, labelmap, table, out, WriterOptions(
        formats=tuple(chosen), overwrite=overwrite, provenance={"model": Path(model).name, "command": purpose},
        modality=modality))
    written = result.files
    outputs = {"mask": _str(written.get("nifti")), "boxes": _str(written.get("json")),
               "preview": _str(written.get("png")), "dicom_seg": _str(written.get("dicom-seg"))} | (
        {"rtstruct": _str(written.get("rtstruct"))} if "rtstruct" in chosen else {})
    return outputs, result.warnings


def _str(path: Optional[Path]) -> Optional[str]:
    return None if path is None else str(path)
