"""The picture-view network: turns, the affine of a turned picture, the 8-look vote, the shipped weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsee_cli.io.load import load_volume
from medsee_cli.io.plane_view import plane_view
from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.picture_view import (TURNS, PictureView, estimate_view, grey_picture, load_view_net, then, turned,
                                           undo)


def radiological(path: Path, k: int) -> np.ndarray:
    volume = load_volume(path)
    return plane_view(volume.affine).to_display(np.asarray(volume.array(), dtype=np.float32)[:, :, k])


def test_turns_compose_and_undo() -> None:
    picture = np.arange(12).reshape(3, 4)
    for first in range(TURNS):
        assert np.array_equal(turned(turned(picture, first), undo(first)), picture)
        for second in range(TURNS):
            assert np.array_equal(turned(turned(picture, first), second), turned(picture, then(first, second)))
    assert len({turned(picture, t).tobytes() + bytes(turned(picture, t).shape) for t in range(TURNS)}) == TURNS


@pytest.mark.parametrize("turn", range(TURNS))
def test_the_affine_of_a_turned_picture_shows_it_radiologically(turn: int) -> None:
    display = np.arange(15, dtype=np.float32).reshape(3, 5)  # not square: a transpose must show
    picture = turned(display, turn)
    view = PictureView(turn=turn, probability=1.0)
    assert np.array_equal(view.to_display(picture), display)
    spacing = (0.5, 0.8)  # the picture's own row height and column width
    shown = plane_view(view.affine(picture.shape, spacing))
    assert np.array_equal(shown.to_display(picture), display)
    expected_mm = (spacing[1], spacing[0]) if turn & 1 else spacing
    assert shown.pixel_mm == pytest.approx(expected_mm) and shown.left_edge == "R"


def test_hounsfield_units_and_bytes_look_alike_to_the_network(shared_data: Path) -> None:
    hu = radiological(shared_data / "ct" / "patient_a" / "ct.nii.gz", 90)
    byte = (np.clip((hu + 160.0) / 400.0, 0, 1) * 255).round().astype(np.uint8)  # the same slice, windowed 40/400
    assert np.abs(grey_picture(hu) - grey_picture(byte)).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("source, k", [("ct/patient_a/ct.nii.gz", 90), ("ct/lesions_deeplesion/case_000009_03_01_036-048_image.nii.gz", 6)])
def test_the_shipped_network_names_each_turn_of_a_training_slice(shared_data: Path, source: str, k: int) -> None:
    """Slices it was trained on: this checks that the weights load and the 8 looks are mapped back to
    the picture, not that it generalises (bench/picture_view.py holds whole patients out)."""
    display = radiological(shared_data / source, k)
    for turn in range(TURNS):
        found = estimate_view(turned(display, turn))
        assert found.turn == turn and 0.0 < found.probability <= 1.0


def test_missing_weights_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="picture-view model file not found"):
        load_view_net.__wrapped__(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="safetensors"):
        load_view_net.__wrapped__(tmp_path)
