"""One image encoder for several cases at once: their slices share forward passes.

A GPU is used well only with full batches; one case's passes often hold a few slices (a coarse
pass over a short series, the gap fills). When several cases run at once, each on its own
thread with its own `SliceEngine`, `SharedEncoder` collects the ``encode`` calls they make
within ``wait_s`` (or until ``max_batch`` slices are waiting), runs them as one batch on its
own thread under the engine's device and precision, and hands each caller its rows. Everything
else (grounding, refinement) stays on the callers' threads. `SharedModel` is the model as
each case's engine sees it: the real model, with ``encode`` going through the shared encoder.
The results are the model's own: each row is encoded exactly as in a batch of its own
(on a GPU, up to the last-bit differences any batch size brings).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Optional

import numpy as np
import torch

from medsee_cli.engine.device import running
from medsee_cli.engine.protocol import GroundingLike
from medsee_cli.model.grounding.confidence import ConfidenceMap
from medsee_cli.model.grounding.outputs import Grounding
from medsee_cli.model.preprocess import Geometry, Window

_STOP = object()


class SharedEncoder:
    """``encode(images)`` from any thread; one forward pass per collected batch."""

    def __init__(self, model: GroundingLike, device: torch.device, dtype: Optional[torch.dtype], max_batch: int,
                 wait_s: float = 0.005) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.model, self.device, self.dtype = model, device, dtype
        self.max_batch, self.wait_s = max_batch, wait_s
        self.batches: list[int] = []  # slices per forward pass run (what batching achieved)
        self._requests: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="medsee-encoder", daemon=True)
        self._thread.start()

    def encode(self, images: torch.Tensor) -> Any:
        future: Future[Any] = Future()
        self._requests.put((images, future))
        return future.result()

    def close(self) -> None:
        self._requests.put(_STOP)
        self._thread.join()

    def _serve(self) -> None:
        while True:
            first = self._requests.get()
            if first is _STOP:
                return
            waiting, stop = self._collect(first)
            self._run(waiting)
            if stop:
                return

    def _collect(self, first: tuple[torch.Tensor, Future[Any]]) -> tuple[list[tuple[torch.Tensor, Future[Any]]], bool]:
        """The first request plus those arriving within ``wait_s``, up to ``max_batch`` slices."""
        import time

        waiting = [first]
        count = len(first[0])
        deadline = time.monotonic() + self.wait_s
        while count < self.max_batch:
            left = deadline - time.monotonic()
            try:
                item = self._requests.get(timeout=left) if left > 0 else self._requests.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return waiting, True
            waiting.append(item)
            count += len(item[0])
        return waiting, False

    def _run(self, waiting: list[tuple[torch.Tensor, Future[Any]]]) -> None:
        sizes = [len(images) for images, _ in waiting]
        try:
            with running(self.device, self.dtype):
                features = self.model.encode(torch.cat([images for images, _ in waiting]))
        except BaseException as exc:  # every caller hears of it (an out-of-memory error: they retry smaller)
            for _, future in waiting:
                future.set_exception(exc)
            return
        self.batches.append(sum(sizes))
        start = 0
        for (_, future), size in zip(waiting, sizes):
            future.set_result(features[start:start + size])
            start += size


class SharedModel:
    """The model as one case's engine sees it: ``encode`` through the `SharedEncoder`."""

    def __init__(self, model: GroundingLike, encoder: SharedEncoder) -> None:
        self.model, self.encoder = model, encoder
        self.input_size = model.input_size

    @property
    def runtime(self) -> str:
        return str(getattr(self.model, "runtime", "torch"))

    @property
    def context_slices(self) -> int:
        return self.model.context_slices

    @property
    def text_encoder(self) -> str:
        return self.model.text_encoder

    @property
    def trained_targets(self) -> tuple[str, ...]:
        return self.model.trained_targets

    def presence_logit(self, target: str) -> float:
        return self.model.presence_logit(target)

    @property
    def confidence_map(self) -> Optional[ConfidenceMap]:
        return self.model.confidence_map

    def prepare(self, slices: np.ndarray, modality: str, window: Optional[Window] = None,
                pixel_mm: Optional[tuple[float, float]] = None, zoomed: bool = False) -> tuple[torch.Tensor, list[Geometry]]:
        return self.model.prepare(slices, modality, window, pixel_mm, zoomed)

    def encode(self, images: torch.Tensor) -> Any:
        return self.encoder.encode(images)

    def ground(self, features: Any, text: torch.Tensor) -> Grounding:
        return self.model.ground(features, text)

    def refine(self, features: Any, index: int, boxes: torch.Tensor) -> torch.Tensor:
        return self.model.refine(features, index, boxes)

    def to_slice(self, logits: torch.Tensor, geometry: Geometry) -> np.ndarray:
        return self.model.to_slice(logits, geometry)
