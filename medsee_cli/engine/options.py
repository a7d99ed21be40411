"""`EngineOptions`: every choice the slice engine takes, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
RUNTIMES = ("auto", "torch", "onnx")


@dataclass(frozen=True)
class EngineOptions:
    """How a volume is streamed through the model.

    ``device``: ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    ``precision``: ``auto`` (bf16 on CUDA with bf16 support, fp16 on MPS or older CUDA; on a CPU
    fp32 under ONNX Runtime, else bf16 where the CPU computes it natively, else fp32), ``fp32``, ``bf16`` or ``fp16`` (autocast;
    fp16 only on GPUs).
    ``batch_size``: slices per forward pass (``None``: 1 on CPU, where batching does not pay,
    8 on CUDA, 4 on MPS); halved and retried on out-of-memory.
    ``context_slices``: neighbouring slices on each side given to the model; ``None`` = what the
    model was trained with.
    ``prefetch_depth``: prepared batches waiting in the queue (bounds memory).
    ``presence_threshold``: a slice holds a target when its presence probability reaches this;
    ``None`` uses the model's own per-target thresholds (calibrated when it was trained).
    ``plausible_threshold``: after the coarse pass, slices near one at or above this (or at
    or above half a target's presence threshold, if lower) are run.
    ``skip_stride``: the coarse pass runs every ``skip_stride``-th slice; 1 runs every slice.
    ``fill_gaps``: up to this many slices without a hit between two slices with one are run
    again with that target's gate open (a structure does not vanish for a slice or two while the
    presence score dips); a filled slice is kept only if what it finds overlaps a neighbour's
    box. 0 turns this off.
    ``read_spacing_mm``: slices are read at most this far apart (every n-th slice of a thin-slice
    series, n as large as keeps the gap within it); the slices between are drawn from their read
    neighbours by shape interpolation (`engine.between`). 0 reads every slice.
    ``bridge_mm`` / ``bridge_agreement``: when thin slices are read sparsely, two read slices at
    most ``bridge_mm`` apart whose outlines of every target plausible there agree (Dice >=
    ``bridge_agreement``) are bridged: the read slices between are drawn, not run. 0 turns it off.
    ``refine``: re-segment each found box with the LiteMedSAM decoder (else the model's own mask).
    ``box_pad``: fraction a box grows by before refinement (tight boxes under-segment).
    ``min_component_voxels`` / ``min_component_slices``: 3D pieces smaller than this are
    dropped unless nothing bigger was found.
    ``threads``: torch intra-op threads for this process (CPU), when given.
    ``runtime``: what runs the image encoder: ``auto`` (ONNX Runtime in fp32 on a CPU when the
    install step exported the encoder and no lower precision is named, else torch),
    ``torch``, or ``onnx`` (an error when it cannot; `medsee_cli.model.onnx_encoder`).
    """

    device: str = "auto"
    precision: str = "auto"
    batch_size: Optional[int] = None
    context_slices: Optional[int] = None
    prefetch_depth: int = 2
    presence_threshold: Optional[float] = None
    plausible_threshold: float = 0.25
    skip_stride: int = 4
    fill_gaps: int = 2
    read_spacing_mm: float = 3.5
    bridge_mm: float = 7.0
    bridge_agreement: float = 0.8
    refine: bool = True
    box_pad: float = 0.1
    min_component_voxels: int = 20
    min_component_slices: int = 2
    channels_last: bool = True
    threads: Optional[int] = None
    runtime: str = "auto"

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {self.runtime!r}")
        if self.runtime == "onnx" and self.precision in ("bf16", "fp16"):
            raise ValueError("the ONNX encoder runs in fp32: use --precision fp32 or auto with --runtime onnx")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if (self.batch_size is not None and self.batch_size < 1) or self.prefetch_depth < 1 or self.skip_stride < 1:
            raise ValueError("batch_size, prefetch_depth and skip_stride must be at least 1")
        if self.fill_gaps < 0:
            raise ValueError("fill_gaps must be >= 0")
        if not self.read_spacing_mm >= 0 or not self.bridge_mm >= 0:
            raise ValueError("read_spacing_mm and bridge_mm must be >= 0")
        if not 0.0 <= self.bridge_agreement <= 1.0:
            raise ValueError("bridge_agreement must be within 0-1")
        if self.context_slices is not None and self.context_slices < 0:
            raise ValueError("context_slices must be >= 0")
        presence = 1.0 if self.presence_threshold is None else self.presence_threshold
        if not 0.0 <= self.plausible_threshold <= presence <= 1.0:
            raise ValueError("need 0 <= plausible_threshold <= presence_threshold <= 1")

    def batch_for(self, device_type: str) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return {"cuda": 8, "mps": 4}.get(device_type, 1)
