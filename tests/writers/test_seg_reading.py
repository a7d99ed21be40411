"""Reading third-party DICOM-SEGs: the pydicom-data liver SEG in all 9 encodings, RLE decoding,
and one-line errors for SEGs that cannot be read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.encaps import encapsulate, generate_frames

from medsee_cli.errors import InputError
from medsee_cli.io import load_volume
from medsee_cli.writers.dicom_read import read_seg, read_seg_on
from medsee_cli.reasoning.codes import Code
from medsee_cli.writers.rle import RLEError, decode_segments, unpack_segment
from medsee_cli.writers.seg_dataset import read_seg_dataset

ALIGNED = ["liver.dcm", "liver_j2k.dcm", "liver_rle.dcm", "liver_deflate.dcm", "liver_expb.dcm"]
NON_BYTE_ALIGNED = ["liver_nonbyte_aligned.dcm", "liver_nonbyte_aligned_j2k.dcm",
                    "liver_nonbyte_aligned_rle.dcm", "liver_nonbyte_aligned_deflate.dcm"]


@pytest.fixture(scope="module")
def liver(shared_data: Path):  # type: ignore[no-untyped-def]
    volume, _ = read_seg(shared_data / "dicom/pydicom_data/liver.dcm")
    return volume


@pytest.mark.parametrize("name", ALIGNED + NON_BYTE_ALIGNED)
def test_every_liver_seg_encoding_reads_to_the_same_mask(shared_data: Path, liver, name: str) -> None:  # type: ignore[no-untyped-def]
    """Uncompressed, JPEG 2000, RLE (1 bit), deflated frames and big endian: voxel for voxel the
    mask of liver.dcm (the 510x510 variants are its top-left 510x510 crop)."""
    volume, table = read_seg(shared_data / "dicom/pydicom_data" / name)
    assert [label.name for label in table] == ["Liver"]
    assert table.get(1).type == Code("T-62000", "Liver", "SRT")  # legacy SNOMED RT coding, read as is
    expected = np.asarray(liver.dataobj)
    if name in NON_BYTE_ALIGNED:
        expected = expected[:510, :510]
    got = np.asarray(volume.dataobj)
    assert got.shape == expected.shape and np.array_equal(got, expected)
    assert int(got.sum()) == 107098
    assert np.allclose(volume.affine, liver.affine, atol=1e-6)


def test_reads_every_highdicom_test_seg(shared_data: Path) -> None:
    """CT (binary, fractional, overlapping, single frame), CR without a frame of reference, and
    slide-microscopy SEGs (binary, labelmap, palette colour, tiled): all 12 read."""
    root = shared_data / "dicom/highdicom_test_files"
    read = {p.name: read_seg(p) for p in sorted(root.glob("seg_*.dcm"))}
    assert len(read) == 12
    for name, (volume, table) in read.items():
        array = np.asarray(volume.dataobj)
        assert array.any() and set(np.unique(array)) - {0} <= set(table.values), name
    binary = np.asarray(read["seg_image_ct_binary.dcm"][0].dataobj)
    for variant in ("seg_image_ct_binary_fractional.dcm", "seg_image_ct_true_fractional.dcm"):
        assert np.array_equal(np.asarray(read[variant][0].dataobj), binary), variant  # thresholded at 0.5
    overlap = np.asarray(read["seg_image_ct_binary_overlap.dcm"][0].dataobj)
    assert set(np.unique(overlap)) == {0, 1, 2}
    cr, _ = read["seg_image_cr_binary.dcm"]
    assert cr.spatial_shape == (16, 16, 1) and int(np.asarray(cr.dataobj).sum()) == 151
    assert cr.notes == ("no patient coordinates: pixel grid only",)
    source = load_volume(root / "ct_image.dcm")
    labelmap, _ = read_seg_on(root / "seg_image_ct_binary_single_frame.dcm", source)
    assert labelmap.shape == source.spatial_shape
    assert np.array_equal(labelmap, np.asarray(read["seg_image_ct_binary_single_frame.dcm"][0].dataobj))


def test_big_endian_seg_becomes_the_little_endian_file_element_for_element(shared_data: Path) -> None:
    ours = read_seg_dataset(shared_data / "dicom/pydicom_data/liver_expb.dcm")
    ref = pydicom.dcmread(shared_data / "dicom/pydicom_data/liver.dcm")
    assert ours.file_meta.TransferSyntaxUID == ref.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"

    def leaves(ds):  # type: ignore[no-untyped-def]
        return {(e.tag, e.VR, repr(e.value)) for e in ds.iterall() if e.VR != "SQ"}

    assert leaves(ours) == leaves(ref)  # PixelData (OB) included: no byte swap for 1-bit frames


@pytest.mark.parametrize("encoded", ["liver_nonbyte_aligned_deflate.dcm", "liver_nonbyte_aligned_rle.dcm"])
def test_decoded_frames_are_rejoined_bit_by_bit(shared_data: Path, encoded: str) -> None:
    """510x510 1-bit frames are 32512.5 bytes: native pixel data must not pad each frame."""
    ours = read_seg_dataset(shared_data / "dicom/pydicom_data" / encoded)
    native = pydicom.dcmread(shared_data / "dicom/pydicom_data/liver_nonbyte_aligned.dcm")
    assert len(native.PixelData) == 97538  # 3 x 510 x 510 bits = 97537.5 bytes, one pad byte
    assert ours.PixelData == native.PixelData


def test_packbits_reference_vector() -> None:
    """The PackBits example from Apple's Technical Note TN1023."""
    encoded = bytes.fromhex("FE AA 02 80 00 2A FD AA 03 80 00 2A 22 F7 AA")
    decoded = bytes.fromhex("AA AA AA 80 00 2A AA AA AA AA 80 00 2A 22 AA AA AA AA AA AA AA AA AA AA")
    assert unpack_segment(encoded, len(decoded)) == decoded
    assert unpack_segment(bytes([128]) + encoded, len(decoded)) == decoded  # 128 is a no-op
    with pytest.raises(RLEError, match="24 bytes, 30 expected"):
        unpack_segment(encoded, 30)


