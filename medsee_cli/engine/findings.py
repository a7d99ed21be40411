"""`Finding`: what the engine reports for one target: its track assembled, cleaned and measured.

The measuring is `medsee_cli.measure.measure` (shared with ``boxes.json``); a finding adds what
only the engine knows: the model's score per slice, the pieces kept and the region itself.
Its ``voxels``, ``volume_ml``, boxes, size, centre, side and intensity are the measurement's,
serialised by `Measurement.to_dict` (box axis order: see `medsee_cli.measure`). Each slice
entry carries the 0-based array index ``index`` and the numbers a viewer shows for that slice
(``number``, ``table_mm``: `medsee_cli.io.slice_numbers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from medsee_cli.anatomy.guard import Dropped, concerns, guard, slices_to_run
from medsee_cli.anatomy.host import hold_to_host
from medsee_cli.anatomy.placement import ANYWHERE, Placement
from medsee_cli.anatomy.scan_anatomy import ScanAnatomy, scan_anatomy
from medsee_cli.engine.components import TOO_SMALL, assemble, keep_consistent
from medsee_cli.engine.progress import Progress, silent
from medsee_cli.engine.tracks import TargetTrack
from medsee_cli.io.slice_numbers import SliceNumbers, slice_numbers
from medsee_cli.io.volume import Volume
from medsee_cli.measure import Measurement, RegionMask, measure
from medsee_cli.model.grounding.confidence import ConfidenceMap

if TYPE_CHECKING:
    from medsee_cli.engine.stream import EngineRun, SliceEngine


@dataclass(frozen=True)
class Finding:
    target: str
    present: bool
    score: float = 0.0  # mean presence over the slices kept
    pieces: int = 0
    measurement: Optional[Measurement] = None
    slice_scores: tuple[float, ...] = ()  # the model's presence on each of the measurement's slices
    region: Optional[RegionMask] = field(default=None, repr=False, compare=False)
    numbering: Optional[SliceNumbers] = field(default=None, repr=False, compare=False)  # the volume's viewer numbers
    dropped: tuple[Dropped, ...] = ()  # what the anatomy guard (`medsee_cli.anatomy.guard`) and the size rule took away
    concerns: tuple[str, ...] = ()  # what is implausible about what stands; empty: nothing
    # the share of findings with this score that were right on real CT the model never saw
    # (`model.grounding.confidence`); None where nobody measured it (MR, pictures, an unmeasured model)
    confidence: Optional[float] = None
    drawn: frozenset[int] = frozenset()  # slices drawn from their neighbours, not run (`engine.between`)

    @cached_property
    def _measured_dict(self) -> dict[str, Any]:
        """The measurement serialised once (every property below reads from it)."""
        return self.measurement.to_dict() if self.measurement is not None else {}

    def _measured(self, key: str) -> Any:
        return self._measured_dict.get(key)

    @property
    def voxels(self) -> int:
        return self.measurement.voxels if self.measurement is not None else 0

    @property
    def volume_ml(self) -> float:
        return self._measured("volume_ml") or 0.0

    @property
    def box_voxel(self) -> Optional[dict[str, list[int]]]:
        value: Optional[dict[str, list[int]]] = self._measured("box_voxel")
        return value

    @property
    def box_mm(self) -> Optional[dict[str, list[float]]]:
        value: Optional[dict[str, list[float]]] = self._measured("box_mm")
        return value

    @property
    def size_mm(self) -> Optional[list[float]]:
        value: Optional[list[float]] = self._measured("size_mm")
        return value

    @property
    def centroid_mm(self) -> Optional[list[float]]:
        value: Optional[list[float]] = self._measured("centroid_mm")
        return value

    @property
    def side(self) -> str:
        return self.measurement.side if self.measurement is not None else ""

    @property
    def intensity(self) -> Optional[dict[str, Any]]:
        value: Optional[dict[str, Any]] = self._measured("intensity")
        return value

    @property
    def slices(self) -> list[dict[str, Any]]:
        """medsee.ask/1 slice entries: ``{"index": k, "number": n, "table_mm": z, "box": [i_min, j_min,
        i_max, j_max], "score", "drawn"}`` (``index`` 0-based in the array; ``number`` as a viewer shows it;
        ``table_mm`` ``None`` for a stack that is not axial; ``drawn``: the outline was drawn from the
        slices on either side, the model did not run on this slice)."""
        if self.measurement is None:
            return []
        numbering = self.numbering
        return [{"index": s.k, "number": numbering.number(s.k) if numbering else s.k + 1,
                 "table_mm": numbering.table(s.k) if numbering else None, "box": list(s.box), "score": round(score, 4),
                 "drawn": s.k in self.drawn}
                for s, score in zip(self.measurement.slices, self.slice_scores)]

    def to_dict(self) -> dict[str, Any]:
        """The medsee.ask/1 finding: target, present, voxels, volume_ml, box_voxel, box_mm, slices."""
        return {"target": self.target, "present": self.present, "voxels": self.voxels,
                "volume_ml": self.volume_ml, "box_voxel": self.box_voxel, "box_mm": self.box_mm,
                "slices": self.slices}

    def document(self) -> dict[str, Any]:
        """The finding as ``ask --json`` and ``segment --json`` both give it: `to_dict` plus
        ``measurements``, the anatomy guard's ``concerns`` and what it ``dropped``."""
        return self.to_dict() | {"measurements": self.measurements(), "concerns": list(self.concerns),
                                 "dropped": [d.to_dict() for d in self.dropped]}

    @property
    def reported_confidence(self) -> Optional[float]:
        """``confidence`` as every output gives it (3 decimals; None where not measured or not found)."""
        return None if self.confidence is None or not self.present else round(self.confidence, 3)

    def measurements(self) -> dict[str, Any]:
        """What else was measured (size, centre, side, score, confidence, pieces, intensity)."""
        return {"target": self.target, "size_mm": self.size_mm, "centroid_mm": self.centroid_mm, "side": self.side,
                "score": round(self.score, 4),
                "confidence": self.reported_confidence,
                "pieces": self.pieces, "intensity": self.intensity}


