"""Slice geometry: the LPS affine of a stack of frames, and the checks that make it trustworthy.

Checks (each a `GeometryError` naming the series and the reason): missing slices (a gap well
above the series' own spacing), non-uniform spacing, slices that do not share one orientation.
Gantry tilt is representable (the affine is sheared, the data are not resampled) and is
reported as a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medsee_cli.errors import GeometryError

UNIFORM_RELATIVE_TOLERANCE = 0.02  # 2 % of the median spacing ...
UNIFORM_ABSOLUTE_TOLERANCE = 0.02  # ... or 0.02 mm, whichever is larger
MISSING_SLICE_FACTOR = 1.5  # a gap this many times the median spacing means missing slices
TILT_REPORT_DEGREES = 0.1


@dataclass(frozen=True)
class StackGeometry:
    affine_lps: np.ndarray
    tilt_degrees: float
    slice_spacing: float


def normal_of(orientation: tuple[float, ...]) -> np.ndarray:
    row = np.asarray(orientation[:3], dtype=np.float64)
    col = np.asarray(orientation[3:], dtype=np.float64)
    normal = np.cross(row, col)
    norm = float(np.linalg.norm(normal))
    if norm < 1e-6:
        raise ValueError("ImageOrientationPatient rows and columns are parallel")
    return normal / norm


def stack_geometry(
    name: str,
    orientation: tuple[float, ...],
    pixel_spacing: tuple[float, float],
    positions: np.ndarray,
    fallback_spacing: float | None,
) -> StackGeometry:
    """Affine (voxel ``[i=column, j=row, k=slice]`` -> LPS mm) of positions sorted along the normal."""
    row = np.asarray(orientation[:3], dtype=np.float64)
    col = np.asarray(orientation[3:], dtype=np.float64)
    row /= np.linalg.norm(row)
    col /= np.linalg.norm(col)
    normal = normal_of(orientation)
    affine = np.eye(4)
    affine[:3, 0] = row * pixel_spacing[1]
    affine[:3, 1] = col * pixel_spacing[0]
    affine[:3, 3] = positions[0]
    tilt = 0.0
    if len(positions) == 1:
        spacing = fallback_spacing if fallback_spacing and fallback_spacing > 0 else 1.0
        affine[:3, 2] = normal * spacing
        return StackGeometry(affine, tilt, spacing)
    distances = positions @ normal
    gaps = np.diff(distances)
    median = float(np.median(gaps))
    if median <= 1e-4:
        raise GeometryError(name, "slices share one position (duplicate or overlapping slices)")
    if len(gaps) >= 2:
        worst = int(np.argmax(gaps))
        if gaps[worst] > MISSING_SLICE_FACTOR * median:
            missing = int(round(gaps[worst] / median)) - 1
            raise GeometryError(
                name,
                f"missing slice(s): a {gaps[worst]:.2f} mm gap after slice {worst} where the series "
                f"spacing is {median:.2f} mm (about {max(missing, 1)} slice(s) absent)",
            )
        tolerance = max(UNIFORM_ABSOLUTE_TOLERANCE, UNIFORM_RELATIVE_TOLERANCE * median)
        if float(np.max(np.abs(gaps - median))) > tolerance:
            raise GeometryError(
                name,
                f"non-uniform slice spacing ({gaps.min():.3f} to {gaps.max():.3f} mm): "
                "one affine cannot describe it",
            )
    step = (positions[-1] - positions[0]) / (len(positions) - 1)
    cosine = float(np.dot(step, normal) / np.linalg.norm(step))
    tilt = float(np.degrees(np.arccos(np.clip(abs(cosine), -1.0, 1.0))))
    in_plane = step - np.dot(step, normal) * normal
    if np.linalg.norm(in_plane) > 1e-3 and tilt < TILT_REPORT_DEGREES:
        step = np.dot(step, normal) * normal  # rounding noise in positions: keep it orthogonal
        tilt = 0.0
    affine[:3, 2] = step
    return StackGeometry(affine, tilt, float(np.linalg.norm(step)))


def pixel_only_affine(pixel_spacing: tuple[float, float] | None) -> np.ndarray:
    """Affine for images without patient geometry (CR, US, secondary capture): the pixel grid."""
    rows, cols = pixel_spacing if pixel_spacing else (1.0, 1.0)
    rows = rows if rows > 0 else 1.0
    cols = cols if cols > 0 else 1.0
    return np.diag([float(cols), float(rows), 1.0, 1.0])
