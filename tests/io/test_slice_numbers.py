"""Slice numbers as a viewer shows them: DICOM InstanceNumbers in medsee's own slice order (which
may run against the files'), 1-based otherwise, and the table position of each slice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from medsee_cli.io import Volume, load_volume
from medsee_cli.io.slice_numbers import INSTANCE_NUMBER, ONE_BASED, slice_numbers
from tests.io.dicom_helpers import small_series


def test_a_nifti_volume_is_numbered_from_1_with_its_z_as_table_position() -> None:
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    affine[:3, 3] = [10.0, 20.0, -100.0]
    numbers = slice_numbers(Volume(np.zeros((4, 4, 5), np.int16), affine))
    assert numbers.scheme == ONE_BASED and numbers.note == ""
    assert numbers.numbers == (1, 2, 3, 4, 5)
    assert numbers.table_mm == (-100.0, -97.5, -95.0, -92.5, -90.0)
    assert numbers.to_dict() == {"scheme": ONE_BASED, "note": None, "table_position": True}


def test_a_sagittal_stack_has_no_table_position() -> None:
    sagittal = np.array([[0, 0, 1.5, 0], [1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 0, 1]])
    numbers = slice_numbers(Volume(np.zeros((4, 4, 3), np.int16), sagittal))
    assert numbers.table_mm is None and numbers.table(0) is None and numbers.numbers == (1, 2, 3)


def test_dicom_slices_carry_their_instance_numbers_and_image_positions(tmp_path: Path) -> None:
    small_series(tmp_path / "s", n=6)
    volume = load_volume(tmp_path / "s")
    numbers = slice_numbers(volume)
    assert numbers.scheme == INSTANCE_NUMBER and numbers.numbers == (1, 2, 3, 4, 5, 6)
    _assert_positions_match_the_files(volume, numbers.numbers, numbers.table_mm, tmp_path / "s")


def test_files_numbered_head_first_come_out_reversed(tmp_path: Path) -> None:
    """InstanceNumber 1 is the top slice; medsee orders slices foot to head, so k = 0 is number 6."""
    head_first = np.diag([0.8, 0.9, -2.5, 1.0])
    head_first[:3, 3] = [0.0, 0.0, 50.0]
    small_series(tmp_path / "s", n=6, affine=head_first)
    volume = load_volume(tmp_path / "s")
    numbers = slice_numbers(volume)
    assert numbers.scheme == INSTANCE_NUMBER and numbers.numbers == (6, 5, 4, 3, 2, 1)
    assert numbers.table_mm == (37.5, 40.0, 42.5, 45.0, 47.5, 50.0)
    _assert_positions_match_the_files(volume, numbers.numbers, numbers.table_mm, tmp_path / "s")


def test_missing_or_repeated_instance_numbers_fall_back_to_1_based_with_the_reason(tmp_path: Path) -> None:
    files = sorted(small_series_files(tmp_path / "missing"))
    ds = pydicom.dcmread(files[2])
    del ds.InstanceNumber
    ds.save_as(files[2])
    numbers = slice_numbers(load_volume(tmp_path / "missing"))
    assert numbers.scheme == ONE_BASED and numbers.numbers == (1, 2, 3, 4, 5, 6)
    assert numbers.note == "1 of 6 images have no InstanceNumber"
    for path in small_series_files(tmp_path / "same"):
        ds = pydicom.dcmread(path)
        ds.InstanceNumber = 7
        ds.save_as(path)
    numbers = slice_numbers(load_volume(tmp_path / "same"))
    assert numbers.scheme == ONE_BASED and numbers.note == "the images share InstanceNumbers (1 distinct for 6 slices)"


def small_series_files(folder: Path) -> list[Path]:
    small_series(folder, n=6)
    return sorted(folder.glob("*.dcm"))


def _assert_positions_match_the_files(volume: Volume, numbers: tuple[int, ...], table: object, folder: Path) -> None:
    by_number = {int(ds.InstanceNumber): ds for ds in (pydicom.dcmread(p) for p in folder.glob("*.dcm"))}
    assert isinstance(table, tuple)
    for k, number in enumerate(numbers):
        assert volume.refs is not None and volume.refs.slices[k].instance_number == number
        assert table[k] == round(float(by_number[number].ImagePositionPatient[2]), 2)
