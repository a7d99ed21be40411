"""The result folder: what `ask`, `segment` and `export` leave behind, written and read in one place.

Layout (every file optional except ``labels.json`` and ``provenance.json``)::

    result/
      mask.nii.gz       label map on exactly the source grid (uint8, or uint16 past 255 labels)
      labels.json       label table (medsee.labels/1): value -> name, codes, colour, score
      boxes.json        boxes and measurements (medsee.boxes/1)
      preview.png       largest slice of each target, overlaid
      seg.dcm           DICOM-SEG referencing the source series (DICOM sources only)
      rtstruct.dcm      RT Structure Set (DICOM sources only)
      provenance.json   medsee version, options, inputs by hash (no names, no paths), file hashes

``provenance.json`` is written last: a folder without it is incomplete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from medsee_cli.errors import InputError, OutputExistsError
from medsee_cli.io.atomic import write_text_atomic
from medsee_cli.io.volume import Volume
from medsee_cli.writers.boxes import boxes_document, dumps_boxes
from medsee_cli.writers.knowledge_codes import fill_codes
from medsee_cli.writers.labels import LabelTable, dumps_label_table, read_label_table
from medsee_cli.writers.options import WriterOptions

FILES = {"nifti": "mask.nii.gz", "labels": "labels.json", "json": "boxes.json", "png": "preview.png",
         "dicom-seg": "seg.dcm", "rtstruct": "rtstruct.dcm", "provenance": "provenance.json"}
PROVENANCE_SCHEMA = "medsee.provenance/1"
GRID_ATOL_MM = 1e-3


@dataclass(frozen=True)
class Result:
    """A result read back: the label map on its grid, the labels, and what else the folder holds."""

    labelmap: Volume  # the label map as a volume (values = label values)
    labels: LabelTable
    boxes: Optional[dict[str, Any]]
    provenance: Optional[dict[str, Any]]
    folder: Optional[Path]


def check_labelmap(volume: Volume, labelmap: np.ndarray, table: LabelTable) -> np.ndarray:
    labelmap = np.asarray(labelmap)
    if tuple(labelmap.shape) != volume.spatial_shape:
        raise InputError("label map", f"shape {labelmap.shape} is not the source grid {volume.spatial_shape}")
    if labelmap.dtype.kind not in "uib":
        raise InputError("label map", f"must hold integers, not {labelmap.dtype}")
    top = int(labelmap.max(initial=0)) if labelmap.size else 0
    if labelmap.dtype.kind == "i" and labelmap.size and int(labelmap.min()) < 0:
        raise InputError("label map", "holds negative values")
    present = np.zeros(top + 1, dtype=bool)
    present[labelmap.reshape(-1)] = True  # linear, no sort
    unknown = sorted(set(int(v) for v in np.flatnonzero(present)) - {0} - set(table.values))
    if unknown:
        raise InputError("label map", f"values {unknown} are not in the label table")
    return labelmap


def same_grid(a: Volume, b: Volume) -> bool:
    return a.spatial_shape == b.spatial_shape and bool(np.allclose(a.affine, b.affine, atol=GRID_ATOL_MM))


def dicom_volume(volume: Volume, options: WriterOptions) -> Volume:
    """The volume whose DICOM references a SEG/RTSTRUCT cites: itself, or ``options.source``."""
    if volume.refs is not None or options.source is None:
        return volume
    from medsee_cli.io import load_volume

    source = load_volume(options.source)
    if source.refs is None:
        raise InputError(options.source, "is not a DICOM series")
    if not same_grid(source, volume):
        raise InputError(options.source, f"its grid {source.spatial_shape} / affine differs from the label map's "
                                         f"{volume.spatial_shape}; the mask must be on the source grid")
    return source


def _source_hash(volume: Volume) -> dict[str, Any]:
    digest = hashlib.sha256()
    if volume.refs is not None:
        kind = "dicom-series"
        for s in volume.refs.slices:
            digest.update(s.sop_instance_uid.encode() + b"\0")
    elif volume.source and Path(volume.source).is_file():
        kind = "file"
        with open(volume.source, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    else:
        kind = "array"
        digest.update(np.ascontiguousarray(volume.affine).tobytes())
    return {"kind": kind, "sha256": digest.hexdigest(), "shape": list(volume.shape),
            "modality": volume.modality}


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_result(volume: Volume, labelmap: np.ndarray, table: LabelTable, out_dir: str | Path,
                 options: WriterOptions = WriterOptions()) -> dict[str, Path]:
    """Write ``labelmap`` (on ``volume``'s grid) in ``options.formats`` into ``out_dir``.

    Returns ``{format: path}``. Nothing is written when any target exists and
    ``options.overwrite`` is false.
    """
    out = Path(out_dir)
    labelmap = check_labelmap(volume, labelmap, table)
    table = fill_codes(table).with_colours()
    wanted = ["labels", *options.formats, "provenance"]
    if options.per_target_nifti:
        wanted.append("masks")
    if not options.overwrite:
        for key in wanted:
            if key in FILES and (out / FILES[key]).exists():
                raise OutputExistsError(str(out / FILES[key]))
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    write_text_atomic(out / FILES["labels"], dumps_label_table(table), overwrite=options.overwrite)
    written["labels"] = out / FILES["labels"]
    image = volume.array() if ("json" in options.formats or "png" in options.formats) else None
    for fmt in options.formats:
        written.update(write_format(fmt, volume, labelmap, table, out / FILES[fmt], options, image))
    if options.per_target_nifti:
        from medsee_cli.writers.nifti_mask import write_target_masks

        written.update(write_target_masks(volume, labelmap, table, out, overwrite=options.overwrite))
    provenance = {
        "schema": PROVENANCE_SCHEMA,
        "medsee_version": options.version,
        "algorithm": options.algorithm_name,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": _source_hash(volume),
        "options": {"formats": list(options.formats), "seg_type": options.seg_type},
        "extra": dict(options.provenance),
        "files": {p.name: _file_hash(p) for p in written.values()},
    }
    write_text_atomic(out / FILES["provenance"], json.dumps(provenance, indent=2) + "\n", overwrite=options.overwrite)
    written["provenance"] = out / FILES["provenance"]
    return written


def write_format(fmt: str, volume: Volume, labelmap: np.ndarray, table: LabelTable, target: Path,
                 options: WriterOptions, image: Optional[np.ndarray] = None) -> dict[str, Path]:
    """Write one format to ``target`` (a file path); the building block of `write_result` and export."""
    if fmt == "nifti":
        from medsee_cli.writers.nifti_mask import write_label_map

        return {fmt: write_label_map(volume, labelmap, target, overwrite=options.overwrite)}
    if fmt == "json":
        document = boxes_document(volume, labelmap, table, image)
        write_text_atomic(target, dumps_boxes(document), overwrite=options.overwrite)
        return {fmt: target}
    if fmt == "png":
        from medsee_cli.writers.preview import write_preview

        return {fmt: write_preview(volume, labelmap, table, target, overwrite=options.overwrite, image=image)}
    source = dicom_volume(volume, options)
    if fmt == "dicom-seg":
        from medsee_cli.writers.dicom_seg import write_seg

        return {fmt: write_seg(source, labelmap, table, target, options)}
    if fmt == "rtstruct":
        from medsee_cli.writers.rtstruct import write_rtstruct

        return {fmt: write_rtstruct(source, labelmap, table, target, options)}
    raise ValueError(f"unknown format {fmt!r}")


def read_result(path: str | Path) -> Result:
    """Read a result folder, a label-map NIfTI (with ``<name>.labels.json`` or ``labels.json``
    beside it; without one, labels are named ``label_<value>``), or a DICOM-SEG file."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    from medsee_cli.io.nifti import is_nifti

    if is_nifti(path):
        return _read_nifti(path)
    from medsee_cli.writers.dicom_read import is_dicom_file, read_seg

    if is_dicom_file(path):
        volume, table = read_seg(path)
        return Result(volume, table, None, None, None)
    raise InputError(str(path), "not a result folder, label-map NIfTI or DICOM-SEG")


def _read_folder(folder: Path) -> Result:
    mask, labels = folder / FILES["nifti"], folder / FILES["labels"]
    if not labels.is_file():
        raise InputError(str(folder), f"not a medsee result (no {FILES['labels']})")
    if mask.is_file():
        from medsee_cli.io.nifti import read_nifti

        volume = read_nifti(mask)
    elif (folder / FILES["dicom-seg"]).is_file():
        from medsee_cli.writers.dicom_read import read_seg

        volume, _ = read_seg(folder / FILES["dicom-seg"])
    else:
        raise InputError(str(folder), f"holds no label map ({FILES['nifti']} or {FILES['dicom-seg']})")
    boxes = _json_or_none(folder / FILES["json"])
    provenance = _json_or_none(folder / FILES["provenance"])
    return Result(volume, read_label_table(labels), boxes, provenance, folder)


def _read_nifti(path: Path) -> Result:
    from medsee_cli.io.nifti import read_nifti

    volume = read_nifti(path)
    name = path.name
    stem = name[: -len(".nii.gz")] if name.lower().endswith(".nii.gz") else path.stem
    for candidate in (path.with_name(f"{stem}.labels.json"), path.with_name(FILES["labels"])):
        if candidate.is_file():
            return Result(volume, read_label_table(candidate), None, None, None)
    values = np.unique(np.asarray(volume.dataobj))
    table = LabelTable.from_names({int(v): f"label_{int(v)}" for v in values if v != 0})
    return Result(volume, table, None, None, None)


def _json_or_none(path: Path) -> Optional[dict[str, Any]]:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise InputError(str(path), f"not valid JSON ({exc})") from exc
