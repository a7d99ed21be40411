"""A lesion lies in its organ (`anatomy.host`): on the real CT, outlines taken from its label map stand
for what the model drew. A "lesion" lying in the duodenum, or beside the liver on a slice where the
liver is outlined, is dropped and the finding says why; a real-sized lesion left out of its organ's
outline as a hole, or reaching a little past its edge, stands."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from medsee_cli.anatomy.host import ELSEWHERE, hold_to_host
from medsee_cli.anatomy.placement import Placement
from medsee_cli.anatomy.scan_anatomy import scan_anatomy
from medsee_cli.engine.findings import finding, trusted_outlines
from medsee_cli.measure.region import RegionMask, crop
from medsee_cli.reasoning.placement import placement_of
from tests.anatomy.test_finding_guard import track_of


def region_of(mask: np.ndarray) -> RegionMask:
    cropped = crop(RegionMask((0, 0, 0), mask))
    assert cropped is not None
    return cropped


def ball(shape: tuple[int, ...], centre: np.ndarray, radius: float) -> np.ndarray:
    grid = np.indices(shape, sparse=True)
    return sum((g - c) ** 2 for g, c in zip(grid, centre)) <= radius ** 2  # type: ignore[no-any-return]


def deep_point(organ: np.ndarray, depth: float) -> np.ndarray:
    """A voxel at least ``depth`` voxels inside ``organ``."""
    inside = np.argwhere(ndimage.distance_transform_edt(organ) >= depth)
    return inside[len(inside) // 2]


def test_placements_name_each_lesions_organ_and_neighbours() -> None:
    for lesion, organ in (("liver_lesion", "liver"), ("kidney_lesion", "kidneys"), ("pancreatic_lesion", "pancreas")):
        placement = placement_of(lesion)
        assert placement.within == organ and organ not in placement.not_within and placement.not_within
        assert placement.companions[0] == organ
    assert placement_of("liver").companions == ()


def test_a_pancreatic_lesion_lying_in_the_duodenum_is_dropped(patient_a) -> None:
    volume, labels, ids = patient_a
    duodenum = labels == ids["duodenum"]
    fake = duodenum & ball(labels.shape, deep_point(duodenum, 2), 4)
    assert fake.sum() > 20
    found = finding(volume, track_of("pancreatic_lesion", fake), modality="CT", placement=placement_of("pancreatic_lesion"),
                    outlines={"duodenum": region_of(duodenum), "pancreas": region_of(labels == ids["pancreas"])})
    assert not found.present
    assert [d.reason for d in found.dropped] == [ELSEWHERE] and found.dropped[0].voxels == fake.sum()


def test_a_lesion_left_out_of_its_organs_outline_as_a_hole_stands(patient_a) -> None:
    volume, labels, ids = patient_a
    liver = labels == ids["liver"]
    lesion = ball(labels.shape, deep_point(liver, 6), 4)
    found = finding(volume, track_of("liver_lesion", lesion), modality="CT", placement=placement_of("liver_lesion"),
                    outlines={"liver": region_of(liver & ~lesion)})
    assert found.present and found.voxels == lesion.sum() and found.dropped == ()


def test_beside_the_organ_on_its_slices_is_elsewhere(patient_a) -> None:
    volume, labels, ids = patient_a
    liver = labels == ids["liver"]
    body = np.asarray(volume.array()) > -300
    outside = body & ~ndimage.binary_dilation(liver, iterations=8)  # > 24 mm from the liver
    outside[:, :, ~liver.any(axis=(0, 1))] = False  # on the liver's slices
    lump = outside & ball(labels.shape, deep_point(outside, 4), 3)
    kept, dropped = hold_to_host(region_of(lump), Placement(within="liver"), {"liver": region_of(liver)},
                                 scan_anatomy(volume))
    assert kept is None and dropped[0].reason == ELSEWHERE and dropped[0].voxels == lump.sum()


def test_lesions_under_the_surface_cut_out_of_the_organs_outline_stand(patient_a) -> None:
    volume, labels, ids = patient_a
    liver = labels == ids["liver"]
    depth = ndimage.distance_transform_edt(liver)
    under = np.argwhere((depth >= 1.5) & (depth < 2.5))  # centres 4.5-7.5 mm under the surface
    scan = scan_anatomy(volume)
    for n, centre in enumerate(under[:: len(under) // 12][:12]):
        lesion = ball(labels.shape, centre, 2 + n % 3) & ndimage.binary_dilation(liver)  # 12-24 mm across
        kept, dropped = hold_to_host(region_of(lesion), Placement(within="liver"), {"liver": region_of(liver & ~lesion)},
                                     scan)
        assert dropped == () and kept is not None and kept.voxels == lesion.sum(), (n, centre)


def test_without_its_organ_or_neighbours_outlined_a_lesion_is_left_alone(patient_a) -> None:
    volume, labels, ids = patient_a
    lesion = region_of(ball(labels.shape, deep_point(labels == ids["liver"], 6), 4))
    scan = scan_anatomy(volume)
    assert hold_to_host(lesion, placement_of("liver_lesion"), {}, scan) == (lesion, ())
    assert hold_to_host(lesion, placement_of("liver_lesion"), {"aorta": lesion}, scan) == (lesion, ())


def test_only_undoubted_outlines_found_in_the_run_are_evidence(patient_a) -> None:
    volume, labels, ids = patient_a
    liver, spleen = labels == ids["liver"], labels == ids["spleen"]
    right = finding(volume, track_of("liver", liver), modality="CT", placement=placement_of("liver"))
    doubted = finding(volume, track_of("liver", spleen), modality="CT", placement=placement_of("liver"))  # on the left
    absent = finding(volume, track_of("gallbladder", labels == ids["urinary_bladder"]), modality="CT",
                     placement=placement_of("gallbladder"))  # off level: dropped
    assert doubted.concerns and not absent.present
    assert list(trusted_outlines([right, doubted, absent])) == ["liver"]


def test_the_shipped_model_no_longer_reports_the_duodenum_as_a_pancreatic_lesion(patient_a, tmp_path) -> None:
    """patient_a has no pancreatic lesion; on its held-out slices 86-95 the shipped model outlines a piece
    of the duodenum as one. Asked for the lesion alone, the engine also outlines its organ and
    neighbours on the same slices, drops that piece and reports only what was asked."""
    import nibabel as nib

    from medsee_cli.services.segment import SegmentOptions, segment

    volume, _, _ = patient_a
    block = tmp_path / "patient_a_86-95.nii.gz"
    nib.save(nib.Nifti1Image(np.asarray(volume.array())[:, :, 86:96], volume.affine @ np.array(
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 86], [0, 0, 0, 1]])), str(block))
    (case,) = segment([block], SegmentOptions(out=tmp_path / "out", targets=("pancreatic_lesion",), formats=("json",)))
    assert case.ok and [f.target for f in case.findings] == ["pancreatic_lesion"]
    (lesion,) = case.findings
    assert not lesion.present and [d.reason for d in lesion.dropped] == [ELSEWHERE]


def test_an_organ_looked_for_on_some_slices_only_is_still_evidence(patient_a) -> None:
    """A companion is outlined only on the slices a lesion question runs: its volume and pieces say
    nothing there, so it is held to its level, side and HU only (`Placement.as_companion`)."""
    volume, labels, ids = patient_a
    liver = labels == ids["liver"]
    levels = np.flatnonzero(liver.any(axis=(0, 1)))
    partial = liver.copy()
    partial[:, :, levels[len(levels) // 2 + 4:]] = False  # a block of slices around a lesion ...
    partial[:, :, levels[0]:levels[len(levels) // 2 - 4]] = False
    partial[:, :, levels[2]] = liver[:, :, levels[2]]  # ... and a slice of the coarse pass, apart
    whole = finding(volume, track_of("liver", partial), modality="CT", placement=placement_of("liver"))
    assert whole.concerns and list(trusted_outlines([whole])) == []  # read as an organ: far too small
    companion = finding(volume, track_of("liver", partial), modality="CT", placement=placement_of("liver").as_companion())
    assert companion.concerns == () and list(trusted_outlines([companion])) == ["liver"]
    assert placement_of("liver").as_companion().regions == placement_of("liver").regions
