"""The grounding model as an evaluation `Predictor`: ``predict(image, text) -> (mask, box)``.

``medsee eval --model NAME|PATH`` loads it through ``load_predictor``. Conventions follow
`medsee_cli.eval.items`: a 2D image is ``[row, col]`` (optionally with colour channels, then
averaged to grey) and is taken as already displayed (radiological orientation); a 3D image is
``[i, j, k]`` on a RAS+ voxel grid (as medsee's readers return it) and is processed slice by
slice along k. Intensities: uint8 images pass through, images with values below -500 are
treated as CT in Hounsfield units (abdomen window), anything else is windowed on its own
percentiles. Boxes are pixel edges: (x0, y0, x1, y1) in 2D, (i0, j0, k0, i1, j1, k1) in 3D.
"""

from __future__ import annotations

import numpy as np

from medsee_cli.model.grounding.orientation import plane_view
from medsee_cli.model.grounding.pipeline import RefineOptions, gate_for, refine_mask
from medsee_cli.model.preprocess import Window, ct_window, window_for


def _window(image: np.ndarray) -> Window | None:
    if image.dtype == np.uint8:
        return None
    if float(np.nanmin(image)) < -500:
        return ct_window()
    return window_for("MR", image)


def _box(mask: np.ndarray) -> tuple[float, ...] | None:
    found = np.argwhere(mask)
    if len(found) == 0:
        return None
    low, high = found.min(0), found.max(0) + 1
    if mask.ndim == 2:  # (row, col) -> (x0, y0, x1, y1)
        return (float(low[1]), float(low[0]), float(high[1]), float(high[0]))
    return tuple(float(v) for v in (*low, *high))


class GroundingPredictor:
    def __init__(self, model, options: RefineOptions | None = None) -> None:  # type: ignore[no-untyped-def]
        """Without ``options``, a text that names a calibrated target uses that target's gate."""
        self.model = model
        self.options = options

    def _options(self, text: str) -> RefineOptions:
        if self.options is not None:
            return self.options
        return gate_for(self.model, text)

    def _slice_mask(self, plane: np.ndarray, text: np.ndarray, window: Window | None, options: RefineOptions) -> np.ndarray:
        images, geometries = self.model.prepare(plane[None], "OT", window)
        features = self.model.encode(images)
        grounding = self.model.ground(features, text)
        logits, _ = refine_mask(self.model, features, 0, grounding.mask_logits[0, 0], float(grounding.presence_logits[0, 0]), options)
        return self.model.to_slice(logits, geometries[0])

    def predict(self, image: np.ndarray, text: str) -> tuple[np.ndarray, tuple[float, ...] | None]:
        image = np.asarray(image)
        vector = self.model.text_vectors([text])
        if image.ndim == 3 and image.shape[-1] in (3, 4) and image.dtype == np.uint8:
            image = image[..., :3].mean(axis=-1).round().astype(np.uint8)
        window = _window(image)
        options = self._options(text)
        if image.ndim == 2:
            mask = self._slice_mask(image, vector, window, options)
            return mask, _box(mask)
        view = plane_view(np.eye(4))
        mask = np.zeros(image.shape[:3], dtype=bool)
        for k in range(image.shape[2]):
            display = view.to_display(image[:, :, k])
            mask[:, :, k] = view.from_display(self._slice_mask(np.ascontiguousarray(display), vector, window, options))
        return mask, _box(mask)


def load_predictor(spec: str) -> GroundingPredictor:
    """``spec``: a registry name (``medsee-grounding-v1``) or a saved grounding-model folder."""
    from medsee_cli.model.grounding.model import GroundingModel

    return GroundingPredictor(GroundingModel.load(spec))
