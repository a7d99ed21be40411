"""One slice, one target: presence gate -> coarse mask -> a box per piece -> LiteMedSAM refine.

The reference way to turn a `Grounding` into a final mask on the 256x256 model input; the
engine may batch the same steps differently. Boxes come from the coarse mask (one per
8-connected piece, padded 10%, as DESIGN.md found best), not from the box-regression head,
which gives one box per slice and cannot separate pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from medsee_cli.model.boxes import boxes_from_mask
from medsee_cli.model.grounding.outputs import Features

if TYPE_CHECKING:
    from medsee_cli.model.grounding.model import GroundingModel


class Refiner(Protocol):
    """What `refine_mask` needs of a model: its input side and LiteMedSAM's box decoder."""

    input_size: int

    def refine(self, features: Features, index: int, boxes: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class RefineOptions:
    presence_threshold: float = 0.0  # logit
    mask_threshold: float = 0.0  # logit, coarse mask
    pad_fraction: float = 0.1
    min_pixels: int = 3  # smallest coarse piece (in coarse-grid pixels) that gets a box
    keep_coarse: bool = True  # clip refined masks to the dilated coarse mask (stops leaks)


def gate_for(model: GroundingModel, target: str, options: RefineOptions = RefineOptions()) -> RefineOptions:
    """``options`` with the model's own presence gate for ``target`` (calibrated when trained)."""
    return replace(options, presence_threshold=model.config.presence_logit(target))


def coarse_boxes(mask_logits: torch.Tensor, stride: int, options: RefineOptions = RefineOptions()) -> np.ndarray:
    """(h, w) coarse logits -> (N, 4) padded boxes in model-input pixels, one per piece."""
    mask = (mask_logits > options.mask_threshold).cpu().numpy()
    boxes = boxes_from_mask(mask, options.pad_fraction, options.min_pixels)
    if len(boxes):
        boxes = boxes * stride
        boxes[:, 2:] += stride - 1
    return boxes.astype(np.float32)


def refine_mask(model: Refiner, features: Features, index: int, mask_logits: torch.Tensor, presence_logit: float,
                options: RefineOptions = RefineOptions()) -> tuple[torch.Tensor, np.ndarray]:
    """Final (256, 256) mask logits for one slice and target, and the boxes that prompted them.

    Returns all -inf-like logits (empty mask) when the presence gate is closed or no piece is found.
    """
    size = model.input_size
    empty = torch.full((size, size), -20.0)
    if presence_logit <= options.presence_threshold:
        return empty, np.zeros((0, 4), np.float32)
    stride = size // mask_logits.shape[-1]
    boxes = coarse_boxes(mask_logits, stride, options)
    if len(boxes) == 0:
        return empty, boxes
    refined = model.refine(features, index, torch.from_numpy(boxes)).cpu()
    logits = refined.max(dim=0).values
    if options.keep_coarse:
        coarse = torch.nn.functional.interpolate(mask_logits[None, None].float().cpu(), size=(size, size), mode="bilinear", align_corners=False)[0, 0]
        grown = torch.nn.functional.max_pool2d((coarse > options.mask_threshold).float()[None, None], 2 * stride + 1, 1, stride)[0, 0]
        logits = torch.where(grown > 0, logits, torch.full_like(logits, -20.0))
    return logits, boxes
