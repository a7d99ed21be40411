"""Non-square pixels: the engine gives the model the display's pixel size, and what it finds maps
back to the right voxels along each in-plane axis (`model.preprocess.geometry_for`)."""

from __future__ import annotations

import numpy as np

from medsee_cli.engine.options import EngineOptions
from medsee_cli.io.volume import Volume
from medsee_cli.engine.stream import SliceEngine
from tests.engine.conftest import ball_volume, measured
from tests.engine.toy import BrightModel, vectors


def test_a_ball_on_non_square_pixels_is_found_whole_and_in_place():
    # 0.5 mm pixels down i, 1.0 mm across j: the model input is squeezed 2:1 along i, and what the toy finds
    # there (the bright voxels, a ball 8 voxels in radius) must come back onto the same voxels
    volume = ball_volume(shape=(120, 60, 40), centre=(60, 30, 20), radius=8.0, affine=np.diag([0.5, 1.0, 4.0, 1.0]))
    truth = np.asarray(volume.dataobj) > 500
    model = BrightModel(size=64)
    run = SliceEngine(model, EngineOptions(device="cpu", precision="fp32", skip_stride=1)).run(
        volume, ["bright"], vectors(["bright"]))
    assert {tuple(round(v, 6) for v in mm) for mm in model.pixel_mm_seen} == {(1.0, 0.5)}  # rows follow j here
    finding = measured(volume, run.tracks[0])
    assert finding.present and finding.pieces == 1
    assert abs(finding.voxels - int(truth.sum())) / truth.sum() < 0.15
    lo, hi = finding.box_voxel["min"], finding.box_voxel["max"]
    assert abs(lo[0] - 52) <= 2 and abs(hi[0] - 68) <= 2 and abs(lo[1] - 22) <= 2 and abs(hi[1] - 38) <= 2


def test_a_picture_of_unknown_pixel_size_is_given_none():
    # a PNG's affine assumes 1 mm per pixel: the model must not pad its "256 mm" field to a whole-body one
    from dataclasses import replace

    from medsee_cli.engine.modality import prepare_options
    from medsee_cli.io.plane_view import plane_view

    volume = ball_volume(shape=(64, 64, 1), centre=(32, 32, 0), radius=8.0, affine=np.diag([1.0, 1.0, 1.0, 1.0]))
    view = plane_view(volume.affine)
    assert prepare_options(volume, "CT", view)["pixel_mm"] == (1.0, 1.0)
    assert prepare_options(replace(volume, pixel_size_known=False), "CT", view)["pixel_mm"] is None


def test_only_a_ct_whose_field_cuts_through_the_body_is_zoomed():
    from dataclasses import replace

    from medsee_cli.engine.modality import prepare_options
    from medsee_cli.io.plane_view import plane_view

    inside = np.full((80, 80, 6), 40, np.int16)  # soft tissue to every edge: a field inside the body
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    whole = np.full((80, 80, 6), -1000, np.int16)
    whole[10:70, 10:70] = 40  # the body with air round it
    view = plane_view(affine)
    zoomed = Volume(inside, affine, modality="CT")
    assert prepare_options(zoomed, "CT", view)["zoomed"] is True
    assert prepare_options(Volume(whole, affine, modality="CT"), "CT", view)["zoomed"] is False
    assert prepare_options(replace(zoomed, pixel_size_known=False), "CT", view)["zoomed"] is False
    mr = prepare_options(Volume(inside, affine, modality="MR"), "MR", view)  # an MR's values do not say what is tissue
    assert mr["zoomed"] is False and "window" in mr
