"""The edits the quirk corpus applies: each turns a list of real datasets (one per file, in
slice order) into what a PACS export or an anonymiser leaves. Used by `tests/quirks/corpus.py`.

Edits that reproduce problems reported on public issue trackers name the tracker and the issue
in their docstring (no code was taken from them).
"""

from __future__ import annotations

import copy
import hashlib
import struct
from collections.abc import Callable

import numpy as np
import pydicom
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

Mutation = Callable[[list[Dataset]], list[Dataset] | None]


def fresh_uid(name: str, source_key: str, old: str) -> str:
    """A deterministic UID (2.25 form) for ``old`` in variant ``name`` of ``source_key``."""
    digest = hashlib.sha256(f"{name}|{source_key}|{old}".encode()).hexdigest()
    return "2.25." + str(int(digest[:30], 16))


# ---------------------------------------------------------------- small editing helpers


def each(edit: Callable[[Dataset], None]) -> Mutation:
    def run(datasets: list[Dataset]) -> None:
        for ds in datasets:
            edit(ds)

    return run


def middle(edit: Callable[[Dataset], None]) -> Mutation:
    def run(datasets: list[Dataset]) -> None:
        edit(datasets[len(datasets) // 2])

    return run


def blank(*keywords: str) -> Callable[[Dataset], None]:
    def edit(ds: Dataset) -> None:
        for keyword in keywords:
            if keyword in ds:
                ds[keyword].value = ""
            else:
                ds[keyword] = DataElement(Tag(keyword), pydicom.datadict.dictionary_VR(keyword), "")

    return edit


def remove(*keywords: str) -> Callable[[Dataset], None]:
    def edit(ds: Dataset) -> None:
        for keyword in keywords:
            if keyword in ds:
                del ds[keyword]

    return edit


def assign(**values: object) -> Callable[[Dataset], None]:
    def edit(ds: Dataset) -> None:
        for keyword, value in values.items():
            setattr(ds, keyword, value)

    return edit


def raw(ds: Dataset, keyword: str | int, vr: str, value: bytes) -> None:
    """Store ``value`` as the exact bytes of the element (pydicom would strip, re-encode or refuse
    it on normal assignment): what a broken exporter writes."""
    tag = Tag(keyword)
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB", "UN") else b" "
    ds._dict[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)  # noqa: SLF001


def raw_value(ds: Dataset, keyword: str, value: str) -> None:
    raw(ds, keyword, ds[keyword].VR, value.encode("latin-1"))


# ---------------------------------------------------------------- the quirks


def sop_uid_blank_meta_left(ds: Dataset) -> None:
    ds.SOPInstanceUID = ""  # file meta MediaStorageSOPInstanceUID keeps the true one


def sop_uid_removed_meta_left(ds: Dataset) -> None:
    del ds.SOPInstanceUID


def sop_uid_nowhere(ds: Dataset) -> None:
    del ds.SOPInstanceUID
    if "MediaStorageSOPInstanceUID" in ds.file_meta:
        del ds.file_meta.MediaStorageSOPInstanceUID


def person_name(charset: str | list[str], name: str, description: str) -> Callable[[Dataset], None]:
    def edit(ds: Dataset) -> None:
        ds.SpecificCharacterSet = charset
        ds.PatientName = name
        ds.SeriesDescription = description
        ds.InstitutionName = description

    return edit


def wrong_charset_bytes(ds: Dataset) -> None:
    """Latin-1 bytes under a UTF-8 declaration (seen in exports from older anonymisers)."""
    ds.SpecificCharacterSet = "ISO_IR 192"
    raw(ds, "PatientName", "PN", "M\xfcller^J\xfcrgen".encode("latin-1"))
    raw(ds, "SeriesDescription", "LO", "K\xf6rper T1".encode("latin-1"))


def vr_mismatch(ds: Dataset) -> None:
    """Values stored with a VR the dictionary does not give the tag (explicit VR files)."""
    if "PixelSpacing" in ds:
        ds["PixelSpacing"] = DataElement(Tag("PixelSpacing"), "FD", [float(v) for v in ds.PixelSpacing])
    if "SliceThickness" in ds:
        ds["SliceThickness"] = DataElement(Tag("SliceThickness"), "FL", float(ds.SliceThickness))
    if "InstanceNumber" in ds:
        ds["InstanceNumber"] = DataElement(Tag("InstanceNumber"), "UL", int(ds.InstanceNumber))
    if "SeriesNumber" in ds:
        ds["SeriesNumber"] = DataElement(Tag("SeriesNumber"), "LO", str(ds.SeriesNumber))
    if "RescaleIntercept" in ds:
        ds["RescaleIntercept"] = DataElement(Tag("RescaleIntercept"), "SS", int(float(ds.RescaleIntercept)))


UN_KEYWORDS = (
    "Rows", "Columns", "PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient", "SeriesInstanceUID",
    "SOPClassUID", "Modality", "RescaleIntercept", "RescaleSlope", "BitsStored",
)


def as_un(ds: Dataset) -> None:
    """Known tags written with explicit VR UN (what a converter that lost its dictionary writes)."""
    for keyword in UN_KEYWORDS:
        if keyword not in ds:
            continue
        raw(ds, keyword, "UN", value_bytes(ds[keyword]))


def value_bytes(elem: DataElement) -> bytes:
    if elem.VR in ("US", "SS"):
        return struct.pack("<H" if elem.VR == "US" else "<h", int(elem.value))
    values = elem.value if elem.VM > 1 else [elem.value]
    text = "\\".join(str(v) for v in values).encode("ascii")
    return text


def private_tags(ds: Dataset) -> None:
    """Vendor private groups with odd content: binary garbage, a nested private sequence,
    non-ASCII bytes, and a private element whose creator is missing."""
    rng = np.random.default_rng(7)
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291010, "OB", rng.integers(0, 256, 301, dtype=np.uint8).tobytes() + b"\0")
    ds.add_new(0x00430010, "LO", "GEMS_PARM_01")
    ds.add_new(0x00431029, "OB", b"\xff\xfe" * 64)
    raw(ds, 0x00431030, "LO", "R\xf6ntgen \xa7 2".encode("latin-1"))
    inner = Dataset()
    inner.add_new(0x00190010, "LO", "ACME 1.0")
    inner.add_new(0x00191001, "UN", b"\x01\x02\x03\x04")
    inner.add_new(0x00191002, "DS", "1.0\\2.0\\3.0")
    ds.add_new(0x00190010, "LO", "ACME 1.0")
    ds.add_new(0x00191003, "SQ", Sequence([inner, Dataset()]))
    ds.add_new(0x00111010, "LO", "no creator for me")  # orphan private element


def duplicate_sop_uid(datasets: list[Dataset]) -> None:
    """Two different images carrying one SOP Instance UID."""
    datasets[1].SOPInstanceUID = datasets[0].SOPInstanceUID
    datasets[1].file_meta.MediaStorageSOPInstanceUID = datasets[0].SOPInstanceUID


def duplicate_file(datasets: list[Dataset]) -> list[Dataset]:
    """The same instance exported twice (under two names)."""
    return datasets + [datasets[0]]


def duplicate_position(datasets: list[Dataset]) -> list[Dataset]:
    """The middle slice sent a second time with a new SOP Instance UID (same position, same pixels).

    Learned from: Project-MONAI/monai-deploy-app-sdk #532 ("Duplicate Input DICOM Spatial
    Coordinates": a hospital series with two instances at one position made the SEG writer fail)."""
    again = copy.deepcopy(datasets[len(datasets) // 2])
    again.SOPInstanceUID = fresh_uid("duplicate_position", "again", str(again.SOPInstanceUID))
    again.file_meta.MediaStorageSOPInstanceUID = again.SOPInstanceUID
    return datasets + [again]


def uid_trailing_padding(datasets: list[Dataset]) -> None:
    """Half the slices pad their UIDs with a space or extra NULs, the others do not.

    Learned from: dcm2niix #268 ("64 characters long SeriesInstanceUID is stripped to 63
    characters": UID padding) and microsoft/dicom-server PR #1795 (UIDs sent with a trailing space)."""
    for index, ds in enumerate(datasets):
        if index % 2:
            for keyword in ("SeriesInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID"):
                if keyword in ds:
                    raw_value(ds, keyword, str(ds[keyword].value) + (" " if len(str(ds[keyword].value)) % 2 else "\0\0"))


def long_decimals(ds: Dataset) -> None:
    """Decimal strings longer than the 16 characters DS allows.

    Learned from: dcmqi #316 ("tid1500writer fails if value string too long", the 16-character DS
    limit) and pydicom #1632 (OverflowError on DS values of 16+ characters)."""
    for keyword in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
        if keyword in ds:
            values = [float(v) for v in ds[keyword].value]
            raw(ds, keyword, "DS", "\\".join(f"{v:.15f}" for v in values).encode())


def multi_intercept(ds: Dataset) -> None:
    """RescaleIntercept/Slope with two equal values where the standard allows one.

    Learned from: highdicom #210 ("Failure to create GSPS when reference DICOM uses MultiValue for
    WindowCenter, WindowWidth"): single-valued attributes that arrive as MultiValue."""
    if "RescaleIntercept" in ds:
        value = str(ds.RescaleIntercept)
        raw(ds, "RescaleIntercept", "DS", f"{value}\\{value}".encode())
    raw(ds, "RescaleSlope", "DS", b"1\\1")


def conflicting_intercept(ds: Dataset) -> None:
    """RescaleIntercept with two different values: no single HU mapping (same lesson as above)."""
    raw(ds, "RescaleIntercept", "DS", b"-1024\\0")


def uid_per_file(keyword: str) -> Mutation:
    """Every file gets its own value of ``keyword``: what an anonymiser that renews UIDs file by
    file, without a mapping, leaves. Learned from: highdicom PR #199 / issue #302 (source images
    of a SEG must share one series and frame of reference) and dcm2niix #495 (a UID that changes
    with every slice of one series)."""

    def run(datasets: list[Dataset]) -> None:
        for index, ds in enumerate(datasets):
            setattr(ds, keyword, fresh_uid(keyword, str(index), str(ds.get(keyword, ""))))

    return run


def window_multi(ds: Dataset) -> None:
    """Several window presets (VM 1-n) with explanations. Learned from: highdicom #210 (MultiValue
    WindowCenter/WindowWidth) and pymedphys #1906 (multi-valued window from a CT vendor)."""
    ds.WindowCenter = ["40", "400"]
    ds.WindowWidth = ["400", "2000"]
    ds.WindowCenterWidthExplanation = ["SOFT", "BONE"]


def bits_garbage(ds: Dataset) -> None:
    """BitsStored smaller than BitsAllocated with random bits above HighBit.

    Learned from: icometrix/dicom2nifti #13 (TotalSegmentator's DICOM reader: "overflow for signed
    data where BitsStored is lower than BitsAllocated") and pydicom/deid #201 (overlays hidden in
    the high bits)."""
    dtype = np.dtype("<i2" if int(ds.PixelRepresentation) == 1 else "<u2")
    pixels = np.frombuffer(ds.PixelData, dtype=dtype).copy()
    signed = dtype.kind == "i"
    span = max(int(pixels.max()), -int(pixels.min()) - 1 if signed else 0)
    bits = max(8, span.bit_length() + (1 if signed else 0))
    assert bits < 16, "the values need all 16 bits"
    rng = np.random.default_rng(11)
    garbage = (rng.integers(0, 1 << (16 - bits), pixels.size, dtype=np.uint16) << bits).astype(np.uint16)
    low = pixels.view(np.uint16) & np.uint16((1 << bits) - 1)
    ds.PixelData = (low | garbage).astype("<u2").tobytes()
    ds.BitsStored = bits
    ds.HighBit = bits - 1


def signed_representation(ds: Dataset) -> None:
    """Unsigned pixels relabelled as signed (values below 32768 keep their meaning).

    Learned from: dcm2niix #215 (unsigned data read as signed) and icometrix/dicom2nifti #13."""
    pixels = np.frombuffer(ds.PixelData, dtype="<u2")
    assert int(pixels.max()) < 32768
    ds.PixelRepresentation = 1


def crop_one_row(ds: Dataset) -> None:
    """One slice with a different matrix. Learned from: dcm2niix #239 ("slices not stacked:
    dimensions or bit-depth varies", one odd slice in a series)."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    itemsize = int(ds.BitsAllocated) // 8
    ds.PixelData = ds.PixelData[: (rows - 1) * cols * itemsize]
    ds.Rows = rows - 1


def negative_spacing(ds: Dataset) -> None:
    """Negative SpacingBetweenSlices (no tracker citation: seen in GE/Philips exports; positions
    must win over the attribute, as dcm2niix #555 says dcm2niix does)."""
    ds.SpacingBetweenSlices = "-" + str(abs(float(ds.get("SpacingBetweenSlices", ds.get("SliceThickness", 1.0)))))


def gantry_tilt(datasets: list[Dataset]) -> None:
    """Slices shifted along the column direction as a 12-degree gantry tilt does.

    Learned from: TotalSegmentator #610 ("Support for DICOM SEG output on Gantry-Tilted Head CTs":
    dicom2nifti refuses NON_CUBICAL_IMAGE/GANTRY_TILT)."""
    first = np.array([float(v) for v in datasets[0].ImagePositionPatient])
    column = np.array([float(v) for v in datasets[0].ImageOrientationPatient[3:]])
    for ds in datasets:
        position = np.array([float(v) for v in ds.ImagePositionPatient])
        along = float(np.linalg.norm(position - first))
        shifted = position + column * along * np.tan(np.radians(12.0))
        ds.ImagePositionPatient = [f"{v:.6f}" for v in shifted]
