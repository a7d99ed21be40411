"""Knowledge-base sentence embeddings shipped with the package, so start-up does not re-encode.

The file ``data/kb_embeddings.json`` holds float16 vectors (base64) keyed by a digest of the exact
texts and of the encoder's weights. When either differs (knowledge base edited, another encoder),
the resolver encodes the texts at load instead; ``python bench/reasoning_bench.py --refresh-cache``
rewrites the file. It is plain data: JSON + base64 numbers, no pickle.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Optional

import numpy as np

CACHE_RESOURCE = "kb_embeddings.json"


def texts_digest(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def encoder_digest(folder: Path) -> str:
    """SHA-256 of the encoder's weight file (first 8 MiB + size: cheap, and changes with the weights)."""
    weights = Path(folder) / "model.safetensors"
    if not weights.is_file():
        return ""
    digest = hashlib.sha256(str(weights.stat().st_size).encode())
    with weights.open("rb") as handle:
        digest.update(handle.read(8 << 20))
    return digest.hexdigest()


def _cache_file() -> Path:
    return Path(str(resources.files("medsee_cli.reasoning").joinpath("data").joinpath(CACHE_RESOURCE)))


def load_cached(texts: list[str], folder: Path) -> Optional[np.ndarray]:
    path = _cache_file()
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("texts_sha256") != texts_digest(texts) or raw.get("encoder_sha256") != encoder_digest(folder):
            return None
        vectors = np.frombuffer(base64.b64decode(raw["data"]), dtype=np.float16).reshape(len(texts), int(raw["dim"]))
    except (ValueError, KeyError, TypeError):
        return None
    return vectors.astype(np.float32)


def save_cache(texts: list[str], folder: Path, vectors: np.ndarray, path: Optional[Path] = None) -> Path:
    from medsee_cli.io.atomic import write_text_atomic

    target = path or _cache_file()
    payload = {
        "schema": "medsee.kb_embeddings/1",
        "texts_sha256": texts_digest(texts),
        "encoder_sha256": encoder_digest(folder),
        "dim": int(vectors.shape[1]),
        "dtype": "float16",
        "data": base64.b64encode(np.ascontiguousarray(vectors, dtype=np.float16).tobytes()).decode("ascii"),
    }
    write_text_atomic(target, json.dumps(payload))
    return target
