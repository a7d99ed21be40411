"""Slice numbers as a viewer shows them, and each slice's table position: the one mapping from ``k``.

In memory slice ``k`` is a 0-based array index, in medsee's own order (a DICOM series is sorted
along its slice normal, which may run against the order of the files). A radiologist finds a
slice by other numbers:

- **DICOM**: the image's InstanceNumber, the number PACS viewers show for it. When an image of
  the volume has none, or two images share one (a multi-frame object, a repeated export), the
  numbers are 1-based ``k + 1`` instead and ``note`` says why.
- **NIfTI, NRRD, MetaImage**: 1-based ``k + 1`` (the file has no numbers of its own).

The table position of slice ``k`` is the patient z (superior, mm) of its first voxel: for DICOM
that is ImagePositionPatient z, the same in LPS and RAS. It is given for axial stacks only
(the slice axis runs head-foot); across a sagittal or coronal slice z varies, so there it is
``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from medsee_cli.io.volume import Volume

INSTANCE_NUMBER = "InstanceNumber"
ONE_BASED = "1-based"


@dataclass(frozen=True)
class SliceNumbers:
    """``numbers[k]``: the viewer's number of slice ``k``; ``table_mm[k]``: its z in mm (``None``
    for a stack that is not axial). ``scheme`` is `INSTANCE_NUMBER` or `ONE_BASED`; ``note`` says
    why a DICOM volume fell back to 1-based numbers (empty otherwise)."""

    numbers: tuple[int, ...]
    table_mm: Optional[tuple[float, ...]]
    scheme: str
    note: str = ""

    def number(self, k: int) -> int:
        return self.numbers[k]

    def table(self, k: int) -> Optional[float]:
        return None if self.table_mm is None else self.table_mm[k]

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "note": self.note or None, "table_position": self.table_mm is not None}


def slice_numbers(volume: Volume) -> SliceNumbers:
    """The viewer's numbering and the table positions of ``volume``'s slices (see the module docstring)."""
    depth = volume.spatial_shape[2]
    numbers, note = _instance_numbers(volume, depth)
    scheme = INSTANCE_NUMBER
    if numbers is None:
        numbers, scheme = tuple(range(1, depth + 1)), ONE_BASED
    return SliceNumbers(numbers, _table_positions(volume, depth), scheme, note)


def _instance_numbers(volume: Volume, depth: int) -> tuple[Optional[tuple[int, ...]], str]:
    """The InstanceNumber of each slice of the first volume, or ``None`` and why not ("" for non-DICOM)."""
    refs = volume.refs
    if refs is None:
        return None, ""
    if len(refs.slices) != depth * volume.n_volumes:
        return None, "the DICOM images do not map one to one onto the slices"
    found = [s.instance_number for s in refs.slices[:depth]]
    missing = sum(1 for n in found if n is None)
    if missing:
        return None, f"{missing} of {depth} images have no InstanceNumber"
    numbers = tuple(int(n) for n in found if n is not None)
    if len(set(numbers)) != len(numbers):
        return None, f"the images share InstanceNumbers ({len(set(numbers))} distinct for {depth} slices)"
    return numbers, ""


def _table_positions(volume: Volume, depth: int) -> Optional[tuple[float, ...]]:
    if volume.orientation[2] not in "SI":
        return None
    z0, dz = float(volume.affine[2, 3]), float(volume.affine[2, 2])
    return tuple(round(z0 + dz * k, 2) for k in range(depth))
