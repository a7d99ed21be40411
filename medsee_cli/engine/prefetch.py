"""Background prefetch: read slabs lazily, build context windows and prepare model input.

A producer thread walks the requested slice indices in batches, reads only the slices each
batch needs from the `Volume` (``slab``), turns them into ``(B, rows, cols)`` or
``(B, rows, cols, 2c+1)`` arrays and calls the model's ``prepare``; the consumer (the model
loop) takes prepared batches from a bounded queue, so reading and pre-processing overlap the
forward passes while at most ``depth`` batches wait in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medsee_cli.io.volume import Volume
from medsee_cli.model.grounding.orientation import PlaneView, plane_view

_DONE = object()


@dataclass(frozen=True)
class PreparedBatch:
    indices: tuple[int, ...]  # slice indices k, in order
    images: torch.Tensor  # (B, C, S, S) model input (on the target device when pinned/moved)
    geometries: list[Any]


def read_slices(volume: Volume, indices: Sequence[int], context: int, view: PlaneView | None = None) -> np.ndarray:
    """Slices ``indices`` as ``(B, rows, cols)`` (``context`` = 0) or ``(B, rows, cols, 2c+1)``.

    ``view`` turns array axes (i, j) into the display (rows, cols) the model was trained on
    (default: the volume's radiological view). Reads one contiguous slab when the indices are
    dense, else one small slab per index; the neighbours of the first and last slices repeat
    the edge slice. Values keep the source dtype.
    """
    view = view or plane_view(volume.affine)
    depth = volume.spatial_shape[2]
    lo, hi = max(0, min(indices) - context), min(depth, max(indices) + context + 1)
    needed = len(indices) * (2 * context + 1)
    if hi - lo <= 2 * needed:
        slab = volume.slab(lo, hi)  # (I, J, n)
        windows = [_window(slab, k - lo, context, lo, depth) for k in indices]
    else:
        windows = []
        for k in indices:
            a, b = max(0, k - context), min(depth, k + context + 1)
            windows.append(_window(volume.slab(a, b), k - a, context, a, depth))
    stacked = np.stack(windows).transpose(0, 3, 1, 2)  # (B, 2c+1, I, J)
    shown = np.moveaxis(view.to_display(stacked), 1, -1)  # (B, rows, cols, 2c+1)
    return np.ascontiguousarray(shown[..., 0] if context == 0 else shown)


def _window(slab: np.ndarray, centre: int, context: int, offset: int, depth: int) -> np.ndarray:
    picks = [min(max(centre + d + offset, 0), depth - 1) - offset for d in range(-context, context + 1)]
    return np.stack([slab[:, :, p] for p in picks], axis=-1)


class Prefetcher:
    """Iterate over `PreparedBatch` objects made on a background thread.

    ``device`` is where the model runs: CUDA inputs are pinned and copied asynchronously.
    Errors in the thread are raised in the consumer; closing early stops the thread.
    """

    def __init__(self, volume: Volume, model: Any, indices: Sequence[int], *, batch_size: int, context: int,
                 depth: int = 2, device: torch.device | None = None, channels_last: bool = True,
                 view: PlaneView | None = None, modality: str | None = None, prepare_kwargs: dict[str, Any] | None = None) -> None:
        self.volume = volume
        self.model = model
        self.indices = [int(k) for k in indices]
        self.batch_size = batch_size
        self.context = context
        self.device = device or torch.device("cpu")
        self.channels_last = channels_last
        self.view = view or plane_view(volume.affine)
        self.prepare_kwargs = prepare_kwargs or {}
        self.modality = modality or volume.modality
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="medsee-prefetch", daemon=True)
        self.batches_made = 0

    def _prepare(self, chunk: list[int]) -> PreparedBatch:
        slices = read_slices(self.volume, chunk, self.context, self.view)
        images, geometries = self.model.prepare(slices, self.modality, **self.prepare_kwargs)
        if self.channels_last and images.dim() == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        if self.device.type == "cuda" and images.device.type == "cpu":
            images = images.pin_memory().to(self.device, non_blocking=True)
        elif images.device != self.device:
            images = images.to(self.device)
        return PreparedBatch(tuple(chunk), images, list(geometries))

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for start in range(0, len(self.indices), self.batch_size):
                if self._stop.is_set():
                    return
                batch = self._prepare(self.indices[start:start + self.batch_size])
                self.batches_made += 1
                if not self._put(batch):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
            return
        self._put(_DONE)

    def __iter__(self) -> Iterator[PreparedBatch]:
        if not self.indices:
            return
        self._thread.start()
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
