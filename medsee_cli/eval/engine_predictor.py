"""``eval --model``: exactly what `ask` runs, from an item's text to its mask, as an evaluation `Predictor`.

There is one inference path. For each item: the question planner `ask` uses
(`services.plan`: the reasoner ranks targets for the scan in view, the same target rule picks
what to outline) and then the slice engine with its gates, passes and modality rule
and the anatomy guard (`services.targets.run_targets`). The item's prediction is the best-ranked target's finding (an
abstention, or a target the model cannot outline, predicts nothing); the row records which
target that was.

Orientation comes from the item (`Sample.affine`): a 3D item is a volume on its own grid; a 2D
item ``[row, col]`` becomes a one-slice volume on its own affine, so the engine shows the model
the radiological view of it exactly as for a DICOM or NIfTI series. A 2D item of unknown
orientation (geometry-less PNG, any of the 8 flips/rotations) gets the affine of the turn the
picture-view network names (`model.picture_view`); the row records that turn and the report counts
such items. Colour pictures are averaged to grey.

Boxes are pixel edges: (x0, y0, x1, y1) in 2D, (i0, j0, k0, i1, j1, k1) in 3D.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from medsee_cli.engine.stream import SliceEngine
from medsee_cli.eval.items import Sample
from medsee_cli.eval.metrics.boxes import box_from_mask
from medsee_cli.eval.predictor import Prediction
from medsee_cli.io.volume import Volume
from medsee_cli.model.picture_view import FOLDER as VIEW_FOLDER
from medsee_cli.model.picture_view import WEIGHTS_NAME as VIEW_WEIGHTS
from medsee_cli.model.picture_view import PictureView, ViewNet, estimate_view
from medsee_cli.model.weights import sha256_of
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.services.plan import TargetRule, plan_targets
from medsee_cli.services.targets import run_targets

if TYPE_CHECKING:
    from medsee_cli.reasoning.resolution import Reasoner

def item_volume(sample: Sample, view_net: ViewNet | None = None) -> tuple[Volume, bool, PictureView | None]:
    """An evaluation item as the volume the engine streams, whether the item is 2D, and for a picture
    without geometry the turn it was read in (by ``view_net``, else the shipped picture-view network)."""
    image = np.asarray(sample.image)
    if image.ndim == sample.target.ndim + 1:  # colour channels
        image = image[..., :3].mean(axis=-1)
        image = image.round().astype(np.uint8) if sample.image.dtype == np.uint8 else image
    if image.ndim == 2:
        affine, view = sample.affine, None
        if affine is None:
            view = estimate_view(image, view_net)
            affine = view.affine(image.shape, (float(sample.spacing[0]), float(sample.spacing[1])))
        return Volume(np.ascontiguousarray(image)[:, :, None], affine, pixel_size_known=sample.spacing_known), True, view
    if image.ndim == 3:
        affine = sample.affine if sample.affine is not None else np.diag([*map(float, sample.spacing), 1.0])
        return Volume(image, affine, pixel_size_known=sample.spacing_known), False, None
    raise ValueError(f"an evaluation image must be 2D or 3D, got shape {image.shape}")


class EnginePredictor:
    """``predict(sample, text) -> Prediction`` through ``reasoner`` -> ``engine`` with ``texts``' vectors."""

    def __init__(self, engine: SliceEngine, texts: TargetTexts, reasoner: Reasoner, rule: TargetRule = TargetRule(),
                 described: dict[str, Any] | None = None, view_net: ViewNet | None = None) -> None:
        self.engine = engine
        self.view_net = view_net  # how geometry-less pictures are turned (None: the shipped network)
        self.texts = texts
        self.reasoner = reasoner
        self.rule = rule
        self.described = dict(described or {})

    def identity(self) -> dict[str, Any]:
        """The model (name, weights and base checksums), the engine options and the target rule."""
        return {"kind": "model", **self.described, "engine": asdict(self.engine.options), "target_rule": asdict(self.rule)}

    def _model_targets(self) -> tuple[str, ...] | None:
        return self.engine.model.trained_targets or None

    def predict(self, sample: Sample, text: str) -> Prediction:
        volume, flat, view = item_volume(sample, self.view_net)
        plan = plan_targets(text, volume, self.reasoner, self._model_targets, self.rule)
        mask = np.zeros(volume.spatial_shape, dtype=bool)
        chosen = plan.names[0] if plan.names else None
        if chosen is not None:
            names = list(plan.names)
            findings, _ = run_targets(self.engine, volume, names, self.texts)
            best = findings[0]
            if best.present and best.region is not None:
                best.region.paint(mask, True)
        if flat:
            mask = mask[:, :, 0]
        return Prediction(mask=mask, box=box_from_mask(mask), target=chosen,
                          picture_turn=None if view is None else view.turn)


def load_predictor(spec: str) -> EnginePredictor:
    """``spec``: a registry name (``medsee-grounding-v1``) or a saved grounding-model folder, run
    with the reasoning backend, target rule and engine options `ask` uses by default."""
    from medsee_cli.engine.loading import open_engine
    from medsee_cli.reasoning.backends import build_reasoner
    from medsee_cli.reasoning.encoder import open_encoder
    from medsee_cli.reasoning.resolver import ReasonerOptions
    from medsee_cli.reasoning.target_text import open_target_texts

    engine = open_engine(spec)
    reasoning = ReasonerOptions()
    encoder = open_encoder(reasoning.encoder, reasoning.encoder_runtime, reasoning.threads)
    texts = open_target_texts(engine.model.text_encoder, encoder, reasoning.encoder)
    described = {**checkpoint_identity(spec),
                 "reasoning": {"encoder": reasoning.encoder, "runtime": reasoning.encoder_runtime, "llm": reasoning.llm},
                 "picture_view_sha256": sha256_of(VIEW_FOLDER / VIEW_WEIGHTS)}  # how geometry-less pictures are turned
    return EnginePredictor(engine, texts, build_reasoner(reasoning, encoder), described=described)


def checkpoint_identity(spec: str) -> dict[str, Any]:
    """A grounding checkpoint by name, folder and the SHA-256 of its weights and of its base model."""
    from medsee_cli.model.grounding.config import GroundingConfig
    from medsee_cli.model.grounding.model import WEIGHTS_NAME, checkpoint_folder

    folder, _ = checkpoint_folder(spec)
    config = GroundingConfig.load(folder)
    return {"name": spec, "folder": folder.name, "weights_sha256": sha256_of(folder / WEIGHTS_NAME),
            "base": config.base, "base_sha256": config.base_sha256}
