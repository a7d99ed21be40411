"""`GroundingModel`: a frozen LiteMedSAM plus the trained grounding head, built once.

The engine calls, per batch of slices: ``prepare`` (window, resize, pad), ``encode`` (the
expensive frozen encoder), ``ground`` (cheap head, for any number of target text vectors), then for
slices the presence gate keeps, ``refine`` (LiteMedSAM's box-prompted decoder on boxes drawn
around the coarse mask) and ``to_slice`` (back onto the slice grid). Saved folders hold the
head only (``config.json`` + ``model.safetensors``); the base encoder is named and pinned by
SHA-256 in the config and loaded from the registry.

The model holds no text encoder and no precision of its own: callers pass target text vectors
made with the sentence encoder its config names (``config.text_encoder``), and the caller's
autocast (the engine's, or training's) decides the precision. Every call runs in inference
mode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.grounding.confidence import ConfidenceMap
from medsee_cli.model.grounding.config import CONFIG_NAME, GroundingConfig
from medsee_cli.model.grounding.head import GroundingHead
from medsee_cli.model.grounding.outputs import Features, Grounding
from medsee_cli.model.litemedsam import LiteMedSAM
from medsee_cli.model.onnx_encoder import ENCODER_ONNX, OnnxEncoder, choose_encoder
from medsee_cli.model.preprocess import Geometry, Window, image_tensor, restore_logits, to_uint8, window_for
from medsee_cli.model.registry import DEFAULT_GROUNDING

WEIGHTS_NAME = "model.safetensors"


def _load_base(name: str, pinned: str) -> tuple[LiteMedSAM, BaseFiles]:
    from medsee_cli.model.pretrained import load_checkpoint
    from medsee_cli.model.registry import get_entry

    if pinned and pinned not in {source.sha256 for source in get_entry(name).sources}:
        raise CheckpointError(name, f"the grounding head was trained on base weights {pinned[:12]}..., which the registry does not list")
    loaded = load_checkpoint(name)
    onnx = loaded.path.parent / ENCODER_ONNX if loaded.kind == "safetensors" else None
    return loaded.model, BaseFiles(onnx, loaded.sha256)


@dataclass(frozen=True)
class BaseFiles:
    """Where the base's ONNX encoder would be (``None``: the weights were not converted) and the
    SHA-256 of the weights loaded, which that encoder must have been exported from."""

    onnx: Optional[Path] = None
    weights_sha256: str = ""


class GroundingModel:
    def __init__(self, config: GroundingConfig, head: GroundingHead, base: LiteMedSAM, *, device: str = "cpu",
                 base_files: BaseFiles = BaseFiles()) -> None:
        self.config = config
        self.base_files = base_files
        self._onnx: Optional[OnnxEncoder] = None
        self.device = torch.device(device)
        self.head = head.to(self.device).eval()
        self.base = base.to(self.device).eval()
        for parameter in self.base.parameters():
            parameter.requires_grad_(False)
        self.input_size = config.image_size

    # ----- what the engine asks of any grounding model (`engine.protocol.GroundingLike`) -------
    @property
    def context_slices(self) -> int:
        """Neighbouring slices per side the model takes: none (one slice as 3 grey channels)."""
        return 0

    @property
    def text_encoder(self) -> str:
        """The sentence encoder target texts must be encoded with (the one the head was trained on)."""
        return self.config.text_encoder

    @property
    def trained_targets(self) -> tuple[str, ...]:
        """The target names the head was trained on; the engine outlines only these by name."""
        return self.config.trained_targets

    def presence_logit(self, target: str) -> float:
        """The logit above which ``target`` counts as present on a slice (calibrated per target)."""
        return self.config.presence_logit(target)

    @property
    def confidence_map(self) -> Optional[ConfidenceMap]:
        """What a finding's score means on CT (``config.json``'s ``confidence_map``)."""
        return self.config.confidence

    # ----- construction, saving, loading -------------------------------------------------
    @classmethod
    def from_config(cls, config: GroundingConfig, base: LiteMedSAM | str | None = None, *, device: str = "cpu") -> GroundingModel:
        """A randomly initialised head on ``base`` (a loaded LiteMedSAM or a registry name)."""
        files = BaseFiles()
        if not isinstance(base, LiteMedSAM):
            base, files = _load_base(base or config.base, config.base_sha256)
        return cls(config, GroundingHead(config), base, device=device, base_files=files)

    @classmethod
    def from_pretrained(cls, folder: Path | str, *, expected_sha256: str | None = None, base: LiteMedSAM | None = None,
                        device: str = "cpu") -> GroundingModel:
        from medsee_cli.model.weights import load_strict, read_state, verify_checksum

        folder = Path(folder)
        weights = folder / WEIGHTS_NAME
        if not (folder / CONFIG_NAME).is_file() or not weights.is_file():
            raise CheckpointError(str(folder), f"not a grounding model folder (needs {CONFIG_NAME} and {WEIGHTS_NAME})")
        config = GroundingConfig.load(folder)
        if not (expected_sha256 or config.weights_sha256):
            raise CheckpointError(str(folder), f"no integrity record: {CONFIG_NAME} has no weights_sha256 for {WEIGHTS_NAME} "
                                               "(save it again with `medsee train --init FOLDER`)")
        for expected in {expected_sha256, config.weights_sha256} - {None, ""}:
            verify_checksum(weights, str(expected))
        head = GroundingHead(config)
        load_strict(head, read_state(weights), str(weights))
        files = BaseFiles()
        if base is None:
            base, files = _load_base(config.base, config.base_sha256)
        return cls(config, head, base, device=device, base_files=files)

    @classmethod
    def load(cls, spec: str = DEFAULT_GROUNDING, *, device: str = "cpu", base: LiteMedSAM | None = None,
             runtime: str = "torch") -> GroundingModel:
        """A registry name (e.g. ``medsee-grounding-v1``) or a saved folder; ``runtime``: what runs
        the image encoder (`use_runtime`)."""
        folder, expected = checkpoint_folder(spec)
        model = cls.from_pretrained(folder, expected_sha256=expected, base=base, device=device)
        model.use_runtime(runtime)
        return model

    def save_pretrained(self, folder: Path | str) -> Path:
        """Write the head's weights (``model.safetensors``) and ``config.json`` atomically."""
        from safetensors.torch import save_file

        from medsee_cli.io.atomic import atomic_path

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {key: value.detach().float().cpu().contiguous() for key, value in self.head.state_dict().items()}
        target = folder / WEIGHTS_NAME
        with atomic_path(target, overwrite=True) as tmp:
            save_file(tensors, str(tmp), metadata={"format": "pt"})
            tmp.chmod(0o644)
        from medsee_cli.model.weights import sha256_of

        self.config = replace(self.config, weights_sha256=sha256_of(target))
        self.config.save(folder)
        return target

    # ----- inference -----------------------------------------------------------------------
    def prepare(self, slices: np.ndarray, modality: str, window: Window | None = None,
                pixel_mm: Optional[tuple[float, float]] = None, zoomed: bool = False) -> tuple[torch.Tensor, list[Geometry]]:
        """(B, rows, cols) raw values in display orientation -> (B, 3, 256, 256) inputs + geometries.

        CT uses the default abdomen window; other modalities need ``window`` computed over the
        whole volume (``preprocess.window_for(modality, volume_values)``), else the batch's
        own percentiles are used. uint8 slices pass through unwindowed. ``pixel_mm`` (row
        height, column width of the display) keeps non-square pixels in proportion; a ``zoomed``
        field (one cutting through the body) of known pixel size is padded to the config's
        ``min_field_mm``.
        """
        slices = np.asarray(slices)
        if slices.ndim == 2:
            slices = slices[None]
        if slices.dtype != np.uint8 or window is not None:
            window = window or window_for(modality, slices)
            slices = np.stack([to_uint8(s, window) for s in slices])
        tensors, geometries = [], []
        for plane in slices:
            tensor, geometry = image_tensor(plane, self.input_size, pixel_mm, self.config.min_field_mm if zoomed else 0.0)
            tensors.append(tensor)
            geometries.append(geometry)
        return torch.cat(tensors).to(self.device), geometries

    def use_runtime(self, runtime: str = "auto", threads: Optional[int] = None) -> str:
        """Pick what runs the image encoder (`onnx_encoder.choose_encoder`); returns ``"onnx"`` or ``"torch"``."""
        self._onnx = choose_encoder(runtime, self.base_files.onnx, self.base_files.weights_sha256, self.device, threads)
        return self.runtime

    @property
    def runtime(self) -> str:
        """What runs the image encoder: ``onnx`` (ONNX Runtime, CPU, fp32) or ``torch``."""
        return "onnx" if self._onnx is not None else "torch"

    def encode(self, images: torch.Tensor) -> Features:
        """The image embeddings of prepared slices: ONNX Runtime when chosen (`use_runtime`) and no
        lower-precision autocast is on, else torch (under the caller's autocast)."""
        if self._onnx is not None and not torch.is_autocast_enabled("cpu"):
            embedding = self._onnx(images)
        else:
            with torch.inference_mode():
                embedding = self.base.embed(images.to(self.device))
        return Features(embedding, images[:, :1].to(self.device))

    def ground(self, features: Features, text: torch.Tensor) -> Grounding:
        """Every slice against every text: (B, T) presence, (B, T, h, w) mask logits, (B, T, 4) boxes."""
        batch, count = len(features), int(text.shape[0])
        embedding = features.embedding.repeat_interleave(count, dim=0)
        image = features.image.repeat_interleave(count, dim=0)
        texts = text.to(self.device).repeat(batch, 1)
        with torch.inference_mode():
            masks, presence, boxes = self.head(embedding, image.to(embedding.dtype), texts)
        side = masks.shape[-1]
        return Grounding(
            masks.float().view(batch, count, side, side),
            presence.float().view(batch, count),
            boxes.float().view(batch, count, 4),
            self.config.mask_stride,
        )

    def refine(self, features: Features, index: int, boxes: torch.Tensor) -> torch.Tensor:
        """(N, 4) boxes in input pixels -> (N, 256, 256) mask logits from LiteMedSAM's decoder."""
        boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        if boxes.shape[0] == 0:
            return torch.zeros((0, self.input_size, self.input_size))
        with torch.inference_mode():
            logits, _ = self.base.decode_boxes(features.embedding[index:index + 1], boxes.to(self.device))
        return logits[:, 0].float()

    def to_slice(self, logits: torch.Tensor, geometry: Geometry) -> np.ndarray:
        """(..., h, w) logits on the square input (any h = w dividing it) -> (..., rows, cols) bool."""
        logits = torch.as_tensor(logits).float()
        lead, side = logits.shape[:-2], logits.shape[-1]
        flat = logits.reshape(-1, 1, side, side)
        if side != self.input_size:
            flat = F.interpolate(flat, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        restored = restore_logits(flat, geometry) > 0
        return restored.reshape(*lead, *geometry.original).cpu().numpy()


def checkpoint_folder(spec: str = DEFAULT_GROUNDING) -> tuple[Path, str | None]:
    """Where the grounding model ``spec`` (a registry name or a saved folder) lives, and the
    SHA-256 the registry expects of its weights (``None`` for a folder: its config.json has it)."""
    from medsee_cli.model.registry import get_entry, locate

    path = Path(spec).expanduser()
    if path.is_dir():
        return path, None
    found = locate(get_entry(spec))
    if found.entry.architecture != "grounding":
        raise CheckpointError(spec, f"is a {found.entry.architecture} checkpoint, not a grounding model")
    return found.path.parent, found.source.sha256
