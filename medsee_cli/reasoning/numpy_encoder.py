"""A BERT sentence encoder (all-MiniLM-L6-v2) computed with NumPy alone: fast to load, no torch.

Weights come from the model folder's ``model.safetensors`` (read with ``safetensors.numpy``, no
pickle), word pieces from its ``tokenizer.json`` (the Rust ``tokenizers`` package). The forward
pass is the standard BERT encoder: word + position + token-type embeddings and LayerNorm, then
per layer multi-head self-attention and a GELU feed-forward block, each followed by a residual
LayerNorm. Sentence vectors are the mean over real (unpadded) tokens, scaled to unit length,
which is what sentence-transformers computes for this model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError

MAX_TOKENS = 128

# Abramowitz & Stegun 7.1.26 rational approximation of erf (absolute error below 1.5e-7).
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: np.ndarray) -> np.ndarray:
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * x)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    return sign * (1.0 - poly * np.exp(-x * x))


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU BERT uses: x * Phi(x)."""
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 1e-12 else vector).astype(np.float32)


def span_pooled(hidden: np.ndarray, offsets: list[tuple[int, int]], spans: list[tuple[int, int]]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Mean pooling of one text's token states (``hidden``: tokens x dim, no padding): over every token
    (the sentence vector), and over the tokens inside each character span; all scaled to unit length."""
    parts = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        inside = [i for i, (a, b) in enumerate(offsets) if b > a and a >= start and b <= end]
        if inside:
            parts[row] = _unit(hidden[inside].mean(axis=0))
    return _unit(hidden.mean(axis=0)), parts


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3 * hidden), already transposed for x @ w
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


def _config(folder: Path) -> dict:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(str(folder), "is not a sentence-encoder folder (no readable config.json)") from None
    if config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu":
        raise InputError(str(folder), "holds no BERT model with GELU; use the transformers encoder runtime")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise InputError(str(folder), "uses relative positions, which the NumPy encoder does not implement")
    return config


class NumpySentenceEncoder:
    """Turns sentences into unit-length vectors; cosine similarity is then a dot product."""

    def __init__(self, folder: Path, *, threads: int = 0, batch_size: int = 64) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        config = _config(self.folder)
        weights_file, tokenizer_file = self.folder / "model.safetensors", self.folder / "tokenizer.json"
        for needed in (weights_file, tokenizer_file):
            if not needed.is_file():
                raise InputError(str(self.folder), f"has no {needed.name}")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.batch_size = batch_size
        self.threads = threads
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")
        w = load_file(str(weights_file))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def get(name: str) -> np.ndarray:
            try:
                return np.ascontiguousarray(w[prefix + name], dtype=np.float32)
            except KeyError:
                raise InputError(str(weights_file), f"has no tensor {prefix + name}") from None

        self.word = get("embeddings.word_embeddings.weight")
        self.position = get("embeddings.position_embeddings.weight")
        self.token_type = get("embeddings.token_type_embeddings.weight")
        self.embed_norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.layers = tuple(self._layer(get, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"])))

    @staticmethod
    def _layer(get, p: str) -> _Layer:
        attention = p + "attention."
        qkv_w = np.concatenate([get(f"{attention}self.{n}.weight") for n in ("query", "key", "value")], axis=0)
        qkv_b = np.concatenate([get(f"{attention}self.{n}.bias") for n in ("query", "key", "value")])
        return _Layer(
            qkv_w=np.ascontiguousarray(qkv_w.T), qkv_b=qkv_b,
            out_w=np.ascontiguousarray(get(attention + "output.dense.weight").T),
            out_b=get(attention + "output.dense.bias"),
            norm1=(get(attention + "output.LayerNorm.weight"), get(attention + "output.LayerNorm.bias")),
            up_w=np.ascontiguousarray(get(p + "intermediate.dense.weight").T), up_b=get(p + "intermediate.dense.bias"),
            down_w=np.ascontiguousarray(get(p + "output.dense.weight").T), down_b=get(p + "output.dense.bias"),
            norm2=(get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
        )

    def encode(self, texts: list[str]) -> np.ndarray:
        from medsee_cli.reasoning.blas_threads import blas_threads

        # one thread unless asked: these products are small, and shared cores make threads wait
        # batches of similar length waste little work on padding; the result keeps the input order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        with blas_threads(self.threads or 1):
            chunks = [self._batch(ordered[i:i + self.batch_size]) for i in range(0, len(ordered), self.batch_size)]
        if not chunks:
            return np.zeros((0, self.hidden), dtype=np.float32)
        vectors = np.empty((len(texts), self.hidden), dtype=np.float32)
        vectors[order] = np.concatenate(chunks, axis=0)
        return vectors

    def encode_parts(self, text: str, spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass over ``text``: its sentence vector, and one vector per character span
        [start, end) pooled from that span's tokens alone (in the context of the whole text). A span
        with no token (cut off at ``MAX_TOKENS``) gets a zero vector."""
        from medsee_cli.reasoning.blas_threads import blas_threads

        encoding = self.tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.float32)
        with blas_threads(self.threads or 1):
            hidden = self._forward(ids, np.array([encoding.type_ids], dtype=np.int64), mask)[0]
        return span_pooled(hidden, encoding.offsets, spans)

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = self._forward(ids, types, mask)
        weights = mask[:, :, None]
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        x = self.word[ids] + self.position[:length][None] + self.token_type[types]
        x = layer_norm(x, *self.embed_norm, self.eps)
        heads, size = self.heads, self.hidden // self.heads
        scale = np.float32(1.0 / np.sqrt(size))
        # padded keys get a large negative score, so they take no attention weight
        key_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = layer_norm(context @ layer.out_w + layer.out_b + x, *layer.norm1, self.eps)
            up = gelu(x @ layer.up_w + layer.up_b)
            x = layer_norm(up @ layer.down_w + layer.down_b + x, *layer.norm2, self.eps)
        return x
