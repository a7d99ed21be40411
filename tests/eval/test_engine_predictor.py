"""``eval --model`` runs the slice engine `ask` and `segment` run (one inference path)."""

from __future__ import annotations

import numpy as np

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.eval.engine_predictor import EnginePredictor, item_volume
from medsee_cli.io.plane_view import plane_view
from medsee_cli.reasoning.target_text import TargetTexts
from tests.engine.toy import BrightModel, vectors


class ToyEncoder:
    """Sentence "encoder" of the toy model: the level a name stands for (see `toy.vectors`)."""

    def encode(self, texts: list[str]) -> np.ndarray:
        return vectors(list(texts))


def predictor(model: BrightModel) -> EnginePredictor:
    engine = SliceEngine(model, EngineOptions(device="cpu", precision="fp32", skip_stride=1))
    return EnginePredictor(engine, TargetTexts(ToyEncoder()))


def test_a_2d_item_is_segmented_as_displayed_without_rotation() -> None:
    image = np.zeros((60, 80), np.int16)
    image[5:20, 50:70] = 1000  # an asymmetric bright block: top right of the picture
    model = BrightModel()
    mask, box = predictor(model).predict(image, "bright")
    assert mask.shape == image.shape and model.encoded == [1]  # one slice, one forward pass
    truth = image > 500
    assert (mask & truth).sum() / (mask | truth).sum() > 0.8
    assert box is not None and abs(box[0] - 50) <= 2 and abs(box[1] - 5) <= 2  # x0, y0: the same corner
    # The one-slice volume's radiological view is the picture itself.
    volume, flat = item_volume(image)
    assert flat and np.array_equal(plane_view(volume.affine).to_display(np.asarray(volume.dataobj)[:, :, 0]), image)


def test_a_3d_item_goes_through_the_engine_passes() -> None:
    image = np.zeros((40, 40, 12), np.int16)
    image[10:20, 22:30, 3:9] = 1000
    model = BrightModel()
    mask, box = predictor(model).predict(image, "bright")
    assert mask.shape == image.shape and sum(model.encoded) == 12
    assert np.array_equal(mask.any(axis=(0, 1)), (image > 500).any(axis=(0, 1)))
    assert box == (10.0, 22.0, 3.0, 20.0, 30.0, 9.0)


def test_an_absent_target_gives_an_empty_mask() -> None:
    mask, box = predictor(BrightModel()).predict(np.zeros((30, 30), np.int16), "bright")
    assert not mask.any() and box is None
