"""Reading model weights without pickle, checking their checksum, and loading them strictly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from medsee_cli.model.errors import CheckpointError

StateDict = dict[str, torch.Tensor]


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected_sha256: str) -> None:
    """Raise `CheckpointError` unless ``path`` exists and has the expected SHA-256."""
    if not path.is_file():
        raise CheckpointError(str(path), "model file not found")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise CheckpointError(
            str(path), f"SHA-256 mismatch (expected {expected_sha256[:12]}..., got {actual[:12]}...): corrupt or replaced file"
        )


def read_torch_state(path: Path) -> StateDict:
    """A PyTorch state dict file, read with ``weights_only=True`` (no arbitrary unpickling)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise CheckpointError(str(path), f"not a readable weights-only PyTorch file ({exc.__class__.__name__})") from exc
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(str(path), "does not hold a flat state dict of tensors")
    return dict(state)


def read_safetensors_state(path: Path) -> StateDict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(str(path), f"not a readable safetensors file ({exc})") from exc


def read_state(path: Path) -> StateDict:
    """Dispatch on the suffix: ``.safetensors`` or a PyTorch ``.pth``/``.pt`` file."""
    if path.suffix == ".safetensors":
        return read_safetensors_state(path)
    return read_torch_state(path)


def load_strict(model: nn.Module, state: StateDict, source: str) -> None:
    """Copy ``state`` into ``model``; any missing, unexpected or mis-shaped key is an error."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mis_shaped = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", mis_shaped)):
        if keys:
            shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
            problems.append(f"{len(keys)} {label} key(s): {shown}")
    if problems:
        raise CheckpointError(source, "weights do not fit the architecture: " + "; ".join(problems))
    model.load_state_dict(state, strict=True)
