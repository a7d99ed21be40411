"""LiteMedSAM's image encoder under ONNX Runtime: the same weights, the same embeddings, faster on a CPU.

The encoder is nearly all of the time a scan costs. On this project's 2-core CPU, ONNX Runtime
runs it in about 0.7 s per slice against torch's 1.55 s (fp32; embeddings equal to 2e-6 of a
0.6 range; ``bench/encoder_runtime.py``), because it folds the batch norms into the convolutions
and fuses the activations, which eager torch does not.

The graph is exported once, at install time, beside the converted weights
(``medsee models convert litemedsam-base`` writes ``image_encoder.onnx``), from those weights; its
metadata records their SHA-256, and a graph whose record does not match the weights in use is
never run. Nothing is downloaded. Without onnxruntime, or without the file, torch runs the encoder.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from medsee_cli.io.atomic import atomic_path
from medsee_cli.model.errors import CheckpointError

log = logging.getLogger(__name__)

ENCODER_ONNX = "image_encoder.onnx"
WEIGHTS_KEY = "medsee.weights_sha256"
OPSET = 17
RUNTIMES = ("auto", "torch", "onnx")


def export_encoder(encoder: torch.nn.Module, weights_sha256: str, path: Path, image_size: int = 256) -> Path:
    """Write ``encoder`` (images (B, 3, S, S) -> embeddings) as an ONNX graph with a free batch
    size at ``path``, atomically, recording ``weights_sha256`` in its metadata."""
    import onnx

    encoder = encoder.eval()
    example = torch.zeros(1, 3, image_size, image_size)
    with atomic_path(Path(path), overwrite=True) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on traced shapes; the graph is checked by its tests
        torch.onnx.export(encoder, (example,), str(tmp), input_names=["images"], output_names=["embedding"],
                          dynamic_axes={"images": {0: "batch"}, "embedding": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
        graph = onnx.load(str(tmp))
        entry = graph.metadata_props.add()
        entry.key, entry.value = WEIGHTS_KEY, weights_sha256
        onnx.save(graph, str(tmp))
        tmp.chmod(0o644)
    return Path(path)


class OnnxEncoder:
    """``encoder(images) -> embeddings``, both torch tensors on the CPU, through an ONNX Runtime session."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        feed = np.ascontiguousarray(images.detach().float().cpu().numpy())
        return torch.from_numpy(self.session.run(["embedding"], {"images": feed})[0])


def open_onnx_encoder(path: Path, weights_sha256: str, threads: Optional[int] = None) -> OnnxEncoder:
    """The encoder graph at ``path``; `CheckpointError` when onnxruntime is missing, the file is
    missing or unreadable, or it was exported from other weights than ``weights_sha256``."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise CheckpointError(str(path), "onnxruntime is not installed (pip install onnxruntime)") from None
    if not Path(path).is_file():
        raise CheckpointError(str(path), "no ONNX encoder here (run: medsee models convert litemedsam-base)")
    settings = ort.SessionOptions()
    settings.intra_op_num_threads = threads or torch.get_num_threads()
    settings.inter_op_num_threads = 1
    settings.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), settings, providers=["CPUExecutionProvider"])
    except Exception as exc:  # a damaged or truncated file
        raise CheckpointError(str(path), f"cannot be opened by onnxruntime ({' '.join(str(exc).split())[:160]})") from None
    recorded = session.get_modelmeta().custom_metadata_map.get(WEIGHTS_KEY, "")
    if recorded != weights_sha256:
        raise CheckpointError(str(path), f"was exported from weights {recorded[:12] or 'unknown'}..., "
                                         f"not the {weights_sha256[:12]}... in use (run: medsee models convert litemedsam-base)")
    return OnnxEncoder(session)


def choose_encoder(runtime: str, path: Optional[Path], weights_sha256: str, device: torch.device,
                   threads: Optional[int] = None) -> Optional[OnnxEncoder]:
    """The ONNX encoder ``runtime`` asks for: ``torch`` none; ``onnx`` this one or an error; ``auto``
    this one on a CPU when it opens, else none (torch), with the reason logged."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if runtime == "torch":
        return None
    if device.type != "cpu":
        if runtime == "onnx":
            raise CheckpointError(str(device), "the ONNX encoder runs on the CPU only (use --runtime torch on a GPU)")
        return None
    if path is None:
        if runtime == "onnx":
            raise CheckpointError("litemedsam-base", "its weights were not converted, so there is no ONNX encoder "
                                                     "(run: medsee models convert litemedsam-base)")
        return None
    if runtime == "onnx":
        return open_onnx_encoder(path, weights_sha256, threads)
    try:
        return open_onnx_encoder(path, weights_sha256, threads)
    except CheckpointError as exc:
        log.info("image encoder on torch: %s", exc)
        return None
