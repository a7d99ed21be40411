"""`SliceEngine`: stream a volume through a grounding model and collect compact per-slice hits.

Passes: a coarse pass runs every ``skip_stride``-th slice; then, around every slice whose
presence is plausible, the slices within ``skip_stride`` that were not run yet are run, and
so on until no new slice is plausible. A last pass fills short gaps (``fill_gaps``) between
slices where a target was found, with that target's gate open. A small target on a whole-body CT thus costs about
``K / stride`` slices plus its own extent, not ``K``. With ``skip_stride=1`` every slice runs once.

Thin slices: the passes run over the slices read (at most ``read_spacing_mm`` apart; every slice
of a 3 mm series, every third of a 1.1 mm one) and the slices between are drawn from their read
neighbours afterwards (`engine.between`). There, after the coarse pass, each pass runs the middle
read slice between two run ones where a target appears, ends or changes shape, and none where two
read slices up to ``bridge_mm`` apart agree (`between.bisect_positions`), instead of every neighbour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F

from medsee_cli.engine.batching import AdaptiveBatcher
from medsee_cli.engine.between import bisect_positions, bridge_positions, drawn_spans, read_slices, read_step, spread
from medsee_cli.engine.device import autocast_dtype, resolve_device, running
from medsee_cli.engine.modality import prepare_options
from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.prefetch import PreparedBatch, Prefetcher
from medsee_cli.engine.progress import LOCATING, OUTLINING, Progress, SliceCounter, silent
from medsee_cli.engine.protocol import GroundingLike
from medsee_cli.engine.tracks import SliceHit, TargetTrack
from medsee_cli.io.volume import Volume
from medsee_cli.measure import effective_modality
from medsee_cli.io.plane_view import plane_view

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineRun:
    """The outcome of one volume: a track per target plus what it cost."""

    tracks: tuple[TargetTrack, ...]
    slices_total: int
    slices_run: int
    passes: int
    seconds: float
    batch_size: int  # after any halving
    device: str
    precision: str
    modality: str  # the run's one modality decision (`effective_modality`): findings, boxes.json, preview
    runtime: str = "torch"  # what ran the image encoder: "onnx" or "torch"
    slice_step: int = 1  # slices read were this many apart; those between were drawn (`engine.between`)
    slices_bridged: int = 0  # read slices not run because the outlines on both sides agreed (drawn instead)

    def stats(self) -> dict[str, Any]:
        return {"slices_total": self.slices_total, "slices_run": self.slices_run, "passes": self.passes,
                "seconds": round(self.seconds, 3), "batch_size": self.batch_size, "device": self.device,
                "precision": self.precision, "modality": self.modality, "runtime": self.runtime,
                "slice_step": self.slice_step, "slices_bridged": self.slices_bridged}


def coarse_indices(depth: int, stride: int, allowed: Optional[np.ndarray] = None) -> list[int]:
    """Every ``stride``-th slice, plus the last one so both ends are looked at; with ``allowed``
    ((K,) bool), every ``stride``-th of the allowed slices and the last of them."""
    candidates = np.arange(depth) if allowed is None else np.flatnonzero(allowed)
    return [int(candidates[g]) for g in read_slices(len(candidates), stride)]


def gap_slices(tracks: Sequence[TargetTrack], max_gap: int) -> dict[int, set[int]]:
    """Slice -> targets (track indices) to re-run: at most ``max_gap`` hit-less slices between two
    hits (slices run without a hit; slices not run there were bridged and are drawn)."""
    wanted: dict[int, set[int]] = {}
    for t, track in enumerate(tracks):
        found = sorted(track.hits)
        for a, b in zip(found, found[1:]):
            if 1 < b - a <= max_gap + 1:
                for k in range(a + 1, b):
                    if not np.isnan(track.scores[k]):
                        wanted.setdefault(k, set()).add(t)
    return wanted


def _overlaps(hit: SliceHit, others: Sequence[Optional[SliceHit]]) -> bool:
    i0, j0, i1, j1 = hit.box
    return any(o is not None and i0 <= o.box[2] and o.box[0] <= i1 and j0 <= o.box[3] and o.box[1] <= j1 for o in others)


def next_indices(done: np.ndarray, plausible: np.ndarray, stride: int) -> list[int]:
    """Slices not run yet within ``stride`` of a plausible one."""
    wanted = np.zeros_like(done)
    for k in np.flatnonzero(plausible):
        wanted[max(0, k - stride):k + stride + 1] = True
    return [int(k) for k in np.flatnonzero(wanted & ~done)]


class SliceEngine:
    """Built once per model; ``run(volume, names, text_vectors)`` per volume."""

    def __init__(self, model: GroundingLike, options: EngineOptions = EngineOptions()) -> None:
        self.model = model
        self.options = options
        if options.threads:
            torch.set_num_threads(options.threads)
        self.device = resolve_device(options.device)
        # the ONNX encoder runs fp32, and so does everything else then (one precision per run)
        onnx = getattr(model, "runtime", "torch") == "onnx"
        self.dtype = None if onnx else autocast_dtype(self.device, options.precision)
        self.context = options.context_slices if options.context_slices is not None else model.context_slices
        self.batch_size = options.batch_for(self.device.type)
        self.batcher = AdaptiveBatcher(self.batch_size)
        self.slices_run = 0

    def threshold_for(self, name: str) -> float:
        """Presence probability at which a slice holds ``name``: the option when given, else
        the model's calibrated threshold for that target (0.5 for models without one)."""
        if self.options.presence_threshold is not None:
            return self.options.presence_threshold
        return float(1.0 / (1.0 + np.exp(-self.model.presence_logit(name))))

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def run(self, volume: Volume, names: Sequence[str], text_vectors: np.ndarray,
            progress: Progress = silent, allowed: Optional[np.ndarray] = None,
            deciding: Optional[int] = None, refined: Optional[int] = None) -> EngineRun:
        """``text_vectors``: (T, D) float32, row n = what the model looks for as ``names[n]``
        (the caller encodes the target texts; the engine and the model hold no text encoder).
        ``progress`` hears of each pass (the first is "locating", later ones "outlining") and
        of each batch run (`engine.progress`). ``allowed``: (K,) bool, the only slices worth
        running (where none of the targets can lie, nothing is run; default: every slice).
        ``deciding``: only the first so many targets decide which slices are run; the rest are
        looked for on those slices alone (companions an answer is checked against; default: all).
        ``refined``: only the first so many targets are outlined by LiteMedSAM's refinement, the rest
        by the grounding head's coarse mask (default: all); a companion among them only on slices
        where a deciding target was found."""
        started = time.perf_counter()
        depth = volume.spatial_shape[2]
        if len(text_vectors) != len(names):
            raise ValueError(f"{len(names)} target names but {len(text_vectors)} text vectors")
        step = read_step(volume.spacing[2], self.options.read_spacing_mm) if depth > 2 else 1
        read = read_slices(depth, step)
        bridge = bridge_positions(volume.spacing[2], step, self.options.bridge_mm)
        self._read = read
        self._position = {int(k): g for g, k in enumerate(read)}
        # every pass below runs over the read slices: position g is volume slice read[g]
        tracks = tuple(TargetTrack(name, len(read)) for name in names)
        leading = tracks[:deciding] if deciding is not None else tracks
        self._deciding = len(leading)
        self._refined = len(tracks) if refined is None else refined
        self._thresholds = [self.threshold_for(name) for name in names]
        vectors = torch.as_tensor(np.asarray(text_vectors, dtype=np.float32)).to(self.device)
        self._view = plane_view(volume.affine)
        modality = effective_modality(volume)
        self._modality = modality
        self._prepare_kwargs = prepare_options(volume, modality, self._view)
        done = np.zeros(len(read), dtype=bool)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (depth,):
                raise ValueError(f"allowed must be a ({depth},) bool array, got shape {allowed.shape}")
            allowed = allowed[read]
            done |= ~allowed  # never run: counted as done
        before = self.slices_run
        todo = coarse_indices(len(read), self.options.skip_stride, allowed) if allowed is None or allowed.any() else []
        passes = 0
        counter = SliceCounter(progress)
        while todo:
            passes += 1
            counter.plan(LOCATING if passes == 1 else OUTLINING, len(todo))
            self._pass(volume, todo, vectors, tracks, counter)
            done[todo] = True
            if self.options.skip_stride == 1:
                break
            scores = np.stack([t.scores for t in leading]) if leading else np.zeros((0, len(read)))
            bars = np.minimum(self.options.plausible_threshold, 0.5 * np.asarray(self._thresholds[:len(leading)]))[:, None]
            plausible = np.asarray(np.nan_to_num(scores, nan=0.0) >= bars)
            if bridge:
                ran = done if allowed is None else done & allowed  # done: run, or where nothing is to run
                todo = bisect_positions(ran, done, plausible, leading, bridge, self.options.bridge_agreement)
            else:
                todo = next_indices(done, np.asarray(plausible.any(axis=0)), self.options.skip_stride)
        forced = gap_slices(leading, self.options.fill_gaps) if self.options.fill_gaps else {}
        if allowed is not None:
            forced = {k: wanted for k, wanted in forced.items() if allowed[k]}
        if forced:
            passes += 1
            counter.plan(OUTLINING, len(forced))
            self._pass(volume, sorted(forced), vectors, tracks, counter, forced)
        bridged = {g for track in leading for a, b in drawn_spans(track, bridge) for g in range(a + 1, b)}
        if step > 1:
            tracks = tuple(spread(track, read, depth, bridge) for track in tracks)
        return EngineRun(tracks, depth, self.slices_run - before, passes, time.perf_counter() - started,
                         self.batcher.size, str(self.device), self.precision, modality,
                         str(getattr(self.model, "runtime", "torch")), step, len(bridged))

    def _pass(self, volume: Volume, indices: list[int], vectors: torch.Tensor, tracks: Sequence[TargetTrack],
              counter: SliceCounter, forced: Optional[dict[int, set[int]]] = None) -> None:
        """Run ``indices`` (positions among the read slices) and record what they hold. ``forced``
        (the gap pass): position -> the only targets to look at there, with their gate open; a
        filled slice keeps its hit only where it continues its neighbours."""
        prefetcher = Prefetcher(volume, self.model, [int(self._read[g]) for g in indices], batch_size=self.batch_size,
                                context=self.context, depth=self.options.prefetch_depth, device=self.device,
                                channels_last=self.options.channels_last, view=self._view,
                                modality=self._modality, prepare_kwargs=self._prepare_kwargs)
        for batch in prefetcher:
            for records in self.batcher.run(len(batch.indices), lambda a, b: self._step(batch, a, b, vectors, forced)):
                for k, t, score, hit in records:
                    if forced is not None:
                        hits = tracks[t].hits
                        near = [hits.get(n) for n in range(k - self.options.fill_gaps - 1, k + self.options.fill_gaps + 2) if n != k]
                        if hit is not None and not _overlaps(hit, near):
                            hit = None
                    tracks[t].record(k, score, hit)
            self.slices_run += len(batch.indices)
            counter.advance(len(batch.indices))

    def _step(self, batch: PreparedBatch, start: int, stop: int, vectors: torch.Tensor,
              forced: Optional[dict[int, set[int]]] = None) -> list[tuple[int, int, float, Optional[SliceHit]]]:
        """Encode + ground slices ``start:stop`` of a batch; refine where a target is present
        (with ``forced``, only the targets forced on each slice, gate open)."""
        records = []
        with running(self.device, self.dtype):
            features = self.model.encode(batch.images[start:stop])
            grounding = self.model.ground(features, vectors)
            presence = torch.sigmoid(grounding.presence_logits.float()).cpu().numpy()
            for i in range(stop - start):
                g = self._position[batch.indices[start + i]]
                found_here = False  # a deciding target was found on this slice (they come first)
                for t in (range(presence.shape[1]) if forced is None else sorted(forced[g])):
                    score = float(presence[i, t])
                    hit = None
                    if forced is not None or score >= self._thresholds[t]:
                        # a companion is refined only where a deciding target was found: elsewhere its coarse mask does
                        refine = self.options.refine and t < self._refined and (t < self._deciding or found_here)
                        mask = self._slice_mask(features, i, grounding, t, batch.geometries[start + i], refine)
                        hit = SliceHit.from_mask(g, score, self._view.from_display(mask))
                        found_here |= t < self._deciding
                    records.append((g, t, score, hit))
        return records

    def _slice_mask(self, features: Any, i: int, grounding: Any, t: int, geometry: Any, refine: bool) -> np.ndarray:
        """The final (rows, cols) mask of target ``t`` on item ``i``: the model's reference
        refinement (a padded box per coarse-mask piece -> LiteMedSAM, clipped to the grown
        coarse mask), or the upsampled coarse mask without ``refine``."""
        coarse = grounding.mask_logits[i, t].float()
        if refine:
            from medsee_cli.model.grounding.pipeline import RefineOptions, refine_mask

            logits, _ = refine_mask(self.model, features, i, coarse, float("inf"),
                                    RefineOptions(pad_fraction=self.options.box_pad))
        else:
            size = self.model.input_size
            logits = F.interpolate(coarse[None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
        return np.asarray(self.model.to_slice(logits, geometry), dtype=bool)
