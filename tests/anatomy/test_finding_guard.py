"""The guard inside the engine's findings: a real organ called by the wrong name is dropped or
doubted, the document says what and why, and the sentence never states a doubtful finding plainly."""

from __future__ import annotations

import numpy as np

from medsee_cli.anatomy.guard import OFF_LEVEL
from medsee_cli.engine.describe import describe
from medsee_cli.engine.findings import finding
from medsee_cli.engine.tracks import SliceHit, TargetTrack
from medsee_cli.reasoning.placement import placement_of


def track_of(name: str, mask: np.ndarray, score: float = 0.99) -> TargetTrack:
    """What the engine would hold had the model found ``mask`` on every slice at ``score``."""
    track = TargetTrack(name, mask.shape[2])
    for k in range(mask.shape[2]):
        track.record(k, score if mask[:, :, k].any() else 0.0, SliceHit.from_mask(k, score, mask[:, :, k]))
    return track


def test_the_bladder_called_gallbladder_is_not_found_and_says_why(patient_a) -> None:
    volume, labels, ids = patient_a
    bladder = labels == ids["urinary_bladder"]
    found = finding(volume, track_of("gallbladder", bladder), modality="CT", placement=placement_of("gallbladder"))
    assert not found.present
    assert [d.reason for d in found.dropped] == [OFF_LEVEL]
    assert abs(found.dropped[0].volume_ml - bladder.sum() * volume.voxel_volume_ml) < 0.01
    assert describe(found, "gallbladder") == (f"Gallbladder: not found in this scan (what the model outlined, "
                                              f"{found.dropped[0].volume_ml:.1f} mL, was set aside: {OFF_LEVEL}; it may have missed it).")
    document = found.document()
    assert document["present"] is False and document["dropped"][0]["reason"] == OFF_LEVEL


def test_an_organ_on_the_unusual_side_is_doubted_not_stated(patient_a) -> None:
    volume, labels, ids = patient_a
    spleen = labels == ids["spleen"]
    found = finding(volume, track_of("liver", spleen), modality="CT", placement=placement_of("liver"))
    assert found.present and found.concerns
    sentence = describe(found, "liver")
    assert "but doubtful" in sentence and "patient's left" in sentence  # small, but cut off by the scan: not doubted for that
    assert found.document()["concerns"] == list(found.concerns)


def test_a_plausible_finding_reads_as_before(patient_a) -> None:
    volume, labels, ids = patient_a
    liver = labels == ids["liver"]
    found = finding(volume, track_of("liver", liver), modality="CT", placement=placement_of("liver"))
    assert found.present and found.concerns == () and found.dropped == ()
    assert found.voxels == liver.sum()
    assert describe(found, "liver").endswith("(model score 0.99, not calibrated for this kind of scan).")


def test_a_finding_with_a_mean_hu_its_target_cannot_have_is_doubted(patient_a) -> None:
    volume, labels, ids = patient_a
    liver = labels == ids["liver"]
    found = finding(volume, track_of("lungs", liver), modality="CT", placement=placement_of("lungs"))
    assert found.present and any("HU is outside the usual -1000 to -400 HU" in c for c in found.concerns)
    assert "but doubtful: its mean" in describe(found, "lungs")