def finding(volume: Volume, track: TargetTrack, *, modality: str, min_voxels: int = 20,
            min_slices: int = 2, numbering: Optional[SliceNumbers] = None,
            placement: Placement = ANYWHERE, anatomy: Optional[ScanAnatomy] = None,
            outlines: Mapping[str, RegionMask] = {}) -> Finding:
    """The finding for one target track: assembled, held to its ``placement`` by the anatomy guard
    (on ``anatomy``, the volume's `scan_anatomy`, worked out here when needed and not given) and,
    for a lesion, to the ``outlines`` of its organ and neighbours found in the same run
    (`anatomy.host`), cleaned and measured on ``volume``'s grid.

    ``modality`` is the run's one decision (``EngineRun.modality``, from `effective_modality`).
    A volume thinner than ``min_slices`` (a single 2D slice) asks for no more slices than it has.
    ``numbering``: the volume's `slice_numbers` (worked out here when not given)."""
    region = assemble(track.hits.values())
    pieces = 0
    dropped: tuple[Dropped, ...] = ()
    if region is not None and placement != ANYWHERE:
        anatomy = anatomy if anatomy is not None else scan_anatomy(volume)
        guarded = guard(region, placement, anatomy)
        region, dropped = guarded.region, guarded.dropped
        if region is not None and placement.companions:
            region, elsewhere = hold_to_host(region, placement, outlines, anatomy)
            dropped += elsewhere
    if region is not None:
        region, pieces, lost = keep_consistent(region, min_voxels, min(min_slices, volume.spatial_shape[2]))
        if lost:  # every drop is said: all a target's pieces may be this small (an aorta "found" as 9 voxels)
            dropped = dropped + (Dropped(TOO_SMALL, lost, lost * volume.voxel_volume_ml),)
    measured = measure(volume, region, modality) if region is not None else None
    numbering = numbering or slice_numbers(volume)
    if region is None or measured is None:
        return Finding(track.name, False, numbering=numbering, dropped=dropped)
    scores = tuple(float(track.scores[s.k]) if np.isfinite(track.scores[s.k]) else 0.0 for s in measured.slices)
    doubts: tuple[str, ...] = ()
    if anatomy is not None and placement != ANYWHERE:
        hu = measured.intensity.mean if measured.intensity is not None and measured.intensity.unit == "HU" else None
        doubts = concerns(region, measured.volume_ml, measured.side, placement, anatomy, hu)
    return Finding(target=track.name, present=True, score=float(np.mean(scores)) if scores else 0.0,
                   pieces=pieces, measurement=measured, slice_scores=scores, region=region, numbering=numbering,
                   dropped=dropped, concerns=doubts, drawn=frozenset(track.drawn))


