"""A CT-like abdomen phantom with plausible anatomy, HU values and noise, and its label map.

Structures are ellipsoids and tubes placed in patient coordinates (RAS+ mm) and rasterised
onto any grid, so the same anatomy can be made at any size, spacing and orientation. The
"jaundice" case has a hypodense mass in the pancreatic head and a dilated common bile duct
and intrahepatic ducts above it, the classic picture of obstructive jaundice; the "normal"
case has neither. Labels follow ``labels.json`` in this package.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml

LABELS: dict[int, str] = {int(k): v for k, v in json.loads(resources.files(__package__).joinpath("labels.json").read_text()).items()}
LABEL_ID = {name: value for value, name in LABELS.items()}

def _phase_table() -> dict[str, Any]:
    table: dict[str, Any] = yaml.safe_load(resources.files(__package__).joinpath("phases.yaml").read_text())
    return table


_PHASES = _phase_table()
PHASES: tuple[str, ...] = tuple(_PHASES["phases"])
DEFAULT_PHASE: str = _PHASES["default"]


def tissue_hu(phase: str = DEFAULT_PHASE) -> dict[str, float]:
    """Mean HU of every phantom tissue in a contrast ``phase`` (one of `PHASES`, see phases.yaml)."""
    if phase not in _PHASES["phases"]:
        raise ValueError(f"unknown contrast phase {phase!r} (known: {', '.join(PHASES)})")
    return {name: float(value) for name, value in {**_PHASES["fixed"], **_PHASES["phases"][phase]}.items()}


@dataclass(frozen=True)
class PhantomOptions:
    """Grid and case: ``shape`` voxels at ``spacing`` mm, centred on the origin, RAS+ axes."""

    shape: tuple[int, int, int] = (128, 128, 64)
    spacing: tuple[float, float, float] = (2.8, 2.8, 4.0)
    case: str = "jaundice"  # "jaundice" (pancreatic head mass + dilated ducts) or "normal"
    noise_hu: float = 12.0
    seed: int = 0
    phase: str = DEFAULT_PHASE  # contrast phase: which HU table (phases.yaml)
    hu_jitter: float = 0.0  # each soft tissue's mean moves by up to this many HU (uniform, per phantom)


@dataclass(frozen=True)
class Phantom:
    hu: np.ndarray  # int16, [i, j, k]
    labels: np.ndarray  # uint8, [i, j, k]
    affine: np.ndarray  # voxel -> RAS+ mm


def grid_affine(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> np.ndarray:
    affine = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    affine[:3, 3] = [-(n - 1) * s / 2.0 for n, s in zip(shape, spacing)]
    return affine


def _coords(shape: tuple[int, int, int], affine: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i, j, k = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    a = affine.astype(np.float32)
    x = a[0, 0] * i + a[0, 1] * j + a[0, 2] * k + a[0, 3]
    y = a[1, 0] * i + a[1, 1] * j + a[1, 2] * k + a[1, 3]
    z = a[2, 0] * i + a[2, 1] * j + a[2, 2] * k + a[2, 3]
    return x, y, z


def _ellipsoid(x: np.ndarray, y: np.ndarray, z: np.ndarray, centre: Sequence[float],
               radii: Sequence[float]) -> np.ndarray:
    return ((x - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 + ((z - centre[2]) / radii[2]) ** 2 <= 1.0


def _tube(x: np.ndarray, y: np.ndarray, z: np.ndarray, start: Sequence[float], end: Sequence[float],
          radius: float) -> np.ndarray:
    p0 = np.asarray(start, dtype=np.float32)
    d = np.asarray(end, dtype=np.float32) - p0
    length2 = float(d @ d)
    t = ((x - p0[0]) * d[0] + (y - p0[1]) * d[1] + (z - p0[2]) * d[2]) / length2
    t = np.clip(t, 0.0, 1.0)
    dx, dy, dz = x - (p0[0] + t * d[0]), y - (p0[1] + t * d[1]), z - (p0[2] + t * d[2])
    return dx * dx + dy * dy + dz * dz <= radius * radius


def _tissue_means(options: PhantomOptions) -> dict[str, float]:
    """The phase's table, each soft tissue moved by its own draw within ``hu_jitter`` (air, fat, bone stay)."""
    table = tissue_hu(options.phase)
    if options.hu_jitter <= 0:
        return table
    rng = np.random.default_rng([options.seed, 1])  # apart from the noise's stream: jitter never moves the noise
    return {name: value if name in _PHASES["fixed"] else value + float(rng.uniform(-options.hu_jitter, options.hu_jitter))
            for name, value in table.items()}