def _packbits(data: bytes) -> bytes:
    """A plain PackBits encoder for the tests: runs of 3+ equal bytes replicated, others literal."""
    out, literal, pos = bytearray(), bytearray(), 0

    def flush() -> None:
        for start in range(0, len(literal), 128):
            chunk = literal[start:start + 128]
            out.extend([len(chunk) - 1, *chunk])
        literal.clear()

    while pos < len(data):
        run = 1
        while pos + run < len(data) and data[pos + run] == data[pos] and run < 128:
            run += 1
        if run >= 3:
            flush()
            out.extend([257 - run, data[pos]])
        else:
            literal.extend(data[pos:pos + run])
        pos += run
    flush()
    return bytes(out) + b"\0" * (len(out) % 2)  # segments are padded to an even length


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(1, 300)), min_size=1, max_size=30))
def test_rle_frame_round_trip(runs: list[tuple[int, int]]) -> None:
    data = b"".join(bytes([value]) * count for value, count in runs)
    segment = _packbits(data)
    header = np.zeros(16, "<u4")
    header[0], header[1] = 1, 64
    assert decode_segments(header.tobytes() + segment, len(data)) == [data]


def test_rle_header_errors_are_named() -> None:
    with pytest.raises(RLEError, match="shorter than the 64-byte"):
        decode_segments(b"\0" * 10, 4)
    header = np.zeros(16, "<u4")
    header[0], header[1] = 2, 64
    header[2] = 999
    with pytest.raises(RLEError, match="do not fit"):
        decode_segments(header.tobytes() + b"\0" * 8, 4)


def _with_frame_replaced(source: Path, target: Path, frame: int, data: bytes) -> Path:
    ds = pydicom.dcmread(source)
    frames = list(generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames)))
    frames[frame] = data
    ds.PixelData = encapsulate(frames)
    pydicom.dcmwrite(target, ds, implicit_vr=False, little_endian=True)
    return target


def _with_frame_garbled(source: Path, target: Path, frame: int) -> Path:
    """A copy with one frame's bytes overwritten in place (pydicom cannot write this syntax)."""
    raw = source.read_bytes()
    ds = pydicom.dcmread(source)
    encoded = list(generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames)))[frame]
    assert raw.count(encoded) == 1
    target.write_bytes(raw.replace(encoded, b"\xff" * len(encoded)))  # 0xff: reserved DEFLATE block type
    return target


def test_unreadable_segs_give_one_line_errors_naming_the_file(tmp_path: Path, shared_data: Path) -> None:
    root = shared_data / "dicom/pydicom_data"
    rle = pydicom.dcmread(root / "liver_rle.dcm")
    first = next(generate_frames(rle.PixelData, number_of_frames=3))
    broken = {
        "truncated_rle.dcm": _with_frame_replaced(root / "liver_rle.dcm", tmp_path / "truncated_rle.dcm", 1,
                                                  first[:200]),
        "garbage_deflate.dcm": _with_frame_garbled(root / "liver_deflate.dcm", tmp_path / "garbage_deflate.dcm", 2),
        "text.dcm": tmp_path / "text.dcm",
        "ct_image.dcm": shared_data / "dicom/highdicom_test_files/ct_image.dcm",  # an image, not a SEG
    }
    broken["text.dcm"].write_text("not DICOM at all\n")
    for name, path in broken.items():
        with pytest.raises(InputError) as info:
            read_seg(path)
        message = str(info.value)
        assert name in message and "\n" not in message, message
    assert (root / "liver_rle.dcm").stat().st_size == 10766  # inputs untouched
