"""Phantom abdomens on random grids: the synthetic anatomy seen at varied size, position and angle.

The phantom's anatomy is fixed in millimetres, so variety comes from the grid: in-plane
spacing 2.2-3.4 mm, a shift of up to 25 mm, a rotation about the body axis of up to 12
degrees, 10-16 HU of noise, and intensities: each phantom is drawn in one of the recipe's contrast
phases (`synth/phases.yaml`: unenhanced, arterial, portal venous, delayed) with every soft tissue
moved by up to ``hu_jitter`` HU, so the head learns organs by shape and place, not by one phase's
brightness (trained on portal-venous phantoms alone, with one unenhanced real CT, it outlined no
kidney on that real CT). Slices are drawn a third around the pancreatic head (where the jaundice
case's mass lies), a third from the upper abdomen and a third from anywhere.
"""

from __future__ import annotations

import numpy as np

from medsee_cli.synth.phantom import DEFAULT_PHASE, LABELS, Phantom, PhantomOptions, make_phantom


def random_phantom(case: str, seed: int, slices: int, phases: tuple[str, ...] = (DEFAULT_PHASE,),
                   hu_jitter: float = 0.0) -> tuple[Phantom, dict[int, str], np.ndarray]:
    rng = np.random.default_rng(seed)
    side = int(rng.integers(112, 145))
    depth = 48
    spacing = (float(rng.uniform(2.2, 3.4)),) * 2 + (4.0,)
    angle = np.deg2rad(rng.uniform(-12.0, 12.0))
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag(spacing)
    centre = np.array([(side - 1) / 2.0, (side - 1) / 2.0, (depth - 1) / 2.0])
    shift = np.array([rng.uniform(-25, 25), rng.uniform(-25, 25), rng.uniform(10, 50)])
    affine[:3, 3] = shift - affine[:3, :3] @ centre
    phase = str(np.random.default_rng([seed, 2]).choice(phases))  # its own stream: grids and slices drawn as before
    options = PhantomOptions(shape=(side, side, depth), spacing=spacing, case=case, noise_hu=float(rng.uniform(10, 16)), seed=seed,
                             phase=phase, hu_jitter=hu_jitter)
    phantom = make_phantom(options, affine)
    z = affine[2, 2] * np.arange(depth) + affine[2, 3]
    chosen: set[int] = set()
    for low, high, share in ((0.0, 34.0, 3), (-5.0, 115.0, 3), (-1e9, 1e9, 3)):  # head mass, upper abdomen, anywhere
        pool = [k for k in np.flatnonzero((z > low) & (z < high)).tolist() if k not in chosen]
        take = min(len(pool), max(1, slices // share) if share else 0, slices - len(chosen))
        if take > 0:
            chosen |= set(rng.choice(pool, size=take, replace=False).tolist())
    return phantom, dict(LABELS), np.asarray(sorted(chosen), dtype=int)
