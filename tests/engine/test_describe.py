"""A finding names its slices as a viewer numbers them, in the JSON and in the sentence."""

from __future__ import annotations

import numpy as np

from medsee_cli.engine.describe import describe, slice_range
from medsee_cli.io.volume import DicomRefs, SliceSource, Volume
from tests.engine.test_findings import track_from
from tests.engine.conftest import measured


def volume_with(instance_numbers: list[int] | None) -> Volume:
    data = np.full((40, 30, 12), 40, dtype=np.int16)
    affine = np.diag([0.7, 0.7, 2.5, 1.0])
    affine[:3, 3] = [0.0, 0.0, -130.0]
    refs = None if instance_numbers is None else DicomRefs(
        "1.2", "1.2.3", "1.2.4", "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1",
        tuple(SliceSource(f"1.2.5.{k}", f"IM{k}", None, n) for k, n in enumerate(instance_numbers)))
    return Volume(data, affine, modality="CT", refs=refs)


def blob() -> np.ndarray:
    mask = np.zeros((40, 30, 12), dtype=bool)
    mask[10:20, 5:15, 3:8] = True
    return mask


def test_dicom_slices_are_named_by_instance_number_and_table_position() -> None:
    finding = measured(volume_with([100 - k for k in range(12)]), track_from(blob()))
    first = finding.slices[0]
    assert (first["index"], first["number"], first["table_mm"]) == (3, 97, -122.5)
    assert [s["number"] for s in finding.slices] == [97, 96, 95, 94, 93]
    assert slice_range(finding) == "slices 93-97 (table -122.5 to -112.5 mm)"
    assert "on slices 93-97 (table -122.5 to -112.5 mm); about" in describe(finding, "liver")


def test_other_images_count_slices_from_1() -> None:
    finding = measured(volume_with(None), track_from(blob()))
    assert [s["number"] for s in finding.slices] == [4, 5, 6, 7, 8]
    assert [s["index"] for s in finding.slices] == [3, 4, 5, 6, 7]
    assert slice_range(finding) == "slices 4-8 (table -122.5 to -112.5 mm)"
    assert set(finding.slices[0]) == {"index", "number", "table_mm", "box", "score", "drawn"}
