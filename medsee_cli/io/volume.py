"""`Volume`: a voxel array and its geometry, the one image type every layer passes around.

Convention (stated once, used everywhere): in memory the array is indexed ``[i, j, k]`` (and
``[i, j, k, t]`` for series with several volumes), and ``affine`` maps a voxel index
``(i, j, k, 1)`` to patient coordinates in millimetres in **RAS+** (+x towards the patient's
right, +y anterior, +z superior), the NIfTI convention. DICOM's LPS+ appears only at the DICOM boundary
(`lps_affine`). For a DICOM series ``i`` runs along a row (the direction of
ImageOrientationPatient[:3]), ``j`` down the columns, ``k`` along the sorted slice positions.

Spacing, orientation codes and origin are derived from the affine, never stored twice. The
voxel data may be a lazy array proxy (nibabel) or a memory map: it is only read when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # pydicom loads only with a DICOM reader
    from medsee_cli.io.dicom.source_header import SourceHeader

LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


class ArrayLike(Protocol):
    """What a lazy voxel container must offer (numpy arrays and nibabel proxies do)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype[Any]: ...

    def __getitem__(self, key: Any) -> Any: ...


@dataclass(frozen=True)
class SliceSource:
    """Where one 2D slice of a volume came from in DICOM."""

    sop_instance_uid: str
    file: str
    frame_number: int | None = None  # 1-based frame in an enhanced multi-frame object
    instance_number: int | None = None  # the image's InstanceNumber (what a PACS viewer numbers it)


@dataclass(frozen=True)
class DicomRefs:
    """The DICOM identity of a volume: what a DICOM-SEG must reference.

    ``slices`` is ordered like the array: index ``k + t * nk`` for slice ``k`` of volume ``t``.
    ``headers``: the header of each source file as medsee's reader parsed it (``file`` of a slice
    -> `SourceHeader`), which DICOM writers copy instead of reading the file again; empty for
    references made another way, whose files the writers read.
    """

    study_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str | None
    sop_class_uid: str
    transfer_syntax_uid: str
    slices: tuple[SliceSource, ...]
    headers: Mapping[str, SourceHeader] = field(default_factory=dict, compare=False, repr=False)

    def slice_source(self, k: int, t: int = 0, nk: int | None = None) -> SliceSource:
        nk = nk if nk is not None else len(self.slices)
        return self.slices[k + t * nk]


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3D (or 4D) image with its RAS+ affine, modality and DICOM references."""

    dataobj: ArrayLike
    affine: np.ndarray
    modality: str = "OT"
    refs: DicomRefs | None = None
    source: str = ""
    samples_per_pixel: int = 1  # 3 for colour: the last array axis holds R, G, B
    notes: tuple[str, ...] = field(default=())
    # False for a picture without geometry (a PNG): its affine assumes 1 mm per pixel
    pixel_size_known: bool = True

    def __post_init__(self) -> None:
        affine = np.array(self.affine, dtype=np.float64)
        if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
            raise ValueError(f"affine must be a finite 4x4 matrix, got shape {affine.shape}")
        if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
            raise ValueError("affine is singular (zero spacing or collinear axes)")
        affine.setflags(write=False)
        object.__setattr__(self, "affine", affine)
        ndim = len(self.dataobj.shape)
        spatial = ndim - (1 if self.samples_per_pixel > 1 else 0)
        if spatial not in (3, 4):
            raise ValueError(f"voxel data must be 3D or 4D, got shape {self.dataobj.shape}")

    # geometry, derived from the affine
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.dataobj.shape)

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        i, j, k = self.shape[:3]
        return (i, j, k)

    @property
    def n_volumes(self) -> int:
        spatial = len(self.shape) - (1 if self.samples_per_pixel > 1 else 0)
        return self.shape[3] if spatial == 4 else 1

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.dataobj.dtype)

    @property
    def spacing(self) -> tuple[float, float, float]:
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def origin(self) -> tuple[float, float, float]:
        o = self.affine[:3, 3]
        return (float(o[0]), float(o[1]), float(o[2]))

    @property
    def orientation(self) -> str:
        """Axis codes such as ``"RAS"`` or ``"LPS"``: where each voxel axis points (RAS+ world)."""
        import nibabel as nib

        return "".join(nib.orientations.aff2axcodes(self.affine))

    @property
    def lps_affine(self) -> np.ndarray:
        """The same affine in DICOM's LPS+ patient coordinates."""
        lps: np.ndarray = LPS_FROM_RAS @ self.affine
        return lps

    @property
    def voxel_volume_ml(self) -> float:
        return float(abs(np.linalg.det(self.affine[:3, :3])) / 1000.0)

    # voxel access
    def array(self) -> np.ndarray:
        """The whole voxel array (reads it if lazy)."""
        return np.asarray(self.dataobj)

    def slab(self, k0: int, k1: int, t: int = 0) -> np.ndarray:
        """Slices ``k0:k1`` of volume ``t``, reading only those from a lazy source."""
        if self.n_volumes > 1:
            return np.asarray(self.dataobj[:, :, k0:k1, t])
        return np.asarray(self.dataobj[:, :, k0:k1])

    def with_data(self, data: ArrayLike, *, modality: str | None = None) -> "Volume":
        """A volume on exactly this grid (same affine and DICOM references) holding ``data``."""
        if tuple(data.shape[:3]) != self.spatial_shape:
            raise ValueError(
                f"data shape {tuple(data.shape)} does not match the grid {self.spatial_shape}"
            )
        return Volume(
            dataobj=data,
            affine=self.affine,
            modality=modality or self.modality,
            refs=self.refs,
            source=self.source,
        )