def worth_running(placements: Sequence[Placement], anatomy: Optional[ScanAnatomy]) -> Optional[np.ndarray]:
    """The slices where the guard could keep something of at least one target (`slices_to_run`);
    ``None``: every slice."""
    if anatomy is None or not placements:
        return None
    union: Optional[np.ndarray] = None
    for placement in placements:
        wanted = slices_to_run(placement, anatomy)
        if wanted is None:
            return None
        union = wanted if union is None else union | wanted
    return union


def find(engine: SliceEngine, volume: Volume, names: list[str], text_vectors: np.ndarray,
         progress: Progress = silent, placements: Optional[Sequence[Placement]] = None,
         shown: Optional[int] = None, refined: Optional[int] = None) -> tuple[list[Finding], EngineRun]:
    """Stream ``volume`` once for all ``names`` and measure each target's finding with the
    engine's component rules and the run's one modality decision (``run.modality``);
    ``placements`` (one per name; default: anywhere) are what the anatomy guard holds each
    finding to, and the engine runs only the slices where it could keep something
    (`worth_running`: a liver question skips the pelvis); ``progress`` hears of the engine's passes and batches (`engine.progress`).
    ``shown``: only the first so many names are findings to report, and they alone decide which
    slices run; the rest are companions (a lesion's organ and neighbours, `anatomy.host`) looked for
    on those slices and used only to check the findings (default: every name is shown). ``refined``:
    only the first so many are outlined by LiteMedSAM, the rest by the head's coarse mask (the
    neighbours a lesion is checked against need no more; default: all)."""
    placements = list(placements) if placements is not None else [ANYWHERE] * len(names)
    if len(placements) != len(names):
        raise ValueError(f"{len(names)} target names but {len(placements)} placements")
    shown = len(names) if shown is None else shown
    anatomy = scan_anatomy(volume) if any(p != ANYWHERE for p in placements) else None
    run = engine.run(volume, names, text_vectors, progress, worth_running(placements[:shown], anatomy),
                     deciding=shown, refined=refined)
    options = engine.options
    numbering = slice_numbers(volume)

    def measured(n: int, outlines: Mapping[str, RegionMask] = {}) -> Finding:
        return finding(volume, run.tracks[n], modality=run.modality, min_voxels=options.min_component_voxels,
                       min_slices=options.min_component_slices, numbering=numbering, placement=placements[n],
                       anatomy=anatomy, outlines=outlines)

    # first every target that is not held to others; then the lesions, held to what those found
    found: dict[int, Finding] = {n: measured(n) for n, p in enumerate(placements) if not p.companions}
    outlines = trusted_outlines(found.values())
    found |= {n: measured(n, outlines) for n, p in enumerate(placements) if p.companions and n < shown}
    return with_confidence([found[n] for n in range(shown)], engine.model.confidence_map, run.modality), run


def trusted_outlines(found: Iterable[Finding]) -> dict[str, RegionMask]:
    """The outlines a lesion may be held to (`anatomy.host`): findings that stand and that the anatomy
    guard does not doubt, by target."""
    return {f.target: f.region for f in found if f.present and f.region is not None and not f.concerns}


def with_confidence(found: list[Finding], calibration: Optional[ConfidenceMap], modality: str) -> list[Finding]:
    """Each present finding with its ``confidence``: ``calibration`` of its score, on CT (what the map
    was measured on) and only where the model has one; for a finding the anatomy guard doubts, the
    share of doubted findings that were right (`ConfidenceMap.doubted_share`; none where unmeasured)."""
    if calibration is None or modality != "CT":
        return found
    return [replace(f, confidence=calibration.of(f.score, bool(f.concerns))) if f.present else f for f in found]
