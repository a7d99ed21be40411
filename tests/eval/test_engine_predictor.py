"""``eval --model`` runs what `ask` runs: the question planner, then the slice engine, on the item's own orientation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.eval import EvalItem, EvalOptions, PredictorSource, Sample, evaluate
from medsee_cli.eval.engine_predictor import EnginePredictor, item_volume
from medsee_cli.eval.items import Dataset, plane_affine, plane_of
from medsee_cli.io.load import load_volume
from medsee_cli.io.plane_view import plane_view
from medsee_cli.model.picture_view import turned
from medsee_cli.reasoning.target_text import TargetTexts
from tests.engine.toy import BrightModel, vectors


class ToyEncoder:
    """Sentence "encoder" of the toy model: the level a name stands for (see `toy.vectors`)."""

    def encode(self, texts: list[str]) -> np.ndarray:
        return vectors(list(texts))


class AnteriorModel(BrightModel):
    """Finds bright voxels in the top (anterior) half of the picture it is shown only: a model
    that, like the real one, depends on seeing the radiological view."""

    def ground(self, features, text):
        out = super().ground(features, text)
        logits = out.mask_logits.clone()
        logits[..., logits.shape[-2] // 2 :, :] = -10.0
        return type(out)(logits, logits.amax(dim=(2, 3)) * 4.0, out.boxes, out.stride)

    def refine(self, features, index, boxes):
        out = super().refine(features, index, boxes)
        out[:, self.input_size // 2 :, :] = -10.0
        return out


@pytest.fixture(scope="module")
def reasoner():
    from medsee_cli.reasoning.backends import build_reasoner
    from medsee_cli.reasoning.encoder import open_encoder
    from medsee_cli.reasoning.resolver import ReasonerOptions

    options = ReasonerOptions()
    return build_reasoner(options, open_encoder(options.encoder, options.encoder_runtime, options.threads))


def predictor(model: BrightModel, reasoner) -> EnginePredictor:
    engine = SliceEngine(model, EngineOptions(device="cpu", precision="fp32", skip_stride=1))
    return EnginePredictor(engine, TargetTexts(ToyEncoder()), reasoner)


def two_blocks() -> tuple[np.ndarray, np.ndarray]:
    """A 64 x 64 x 3 RAS+ volume (identity affine) with a bright block anterior (high j) and one
    posterior; the anterior one is the truth. 1500 = the toy level of any knowledge-base name."""
    volume = np.zeros((64, 64, 3), np.int16)
    volume[10:30, 44:56, :] = 2000  # anterior
    volume[34:54, 8:20, :] = 2000  # posterior
    truth = np.zeros(volume.shape, bool)
    truth[10:30, 44:56, :] = True
    return volume, truth


def score(sample: Sample, text: str, ndim: int, model: BrightModel, reasoner) -> dict:
    item = EvalItem("item", "case", "liver", text, ndim, lambda: sample)
    result = evaluate(Dataset("toy", (item,)), PredictorSource(predictor(model, reasoner)), EvalOptions(surface=False, worst=0))
    return result.rows[0]


def test_ground_truth_through_the_path_scores_one_and_a_rotated_copy_does_not(reasoner) -> None:
    volume, truth = two_blocks()
    affine = plane_affine(np.eye(4), 1)
    item = Sample(image=plane_of(volume, 1), target=plane_of(truth, 1), spacing=(1.0, 1.0), affine=affine)
    row = score(item, "where is the liver?", 2, AnteriorModel(), reasoner)
    assert row["iou"] == 1.0 and row["predicted_target"] == "liver"
    rotated = Sample(image=np.rot90(item.image, 2).copy(), target=np.rot90(item.target, 2).copy(), spacing=(1.0, 1.0), affine=affine)
    assert score(rotated, "where is the liver?", 2, AnteriorModel(), reasoner)["iou"] == 0.0


def test_a_3d_item_is_shown_to_the_model_in_its_own_orientation(reasoner) -> None:
    volume, truth = two_blocks()
    lps = np.diag([-1.0, -1.0, 1.0, 1.0])  # the same anatomy stored L-P-S, as many NIfTI exports are
    stored, stored_truth = volume[::-1, ::-1].copy(), truth[::-1, ::-1].copy()
    right = score(Sample(stored, stored_truth, (1.0, 1.0, 1.0), affine=lps), "segment the liver", 3, AnteriorModel(), reasoner)
    assert right["iou"] == 1.0
    wrong = score(Sample(stored, stored_truth, (1.0, 1.0, 1.0), affine=np.eye(4)), "segment the liver", 3, AnteriorModel(), reasoner)
    assert wrong["iou"] == 0.0  # taken as RAS+ (what eval did before items carried their affine)


def test_a_picture_with_an_affine_keeps_it(reasoner) -> None:
    volume, truth = two_blocks()
    affine = plane_affine(np.eye(4), 1)
    sample = Sample(plane_of(volume, 1).copy(), plane_of(truth, 1).copy(), (1.0, 1.0), affine=affine)
    as_volume, flat, view = item_volume(sample)
    assert flat and view is None and np.array_equal(as_volume.affine, affine)


@pytest.mark.parametrize("turn", [0, 3, 4, 6])
def test_a_picture_of_unknown_orientation_is_read_in_the_turn_the_network_names(shared_data, turn: int) -> None:
    """A real CT slice as an 8-bit PNG would hold it, turned: the engine gets it back radiologically."""
    ct = load_volume(shared_data / "ct" / "patient_a" / "ct.nii.gz")
    hu = plane_view(ct.affine).to_display(np.asarray(ct.array(), dtype=np.float32)[:, :, 88])
    display = (np.clip((hu + 160.0) / 400.0, 0, 1) * 255).round().astype(np.uint8)
    picture = turned(display, turn)
    as_volume, flat, view = item_volume(Sample(picture, np.zeros(picture.shape, bool), (1.0, 1.0)))
    assert flat and view is not None and view.turn == turn
    assert np.array_equal(plane_view(as_volume.affine).to_display(np.asarray(as_volume.array())[:, :, 0]), display)


def test_the_report_says_which_turn_a_picture_was_read_in(reasoner) -> None:
    volume, truth = two_blocks()
    sample = Sample(plane_of(volume, 1).copy(), plane_of(truth, 1).copy(), (1.0, 1.0))
    item = EvalItem("item", "case", "liver", "where is the liver?", 2, lambda: sample)
    result = evaluate(Dataset("toy", (item,)), PredictorSource(predictor(AnteriorModel(), reasoner)),
                      EvalOptions(surface=False, worst=0))
    assert result.rows[0]["picture_turn"] in range(8) and result.rows[0]["orientation_known"] is False
    assert any("picture-view network" in note for note in result.notes)


def test_the_question_goes_through_reasoning(reasoner) -> None:
    """A question that is not about the scan abstains, as in `ask`: nothing is predicted."""
    volume, truth = two_blocks()
    sample = Sample(volume, truth, (1.0, 1.0, 1.0), affine=np.eye(4))
    model = AnteriorModel()
    row = score(sample, "what is the capital of France?", 3, model, reasoner)
    assert row["predicted_present"] is False and row["predicted_target"] == "" and model.encoded == []


def test_the_answer_is_the_best_ranked_target(reasoner) -> None:
    volume, truth = two_blocks()
    model = AnteriorModel()
    prediction = predictor(model, reasoner).predict(Sample(volume, truth, (1.0, 1.0, 1.0), affine=np.eye(4)), "the left kidney")
    assert prediction.target == "kidney_left" and prediction.mask is not None and np.array_equal(prediction.mask, truth)
    # one pass over the volume for every target the plan holds; on these 1 mm slices it reads slices 0 and 2 (at
    # most 3.5 mm apart, and the last) and draws slice 1 between them, as `ask` does
    assert sum(model.encoded) == 2
    assert torch.get_num_threads() >= 1