def make_phantom(options: PhantomOptions = PhantomOptions(), affine: np.ndarray | None = None) -> Phantom:
    """Rasterise the phantom on ``affine`` (default: a centred axial grid of ``options``)."""
    affine = grid_affine(options.shape, options.spacing) if affine is None else affine
    x, y, z = _coords(options.shape, affine)
    rng = np.random.default_rng(options.seed)
    table = _tissue_means(options)
    hu = np.full(options.shape, table["air"], dtype=np.float32)
    labels = np.zeros(options.shape, dtype=np.uint8)

    body = _ellipsoid(x, y, z, (0, 0, 0), (165, 120, 400))
    hu[body] = table["fat"]
    hu[_ellipsoid(x, y, z, (0, 0, 0), (150, 105, 400)) & ~_ellipsoid(x, y, z, (0, 0, 0), (140, 95, 400))] = table["muscle"]

    def paint(mask: np.ndarray, tissue: str, label: str | None) -> None:
        region = mask & body
        hu[region] = table[tissue]
        if label is not None:
            labels[region] = LABEL_ID[label]

    right, left = 1.0, -1.0  # RAS+: x grows towards the patient's right
    paint(_ellipsoid(x, y, z, (right * 80, 5, 90), (75, 75, 60)), "liver", "liver")
    paint(_ellipsoid(x, y, z, (left * 85, 5, 75), (40, 55, 45)), "spleen", "spleen")
    paint(_ellipsoid(x, y, z, (left * 40, 45, 85), (45, 35, 35)), "stomach", "stomach")
    paint(_ellipsoid(x, y, z, (right * 70, -45, -10), (28, 25, 50)), "kidney", "kidney_right")
    paint(_ellipsoid(x, y, z, (left * 70, -45, 0), (28, 25, 50)), "kidney", "kidney_left")
    paint(_tube(x, y, z, (left * 15, -35, 200), (left * 15, -35, -200), 12), "aorta", "aorta")
    paint(_tube(x, y, z, (0, -70, 200), (0, -70, -200), 22), "bone", "vertebrae")
    # pancreas: head on the right by the duodenum, body and tail crossing to the spleen
    paint(_ellipsoid(x, y, z, (right * 35, 5, 20), (22, 18, 20)), "pancreas", "pancreas")
    paint(_tube(x, y, z, (right * 20, 5, 25), (left * 70, 5, 40), 11), "pancreas", "pancreas")
    paint(_ellipsoid(x, y, z, (right * 55, 35, 35), (14, 15, 28)), "gallbladder", "gallbladder")
    duct_radius = 6.5 if options.case == "jaundice" else 2.5
    paint(_tube(x, y, z, (right * 45, 15, 85), (right * 38, 8, 28), duct_radius), "bile_duct", "bile_duct")
    if options.case == "jaundice":
        for end in ((right * 95, 20, 100), (right * 70, 40, 110), (right * 30, 25, 105)):
            paint(_tube(x, y, z, (right * 45, 15, 85), end, 3.5), "bile_duct", "bile_duct")
        paint(_ellipsoid(x, y, z, (right * 38, 5, 18), (14, 13, 14)), "pancreatic_lesion", "pancreatic_lesion")
    elif options.case != "normal":
        raise ValueError(f"unknown phantom case {options.case!r} (jaundice or normal)")

    hu += rng.normal(0.0, options.noise_hu, size=hu.shape).astype(np.float32) * body
    return Phantom(np.clip(np.round(hu), -1024, 3071).astype(np.int16), labels, affine)
