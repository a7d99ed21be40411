"""`WriterOptions`: every choice the writers take, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

FORMATS = ("nifti", "json", "png", "dicom-seg", "rtstruct")
SEG_TYPES = ("BINARY", "LABELMAP")


@dataclass(frozen=True)
class WriterOptions:
    """How a result is written.

    ``formats``: which files to write (see `FORMATS`); DICOM formats need a DICOM source.
    ``overwrite``: replace existing files (otherwise an existing output is an error).
    ``seg_type``: ``"BINARY"`` (bit-packed, one frame per segment and slice, widest support) or
    ``"LABELMAP"`` (one 8/16-bit frame per slice, RLE Lossless, DICOM 2024+ readers). BINARY is
    stored uncompressed: bit-packing already makes it 8x smaller than bytes.
    ``per_target_nifti``: also write one binary NIfTI per target (``mask_<name>.nii.gz``).
    ``algorithm_name``/``algorithm_version``: recorded in DICOM-SEG and RTSTRUCT.
    ``provenance``: extra key/values for the result's ``provenance.json`` (no patient data).
    ``modality``: the run's one modality decision (``EngineRun.modality``), which boxes.json
    (HU or arbitrary units) and the preview (its window) follow; ``None``: decided from the
    volume (`medsee_cli.measure.effective_modality`), as for ``export``.
    """

    formats: tuple[str, ...] = ("nifti", "json", "png")
    overwrite: bool = False
    seg_type: str = "BINARY"
    per_target_nifti: bool = False
    algorithm_name: str = "medsee"
    algorithm_version: str = ""
    series_description: str = "medsee segmentation"
    provenance: dict[str, str] = field(default_factory=dict)
    source: Optional[str] = None  # a DICOM series standing behind a volume without refs
    modality: Optional[str] = None

    def __post_init__(self) -> None:
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise ValueError(f"unknown output format(s) {unknown}; choose from {list(FORMATS)}")
        if self.seg_type.upper() not in SEG_TYPES:
            raise ValueError(f"seg_type must be one of {SEG_TYPES}, got {self.seg_type!r}")
        object.__setattr__(self, "seg_type", self.seg_type.upper())
        object.__setattr__(self, "formats", tuple(self.formats))

    @property
    def version(self) -> str:
        if self.algorithm_version:
            return self.algorithm_version
        from medsee_cli import __version__

        return __version__
