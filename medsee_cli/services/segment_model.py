"""The model a `segment` batch runs, known by its identity before it is loaded.

A re-run that finds every case finished never loads the model, so what decides whether a
case is finished (`case_key`) must name the model without loading it: its registry name or
folder name, the SHA-256 of its weights and of its ``config.json`` (thresholds change results).
`ModelLoader` is the seam: `CheckpointLoader` opens a real checkpoint; tests pass a toy one.
`ask` hands its loader the sentence encoder its reasoner opened (`CheckpointLoader.reusing`), so
one encoder serves a whole run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from medsee_cli.errors import MedseeError

if TYPE_CHECKING:
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.engine.stream import SliceEngine
    from medsee_cli.reasoning.target_text import TargetTexts


class ModelFailed(Exception):
    """The model could not be opened (a damaged checkpoint, a missing encoder...): no later case
    or question of a batch can run either. ``error`` is what to tell the user."""

    def __init__(self, error: MedseeError) -> None:
        super().__init__(str(error))
        self.error = error


class ModelLoader(Protocol):
    """``identity``: name + weights digest (stable while the weights are); ``trained_targets``:
    what the checkpoint lists (empty: anything); ``open``: the engine and its target texts."""

    @property
    def identity(self) -> str: ...

    @property
    def trained_targets(self) -> tuple[str, ...]: ...

    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]: ...


@dataclass(frozen=True)
class CheckpointLoader:
    """A grounding checkpoint by registry name or folder (`engine.loading.open_engine`)."""

    spec: str
    identity: str
    trained_targets: tuple[str, ...]
    encoder: Any = field(default=None, compare=False, repr=False)  # an open sentence encoder to reuse, or None
    encoder_spec: str = "auto"  # what ``encoder`` was opened from (`reasoning.encoder.open_encoder`)

    def reusing(self, encoder: Any, spec: str) -> CheckpointLoader:
        """This loader, its target texts encoded with ``encoder`` (opened from ``spec``) when
        that is the encoder the model was trained with (`target_text.open_target_texts`)."""
        return replace(self, encoder=encoder, encoder_spec=spec)

    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]:
        from medsee_cli.engine.loading import open_engine
        from medsee_cli.reasoning.target_text import open_target_texts

        engine = open_engine(self.spec, options)
        return engine, open_target_texts(engine.model.text_encoder, self.encoder, self.encoder_spec)


def checkpoint_loader(spec: str) -> CheckpointLoader:
    """Read the checkpoint's config (not its weights); a missing or bad one raises the
    checkpoint's own error, before any work."""
    from medsee_cli.model.grounding.config import GroundingConfig
    from medsee_cli.model.grounding.model import checkpoint_folder

    folder, expected = checkpoint_folder(spec)
    config = GroundingConfig.load(folder)
    digest = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode())
    digest.update(f"\0{expected or config.weights_sha256}\0{config.base_sha256}".encode())
    identity = f"{Path(spec).name}@{digest.hexdigest()[:16]}"
    return CheckpointLoader(spec, identity, tuple(config.trained_targets))
