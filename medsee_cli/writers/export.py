"""`export_result`: one result (folder, label-map NIfTI or DICOM-SEG) to one output format.

With ``source`` (the original image: a DICOM series, or a NIfTI) the label map must lie on its
grid; the source then provides intensities (boxes, preview) and DICOM references (SEG, RTSTRUCT).
A SEG given as input is placed on a DICOM source by its SOP instance references.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np

from medsee_cli.errors import InputError, OutputExistsError, UsageError
from medsee_cli.io.volume import Volume
from medsee_cli.writers.knowledge_codes import fill_codes
from medsee_cli.writers.labels import dumps_label_table
from medsee_cli.writers.options import FORMATS, WriterOptions
from medsee_cli.writers.result import FILES, WrittenResult, read_result, same_grid, write_format
from medsee_cli.writers.skipped import OutputNotMade


def default_target(result: Path, fmt: str, out: Optional[Path]) -> Path:
    """Where the export goes: ``out`` (a file, or a folder - an existing one, or a new name without
    a suffix - then the format's usual name in it);
    without ``out``, into the result folder itself. A file given as the result (label-map NIfTI
    or DICOM-SEG) needs ``out``: medsee never writes beside an input it was only asked to read."""
    name = FILES[fmt]
    if out is None:
        if not result.is_dir():
            raise UsageError("--out", f"give an output file or folder ({result} is a file, not a result folder)")
        return result / name
    if out.is_dir() or str(out).endswith(("/", "\\")) or (not out.exists() and not out.suffix):
        return out / name  # a folder: existing, or a new name without a file suffix
    return out


def check_target(target: Path, options: WriterOptions) -> None:
    """Before any work: the target's folder must not be a file, and without overwrite the
    target (and a NIfTI's labels sidecar) must not exist."""
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError("--out", f"{target} lies below {parent}, which is a file, not a folder")
    if target.is_dir():
        raise UsageError("--out", f"{target} is a folder; name the output file")
    if not options.overwrite:
        for path in (target, _labels_sidecar(target)) if options.formats == ("nifti",) else (target,):
            if path.exists():
                raise OutputExistsError(str(path))


def _labels_sidecar(target: Path) -> Path:
    name = target.name
    stem = name[: -len(".nii.gz")] if name.lower().endswith(".nii.gz") else target.stem
    return target.with_name(f"{stem}.labels.json")


def export_result(result: str | Path, fmt: str, out: Optional[str | Path] = None, *,
                  source: Optional[str | Path] = None,
                  options: WriterOptions = WriterOptions()) -> WrittenResult:
    """Convert ``result`` to ``fmt``. Returns the files written; a DICOM output that cannot
    honestly be made from the source headers is returned in ``skipped`` (nothing written)."""
    if fmt not in FORMATS:
        raise UsageError("--format", f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    result = Path(result)
    options = replace(options, formats=(fmt,))
    target = default_target(result, fmt, None if out is None else Path(out))
    check_target(target, options)
    res = read_result(result)
    grid: Volume = res.labelmap
    labelmap = np.asarray(grid.dataobj)
    table = res.labels
    volume = grid
    if source is not None:
        from medsee_cli.io import load_volume

        volume = load_volume(source)
        from medsee_cli.writers.dicom_read import is_dicom_file

        if volume.refs is not None and result.is_file() and is_dicom_file(result):
            from medsee_cli.writers.dicom_read import read_seg_on

            labelmap, table = read_seg_on(result, volume)
        elif not same_grid(volume, grid):
            raise InputError(str(source), f"grid {volume.spatial_shape} with its affine is not the label map's grid "
                                          f"{grid.spatial_shape}; masks are only written on their source grid")
    if labelmap.dtype.kind not in "ub":
        rounded = np.rint(labelmap)
        if not np.array_equal(rounded, labelmap) or rounded.min(initial=0) < 0:
            raise InputError(str(result), "is not a label map (values must be non-negative integers)")
        labelmap = rounded.astype(np.uint16 if rounded.max(initial=0) > 255 else np.uint8)
    table = fill_codes(table).with_colours()
    try:
        written = write_format(fmt, volume, labelmap, table, target, options, has_image=source is not None)
    except OutputNotMade as exc:
        return WrittenResult({}, {fmt: exc.reason})
    if fmt == "nifti":
        from medsee_cli.io.atomic import write_text_atomic

        sidecar = _labels_sidecar(target)
        write_text_atomic(sidecar, dumps_label_table(table), overwrite=options.overwrite)
        written["labels"] = sidecar
    return WrittenResult(written, {})
