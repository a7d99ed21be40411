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

``provenance.json`` is written last: a folder without it is incomplete. It lists the files
written (with hashes) and, under ``not_written`` / ``warnings``, the outputs that could not
honestly be made (e.g. ``seg.dcm`` for a source series without a SeriesInstanceUID).
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from medsee_cli.errors import InputError, OutputExistsError, UsageError
from medsee_cli.io.atomic import write_text_atomic
from medsee_cli.io.volume import Volume
from medsee_cli.writers.boxes import boxes_document, dumps_boxes
from medsee_cli.writers.knowledge_codes import fill_codes
from medsee_cli.writers.labels import LabelTable, dumps_label_table, read_label_table
from medsee_cli.writers.options import WriterOptions
from medsee_cli.writers.skipped import OutputNotMade, skipped_texts

FILES = {"nifti": "mask.nii.gz", "labels": "labels.json", "json": "boxes.json", "png": "preview.png",
         "dicom-seg": "seg.dcm", "rtstruct": "rtstruct.dcm", "provenance": "provenance.json"}
PROVENANCE_SCHEMA = "medsee.provenance/1"
GRID_ATOL_MM = 1e-3
STAGING_SUFFIX = ".partial"

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class WrittenResult:
    """What `write_result` did: ``files`` {format: path} written, ``skipped`` {format: reason}
    for outputs that could not honestly be made (every other output was still written)."""

    files: dict[str, Path]
    skipped: dict[str, str]

    @property
    def warnings(self) -> list[str]:
        """One text per skipped output: ``no DICOM-SEG: the source series has no ...``."""
        return skipped_texts(self.skipped)


def result_files(options: WriterOptions) -> list[str]:
    """The file names a result folder written with ``options`` would hold."""
    return [FILES[key] for key in ("labels", *options.formats, "provenance")]


def check_out_dir(out: str | Path, options: WriterOptions, option: str = "--out") -> None:
    """Before any work: ``out`` must be a folder (or not exist yet) and, without overwrite,
    hold none of the files the result would write. `UsageError` (a file) / `OutputExistsError`."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(option, f"{out} is a file, not a folder")
    if any(parent.exists() and not parent.is_dir() for parent in out.parents):
        raise UsageError(option, f"{out} lies below a file, not a folder")
    if not options.overwrite:
        for name in result_files(options):
            if (out / name).exists():
                raise OutputExistsError(str(out / name))


def _staging(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}{STAGING_SUFFIX}")


def _remove_stale_staging(out: Path) -> None:
    """Remove staging folders of ``out`` left by a killed run (their process is gone)."""
    if not out.parent.is_dir():
        return
    for folder in out.parent.glob(f".{glob.escape(out.name)}.*{STAGING_SUFFIX}"):
        pid = folder.name[len(out.name) + 2: -len(STAGING_SUFFIX)]
        if folder.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_result(volume: Volume, labelmap: np.ndarray, table: LabelTable, out_dir: str | Path,
                 options: WriterOptions = WriterOptions()) -> WrittenResult:
    """Write ``labelmap`` (on ``volume``'s grid) in ``options.formats`` into ``out_dir``.

    Each format is written on its own: one that cannot honestly be made (`OutputNotMade`) is
    listed in ``skipped`` and the others are written. ``provenance.json`` comes last and lists
    what was and was not written. A new folder appears complete or not at all (it is written
    beside its final name and renamed). Nothing is written when a target file exists and
    ``options.overwrite`` is false.
    """
    out = Path(out_dir)
    labelmap = check_labelmap(volume, labelmap, table)
    table = fill_codes(table).with_colours()
    check_out_dir(out, options)
    _remove_stale_staging(out)
    fresh = not out.exists()
    folder = _staging(out) if fresh else out
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files, skipped = _write_files(volume, labelmap, table, folder, options)
        if fresh:
            os.replace(folder, out)
    finally:
        if fresh and folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    return WrittenResult({fmt: out / path.name for fmt, path in files.items()}, skipped)


def _write_files(volume: Volume, labelmap: np.ndarray, table: LabelTable, folder: Path,
                 options: WriterOptions) -> tuple[dict[str, Path], dict[str, str]]:
    written: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    write_text_atomic(folder / FILES["labels"], dumps_label_table(table), overwrite=options.overwrite)
    written["labels"] = folder / FILES["labels"]
    for fmt in options.formats:
        try:
            written.update(write_format(fmt, volume, labelmap, table, folder / FILES[fmt], options))
        except OutputNotMade as exc:
            skipped[fmt] = exc.reason
        except Exception as exc:  # one writer's failure costs that output only, never the others
            log.debug("writing %s failed", fmt, exc_info=exc)
            detail = " ".join(str(exc).split())[:160]
            skipped[fmt] = f"it could not be written ({exc.__class__.__name__}: {detail}; --debug shows where)"
    if options.per_target_nifti:
        from medsee_cli.writers.nifti_mask import write_target_masks

        written.update(write_target_masks(volume, labelmap, table, folder, overwrite=options.overwrite))
    provenance = {
        "schema": PROVENANCE_SCHEMA,
        "medsee_version": options.version,
        "algorithm": options.algorithm_name,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": _source_hash(volume),
        "options": {"formats": list(options.formats), "seg_type": options.seg_type},
        "extra": dict(options.provenance),
        "files": {p.name: _file_hash(p) for p in written.values()},
        "not_written": dict(skipped),
        "warnings": skipped_texts(skipped),
    }
    write_text_atomic(folder / FILES["provenance"], json.dumps(provenance, indent=2) + "\n",
                      overwrite=options.overwrite)
    written["provenance"] = folder / FILES["provenance"]
    return written, skipped


def write_format(fmt: str, volume: Volume, labelmap: np.ndarray, table: LabelTable, target: Path,
                 options: WriterOptions, *, has_image: bool = True) -> dict[str, Path]:
    """Write one format to ``target`` (a file path); the building block of `write_result` and export.

    ``volume`` is the image the label map lies on; ``has_image`` False: it is only the grid (a
    label map exported without its source), so boxes.json has no intensities and the preview
    no image. The modality is the run's (``options.modality``) or decided here once."""
    if fmt == "nifti":
        from medsee_cli.writers.nifti_mask import write_label_map

        return {fmt: write_label_map(volume, labelmap, target, overwrite=options.overwrite)}
    if fmt == "json":
        document = boxes_document(volume, labelmap, table, modality_of(volume, options), intensities=has_image)
        write_text_atomic(target, dumps_boxes(document), overwrite=options.overwrite)
        return {fmt: target}
    if fmt == "png":
        from medsee_cli.writers.preview import write_preview

        return {fmt: write_preview(volume, labelmap, table, target, modality_of(volume, options),
                                   overwrite=options.overwrite, has_image=has_image)}
    source = dicom_volume(volume, options)
    if fmt == "dicom-seg":
        from medsee_cli.writers.dicom_seg import write_seg

        return {fmt: write_seg(source, labelmap, table, target, options)}
    if fmt == "rtstruct":
        from medsee_cli.writers.rtstruct import write_rtstruct

        return {fmt: write_rtstruct(source, labelmap, table, target, options)}
    raise ValueError(f"unknown format {fmt!r}")


def modality_of(volume: Volume, options: WriterOptions) -> str:
    """The run's modality decision when the caller made one (``options.modality``), else this volume's."""
    from medsee_cli.measure import effective_modality

    return options.modality or effective_modality(volume)


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
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise InputError(str(path), f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(str(path), "not a JSON object")
    return data
