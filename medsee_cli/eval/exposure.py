"""Train/test hygiene: was an item's image part of what the scored model learnt from?

The checkpoint's own training record (``training.json``, section ``seen``: see
`medsee_cli.training.record`) lists fingerprints of the slices it was trained or calibrated on
and of every slice of those patients' volumes. Each item gets one of:

- ``trained``: the item's picture is (2D), or its volume contains (3D), a slice the model
  learnt from;
- ``same_patient``: a volume the model learnt other slices of;
- ``held_out``: neither.

Two tests, the stricter answer wins: the item's pixels (slice fingerprints, for any layout), and
for items cut from the shared data folder (``EvalItem.origin``, the builtin benchmark) the file
and slice index, which still hold where the benchmark altered pixels (a synthetic lesion). A
re-windowed or resampled copy of a training slice outside the shared folder has other pixels
and is not recognised: a stated limit.

Scores are reported per group, so held-out numbers never mix with training-set ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsee_cli.eval.items import EvalItem, Sample
from medsee_cli.io.fingerprint import slice_fingerprint

TRAINED, SAME_PATIENT, HELD_OUT = "trained", "same_patient", "held_out"
GROUPS = (HELD_OUT, SAME_PATIENT, TRAINED)


@dataclass(frozen=True)
class TrainingRecord:
    """The slices (``trained``) and volumes (``volume``) a checkpoint saw, as fingerprints."""

    trained: frozenset[str]
    volume: frozenset[str]
    images: tuple[str, ...]  # the image files it learnt from, relative to their data folder
    slices: tuple[frozenset[int], ...] = ()  # per image: the slice indices it learnt from

    @classmethod
    def read(cls, folder: Path) -> TrainingRecord | None:
        """The record in a checkpoint folder; ``None`` when it has none (or one without ``seen``)."""
        path = folder / "training.json"
        if not path.is_file():
            return None
        seen = json.loads(path.read_text(encoding="utf-8")).get("seen")
        if not isinstance(seen, list):
            return None
        volumes = [entry for entry in seen if "image" in entry]
        return cls(frozenset(f for e in volumes for f in e.get("trained", ())),
                   frozenset(f for e in volumes for f in e.get("volume", ())),
                   tuple(str(e["image"]) for e in volumes),
                   tuple(frozenset(int(k) for k in e.get("slices", ())) for e in volumes))

    def exposure(self, item: EvalItem, sample: Sample) -> str:
        """``trained``, ``same_patient`` or ``held_out`` for one item (see the module docstring)."""
        by_pixels = self._by_pixels(sample)
        by_origin = self._by_origin(item)
        return max(by_pixels, by_origin, key=GROUPS.index)

    def _by_origin(self, item: EvalItem) -> str:
        if item.origin not in self.images:
            return HELD_OUT
        slices = self.slices[self.images.index(item.origin)] if self.slices else frozenset()
        return TRAINED if item.ndim == 3 or item.cut in slices else SAME_PATIENT

    def _by_pixels(self, sample: Sample) -> str:
        image = sample.grey()
        planes = [image] if image.ndim == 2 else [image[:, :, k] for k in range(image.shape[2])]
        prints = {f for f in (slice_fingerprint(p) for p in planes) if f}
        if prints & self.trained:
            return TRAINED
        if prints & self.volume:
            return SAME_PATIENT
        return HELD_OUT
