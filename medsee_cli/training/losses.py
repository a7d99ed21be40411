"""Losses of the grounding head: mask (BCE + soft Dice), presence (BCE), box (L1 + GIoU)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def dice_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    overlap = (prob * target).sum(1)
    dice = (2 * overlap + 1.0) / (prob.sum(1) + target.sum(1) + 1.0)
    return ((1 - dice) * weight).sum() / weight.sum().clamp(min=1.0)


def giou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Generalised IoU of (N, 4) x0, y0, x1, y1 boxes."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt, rb = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    union = area_a + area_b - inter
    iou = inter / union.clamp(min=1e-6)
    hull = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(1)
    return iou - (hull - union) / hull.clamp(min=1e-6)


def grounding_loss(mask_logits: torch.Tensor, presence: torch.Tensor, boxes: torch.Tensor,
                   target_masks: torch.Tensor, present: torch.Tensor, target_boxes: torch.Tensor,
                   size: int) -> tuple[torch.Tensor, dict[str, float]]:
    """``target_masks`` (N, 256, 256) are pooled to the logits' grid as soft targets."""
    side = mask_logits.shape[-1]
    soft = F.adaptive_avg_pool2d(target_masks[:, None], side)[:, 0]
    bce = F.binary_cross_entropy_with_logits(mask_logits, soft, pos_weight=torch.tensor(3.0))
    dice = dice_loss(mask_logits, soft, present)
    presence_loss = F.binary_cross_entropy_with_logits(presence, present)
    if present.sum() > 0:
        keep = present > 0
        box_l1 = F.l1_loss(boxes[keep] / size, target_boxes[keep] / size)
        box_giou = (1 - giou(boxes[keep], target_boxes[keep])).mean()
    else:
        box_l1 = box_giou = torch.zeros(())
    total = bce + dice + 2.0 * presence_loss + 2.0 * box_l1 + 0.5 * box_giou
    parts = {name: float(value.detach()) for name, value in (("bce", bce), ("dice", dice), ("presence", presence_loss), ("box", box_giou))}
    return total, parts
