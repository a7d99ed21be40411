"""Frozen-encoder features cached once per source, so training the head never re-runs LiteMedSAM.

One ``<source>-<key>.safetensors`` per source under the cache folder: embeddings (N, 256, 64,
64) fp16, model-input images (N, 256, 256) uint8 and target masks on the 256x256 input grid
(bit-packed), plus a JSON sidecar listing, per slice, its present targets (with mask index)
and known negatives. The key hashes the source spec, the targets and the base weights, so a
changed recipe re-encodes only what changed. The cache lives outside the package.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from medsee_cli.engine.device import autocast_dtype, running
from medsee_cli.model.grounding.model import GroundingModel

from medsee_cli.io.atomic import atomic_path, write_text_atomic
from medsee_cli.model.preprocess import Geometry, cuts_body
from medsee_cli.training.recipe import SourceSpec
from medsee_cli.training.slices import LabelledSlice, labelled_slices

SIDE = 256


@dataclass
class CachedSource:
    name: str
    role: str
    embeddings: torch.Tensor  # (N, 256, 64, 64) float16
    images: torch.Tensor  # (N, 256, 256) uint8
    masks: np.ndarray  # (M, 256*256/8) uint8 bit-packed, on the 256 input grid
    slices: list[dict]  # per slice: volume, index, positives {target: mask row}, negatives [targets]

    def mask(self, row: int) -> np.ndarray:
        return np.unpackbits(self.masks[row])[: SIDE * SIDE].reshape(SIDE, SIDE).astype(bool)


def input_mask(mask: np.ndarray, geometry: Geometry) -> np.ndarray:
    """A (rows, cols) slice mask -> the (256, 256) bool mask on the padded model input, placed
    where ``geometry`` placed its slice."""
    tensor = torch.from_numpy(mask.astype(np.float32))[None, None]
    resized = F.interpolate(tensor, size=geometry.resized, mode="bilinear", align_corners=False)[0, 0] > 0.5
    out = np.zeros((SIDE, SIDE), dtype=bool)
    out[: geometry.resized[0], : geometry.resized[1]] = resized.numpy()
    return out


def cache_key(spec: SourceSpec, targets: list[str], base_sha: str, min_field_mm: float = 0.0) -> str:
    """The source's pictures change with its spec, the targets, the base weights and the model's
    smallest field of view. Fields left out of the spec's repr (added after version 3) and the
    field of view count only when set, so adding one does not re-encode every cache."""
    later: tuple[tuple[Any, ...], ...] = tuple((f.name, getattr(spec, f.name)) for f in fields(spec)
                                               if not f.repr and getattr(spec, f.name) != f.default)
    if min_field_mm:
        later += (("min_field_mm", float(min_field_mm), "zoomed fields only"),)
    text = repr((spec, sorted(targets), base_sha, 3) + ((later,) if later else ()))  # 3: phantoms in several contrast phases
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _placement(model: GroundingModel, item: LabelledSlice) -> tuple[tuple[float, float] | None, bool]:
    """How a training picture is placed (``pixel_mm``, ``zoomed`` of `GroundingModel.prepare`): as
    the engine places it where the model pads zoomed fields, else with neither (every slice fills
    the input, the geometry the shipped checkpoint was trained with)."""
    if not model.config.min_field_mm:
        return None, False
    return item.pixel_mm, cuts_body([item.image])


def _encode(model: GroundingModel, batch: list[LabelledSlice]) -> tuple[torch.Tensor, torch.Tensor, list[Geometry]]:
    """The batch's embeddings and model-input pictures, and where each slice sits in the input."""
    prepared = [model.prepare(item.image, "OT", None, *_placement(model, item)) for item in batch]
    stacked = torch.cat([tensor for tensor, _ in prepared])
    # the frozen encoder runs once per slice at the engine's automatic precision (bf16 where the
    # processor computes it natively: half the cost); the model takes its precision from the caller
    with running(model.device, autocast_dtype(model.device, "auto")):
        features = model.encode(stacked)
    pixels = (features.image[:, 0] * 255.0).round().clamp(0, 255).to(torch.uint8)
    return features.embedding.to(torch.float16).cpu(), pixels.cpu(), [geometry for _, (geometry,) in prepared]


def build_source(model: GroundingModel, spec: SourceSpec, targets: list[str], folder: Path, base_sha: str,
                 log: Callable[[str], None] = lambda _: None, batch_size: int = 4) -> CachedSource:
    folder = Path(folder)
    key = cache_key(spec, targets, base_sha, model.config.min_field_mm)
    tensors_path = folder / f"{spec.name}-{key}.safetensors"
    meta_path = folder / f"{spec.name}-{key}.json"
    if tensors_path.is_file() and meta_path.is_file():
        return read_source(tensors_path, meta_path)
    started = time.perf_counter()
    items = list(labelled_slices(spec, targets))
    embeddings, images, slices = [], [], []
    masks: list[np.ndarray] = []
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        emb, pix, geometries = _encode(model, batch)
        embeddings.append(emb)
        images.append(pix)
        for item, geometry in zip(batch, geometries):
            positives = {}
            for target, mask in item.masks.items():
                positives[target] = len(masks)
                masks.append(np.packbits(input_mask(mask, geometry).ravel()))
            slices.append({"volume": item.volume, "index": item.index, "positives": positives, "negatives": list(item.negatives)})
        log(f"  {spec.name}: {min(start + batch_size, len(items))}/{len(items)} slices encoded")
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    mask_array = np.stack(masks) if masks else np.zeros((0, SIDE * SIDE // 8), dtype=np.uint8)
    tensors = {"embeddings": torch.cat(embeddings).contiguous(), "images": torch.cat(images).contiguous(),
               "masks": torch.from_numpy(mask_array).contiguous()}
    with atomic_path(tensors_path, overwrite=True) as tmp:
        save_file(tensors, str(tmp))
    meta = {"name": spec.name, "role": spec.role, "slices": slices, "seconds": round(time.perf_counter() - started, 1)}
    write_text_atomic(meta_path, json.dumps(meta))
    log(f"  {spec.name}: {len(items)} slices in {meta['seconds']} s")
    return read_source(tensors_path, meta_path)


def read_source(tensors_path: Path, meta_path: Path) -> CachedSource:
    from safetensors.torch import load_file

    tensors = load_file(str(tensors_path))
    meta = json.loads(Path(meta_path).read_text(encoding="utf-8"))
    return CachedSource(meta["name"], meta["role"], tensors["embeddings"], tensors["images"], tensors["masks"].numpy(), meta["slices"])
