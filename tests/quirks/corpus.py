"""The quirk corpus: real series from ``../shared/data``, rewritten with one PACS-export quirk each.

Every variant is written into a folder the caller owns (a ``tmp_path``); the sources are only
read. Each variant copies a short run of consecutive slices of one real series (enough for a
volume), gives it fresh UIDs derived from (variant, source, old UID) so that variants never
collide in one batch, and then applies its quirk.

Public API (used by the reader tests here and by the writer tests):

- ``SOURCES``: key -> `Source` (where the series lives, what it is).
- ``VARIANTS``: name -> `Variant` (description, expectation, the sources it applies to).
- ``cases()``: every applicable ``(variant, source)`` pair, sorted; ``reading_cases()`` only those
  expected to read.
- ``expectation(name, source_key)``: ``"reads"`` or ``"fails: <fragment of the reason>"``.
- ``make_variant(name, source_key, dest_dir) -> Path``: writes the variant's files into
  ``dest_dir/<source_key>-<name>/`` and returns that folder.
- ``source_files(source_key)``: the source files a variant is made from (in slice order).
- ``fresh_uid(name, source_key, old_uid)``: the UID a variant gives where the source had ``old_uid``.

The edits themselves live in tests/quirks/edits.py. Cases learned from public issue trackers
(dcm2niix, dcmqi, highdicom, TotalSegmentator and the readers they use) name the tracker and the
issue in a comment here and in the edit's docstring (no code was taken from them).
"""

from __future__ import annotations

import io
import os
import shutil
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset

from tests.quirks import edits
from tests.quirks.edits import Mutation, fresh_uid

REPO = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """Same rule as tests/conftest.py: ``MEDSEE_DATA`` or ``../shared/data``."""
    from medsee_cli.io.data_root import data_root as medsee_data_root

    return medsee_data_root() or (REPO.parent / "shared" / "data")


@dataclass(frozen=True)
class Source:
    """A real series. ``first``/``count`` pick consecutive slices by InstanceNumber."""

    description: str
    path: str  # relative to the shared data root, or "repo:" + a path in this repository
    count: int  # slices (files) taken; 1 for single-file sources
    first: int = 1  # first InstanceNumber taken
    compressed: bool = False

    @property
    def single_file(self) -> bool:
        return self.count == 1

    def root(self) -> Path:
        if self.path.startswith("repo:"):
            return REPO / self.path[len("repo:"):]
        return data_root() / self.path


SOURCES: dict[str, Source] = {
    "siemens_jpegll": Source(
        "Siemens XA MR 3D T1, JPEG lossless, pixel data in several fragments",
        "dicom/dcm_qa_frag/In/5001_anat-T1w_acq-tfl", count=6, first=45, compressed=True,
    ),
    "siemens_j2k": Source(
        "Siemens XA MR 3D T1, JPEG 2000 lossless, several fragments",
        "dicom/dcm_qa_frag/In/6001_anat-T1w_acq-tfl", count=6, first=45, compressed=True,
    ),
    "ge_native": Source(
        "GE MR 3D T1, explicit VR little endian, signed pixels, extension-less i*.MRDC.* names",
        "dicom/dcm_qa_ge/In/05_3D_Ax_T1_MP_RAGE_R22", count=6, first=60,
    ),
    "ct_jpegls": Source(
        "CT phantom (medsee sample data), JPEG-LS lossless, RescaleIntercept -1024",
        "repo:sample_data/abdomen_jaundice_dicom", count=6, first=20, compressed=True,
    ),
    "enhanced_mr": Source(
        "Siemens XA enhanced MR, one file holding 6 frames, native",
        "dicom/dcm_qa_enh/In/Siemens/XA10/6_1.dcm", count=1,
    ),
    "ct_single": Source(
        "CT single 512x512 slice (pydicom test data), native signed, RescaleIntercept -1024",
        "dicom/pydicom_data/693_UNCR.dcm", count=1,
    ),
}

ALL = tuple(SOURCES)
MULTI = tuple(k for k, s in SOURCES.items() if not s.single_file)  # quirks "on one slice"
NATIVE = tuple(k for k, s in SOURCES.items() if not s.compressed)  # quirks that edit pixel bytes
MAIN = ("ct_jpegls", "ge_native", "siemens_j2k")  # one CT, one native MR, one fragmented J2K
CT = ("ct_jpegls", "ct_single")


@dataclass(frozen=True)
class Variant:
    """One quirk. ``expect`` is ``"reads"`` or ``"fails: <reason fragment>"``; ``expect_for``
    overrides it per source. ``same`` says what equals the clean copy when it reads: "all"
    (voxels and geometry), "geometry" or "voxels"; ``note`` is a fragment the volume's notes must
    hold; ``encoding`` picks how the files are written."""

    description: str
    mutate: Mutation
    expect: str = "reads"
    sources: tuple[str, ...] = MAIN
    expect_for: dict[str, str] = field(default_factory=dict)
    same: str = "all"
    note: str | None = None
    encoding: str = "standard"  # "standard" | "no_preamble" | "no_meta" | "big_endian"


VARIANTS: dict[str, Variant] = {
    "clean": Variant("the series as exported (fresh UIDs only): the reference for every other variant",
                     lambda d: None, sources=ALL),
    # --- type 1/2 attributes blanked or removed (issue 10 list)
    "sop_class_blank": Variant("SOPClassUID empty; MediaStorageSOPClassUID intact",
                               edits.each(edits.blank("SOPClassUID")), sources=ALL),
    "sop_class_removed": Variant("SOPClassUID removed; MediaStorageSOPClassUID intact",
                                 edits.each(edits.remove("SOPClassUID")), sources=ALL),
    # highdicom #41 (an anonymiser replaced SOPClassUID by a hash; highdicom's KeyError)
    "sop_class_hashed": Variant("SOPClassUID replaced by a 50-digit hash (not a UID); MediaStorageSOPClassUID intact",
                                edits.each(edits.assign(SOPClassUID="05703841015643452503209109170649121759226008273168")),
                                sources=ALL),
    "sop_class_unknown_uid": Variant("SOPClassUID replaced by a well-formed UID no standard defines; file meta intact",
                                     edits.each(edits.assign(SOPClassUID="2.25.169283464137209830811327329043270561")),
                                     sources=MAIN),
    # pynetdicom #451 (empty SpecificCharacterSet), highdicom PR #423 (SEG inherits it)
    "charset_blank": Variant("SpecificCharacterSet empty", edits.each(edits.blank("SpecificCharacterSet")), sources=ALL),
    "charset_removed": Variant("SpecificCharacterSet removed", edits.each(edits.remove("SpecificCharacterSet")), sources=ALL),
    "study_uid_blank": Variant("StudyInstanceUID empty", edits.each(edits.blank("StudyInstanceUID")), sources=ALL),
    "study_uid_removed": Variant("StudyInstanceUID removed", edits.each(edits.remove("StudyInstanceUID"))),
    "series_uid_blank": Variant("SeriesInstanceUID empty", edits.each(edits.blank("SeriesInstanceUID")), sources=ALL,
                                note="no SeriesInstanceUID"),
    "series_uid_removed": Variant("SeriesInstanceUID removed", edits.each(edits.remove("SeriesInstanceUID")),
                                  note="no SeriesInstanceUID"),
    "sop_uid_blank": Variant("SOPInstanceUID empty, only MediaStorageSOPInstanceUID left",
                             edits.each(edits.sop_uid_blank_meta_left), sources=ALL),
    "sop_uid_removed": Variant("SOPInstanceUID removed, only MediaStorageSOPInstanceUID left",
                               edits.each(edits.sop_uid_removed_meta_left)),
    "sop_uid_nowhere": Variant("SOPInstanceUID removed from the dataset and the file meta",
                               edits.each(edits.sop_uid_nowhere), note="no SOPInstanceUID"),
    # dcmqi #157 (FrameOfReferenceUID absent in the source images of a SEG)
    "frame_of_reference_blank": Variant("FrameOfReferenceUID empty", edits.each(edits.blank("FrameOfReferenceUID")),
                                        sources=ALL),
    "frame_of_reference_removed": Variant("FrameOfReferenceUID removed", edits.each(edits.remove("FrameOfReferenceUID"))),
    "patient_blank": Variant("PatientName and PatientID empty", edits.each(edits.blank("PatientName", "PatientID")),
                             sources=ALL),
    "patient_removed": Variant("PatientName and PatientID removed", edits.each(edits.remove("PatientName", "PatientID"))),
    "image_type_blank": Variant("ImageType empty", edits.each(edits.blank("ImageType")), sources=ALL),
    "image_type_removed": Variant("ImageType removed", edits.each(edits.remove("ImageType"))),
    "modality_blank": Variant("Modality empty", edits.each(edits.blank("Modality"))),
    # dcm2niix #140 ("slices not stacked: orientation varies")
    "orientation_removed_one_slice": Variant(
        "ImageOrientationPatient removed from the middle slice", edits.middle(edits.remove("ImageOrientationPatient")),
        expect="fails: ImageOrientationPatient", sources=MULTI),
    "orientation_blank_one_slice": Variant(
        "ImageOrientationPatient empty on the middle slice", edits.middle(edits.blank("ImageOrientationPatient")),
        expect="fails: ImageOrientationPatient", sources=MAIN),
    "position_removed_one_slice": Variant(
        "ImagePositionPatient removed from the middle slice", edits.middle(edits.remove("ImagePositionPatient")),
        expect="fails: ImagePositionPatient", sources=MULTI),
    "position_blank_one_slice": Variant(
        "ImagePositionPatient empty on the middle slice", edits.middle(edits.blank("ImagePositionPatient")),
        expect="fails: ImagePositionPatient", sources=MAIN),
    # --- file structure
    # TotalSegmentator #366 (files pydicom reads only with force=True)
    "no_preamble": Variant("no 128-byte preamble and no DICM prefix; the file meta group comes first",
                           lambda d: None, sources=ALL, encoding="no_preamble"),
    "no_file_meta": Variant(
        "no preamble and no file meta group: a bare dataset (old ACR-NEMA style export)",
        lambda d: None, sources=ALL, encoding="no_meta",
        expect_for={k: "fails: no file meta" for k, s in SOURCES.items() if s.compressed}),
    # cornerstonejs/cornerstoneWADOImageLoader PR #101, dcm4che #929 (Explicit VR Big Endian, retired but
    # still in old archives: pixel words must be swapped)
    "big_endian": Variant("re-encoded in the retired Explicit VR Big Endian transfer syntax (pixels byte-swapped)",
                          lambda d: None, sources=NATIVE, encoding="big_endian"),
    # --- character sets
    # dcmqi #233 ("Support datasets that have non-ASCII character set")
    "name_utf8": Variant("ISO_IR 192 (UTF-8) names and description",
                         edits.each(edits.person_name("ISO_IR 192", "Müller^Jürgen", "Körper T1 – 頭部")), sources=ALL),
    "name_latin1": Variant("ISO_IR 100 (Latin-1) names and description",
                           edits.each(edits.person_name("ISO_IR 100", "Müller^Jürgen", "Körper T1 ß")), sources=ALL),
    "name_iso2022_jp": Variant(
        "ISO 2022 IR 87 Japanese person name (three component groups) and description",
        edits.each(edits.person_name(["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう", "頭部 T1")), sources=ALL),
    "name_iso2022_latin1": Variant("ISO 2022 IR 100 (code extensions) Latin-1 name",
                                   edits.each(edits.person_name("ISO 2022 IR 100", "Gérard^Sérgio", "Tête"))),
    "charset_wrong_bytes": Variant("Latin-1 bytes in values declared as UTF-8 (ISO_IR 192)",
                                   edits.each(edits.wrong_charset_bytes)),
    "charset_unknown": Variant("a SpecificCharacterSet term no standard defines",
                               edits.each(edits.assign(SpecificCharacterSet="ISO_IR 999"))),
    # --- value representations and private data
    "vr_mismatch": Variant("PixelSpacing as FD, SliceThickness as FL, InstanceNumber as UL, SeriesNumber as "
                           "LO, RescaleIntercept as SS", edits.each(edits.vr_mismatch)),
    # pydicom PR #900 ("Correctly handle known tags with VR UN")
    "vr_un_known_tags": Variant("geometry, matrix and UID tags written with explicit VR UN", edits.each(edits.as_un)),
    "private_tags": Variant("vendor private groups: garbage OB, nested private SQ, Latin-1 bytes, orphan "
                            "private element", edits.each(edits.private_tags), sources=ALL),
    # --- identity
    "duplicate_sop_uid": Variant("two different images share one SOP Instance UID", edits.duplicate_sop_uid,
                                 sources=MULTI, note="share a SOP Instance UID"),
    # dcm2niix #837 (binary-identical duplicates left by a PACS), #300 (repeated identifiers)
    "duplicate_file": Variant("one instance exported twice under two names", edits.duplicate_file, sources=MULTI,
                              note="duplicate"),
    # monai-deploy-app-sdk #532: a slice re-sent with a new UID; no volume can hold both (one line)
    "duplicate_position": Variant("the middle slice exported a second time with a new SOP Instance UID",
                                  edits.duplicate_position, sources=MULTI,
                                  expect="fails: positions hold 2 images with different SOP Instance UIDs"),
    # --- learned from issue trackers (citations on the helper functions and below)
    # dcm2niix #268 / microsoft/dicom-server PR #1795
    "uid_trailing_padding": Variant("UIDs padded with a space or NULs on every other slice",
                                    edits.uid_trailing_padding, sources=MULTI),
    # dcmqi #316 / pydicom #1632
    "ds_too_many_digits": Variant("decimal strings of 17+ characters in geometry", edits.each(edits.long_decimals)),
    # highdicom #210
    "rescale_multi_value": Variant("RescaleIntercept/Slope with two equal values", edits.each(edits.multi_intercept),
                                   sources=CT + ("ge_native",)),
    "rescale_conflicting_values": Variant("RescaleIntercept with two different values", edits.each(edits.conflicting_intercept),
                                          expect="fails: RescaleIntercept has 2 different values", sources=CT),
    # highdicom PR #199 / #302, dcm2niix #495
    "frame_of_reference_per_file": Variant("a different FrameOfReferenceUID in every file", edits.uid_per_file(
        "FrameOfReferenceUID"), sources=MULTI, note="do not agree on one FrameOfReferenceUID"),
    "study_uid_per_file": Variant("a different StudyInstanceUID in every file", edits.uid_per_file("StudyInstanceUID"),
                                  note="do not agree on one StudyInstanceUID"),
    # Project-MONAI/monai-deploy-app-sdk #187 / PR #236 (CT series without RescaleIntercept/Slope):
    # read with the stored values (slope 1, intercept 0, as dcm2niix does) and a note saying so.
    "rescale_removed": Variant("RescaleSlope and RescaleIntercept removed from a CT", edits.each(edits.remove(
        "RescaleSlope", "RescaleIntercept", "RescaleType")), sources=CT, same="geometry", note="RescaleIntercept"),
    "rescale_blank": Variant("RescaleSlope and RescaleIntercept empty on a CT",
                             edits.each(edits.blank("RescaleSlope", "RescaleIntercept")), sources=CT, same="geometry",
                             note="RescaleIntercept"),
    # highdicom #210 / pymedphys #1906
    "window_multi_value": Variant("WindowCenter/WindowWidth with several values", edits.each(edits.window_multi),
                                  sources=CT + ("ge_native",)),
    # pydicom #798 / fli-iam/shanoir-ng #3809 (no PixelSpacing): no spacing, no honest volume
    "pixel_spacing_blank": Variant("PixelSpacing empty", edits.each(edits.blank("PixelSpacing")),
                                   expect="fails: PixelSpacing", sources=("ct_jpegls", "ge_native")),
    # dcm2niix #555 (use ImagePositionPatient, not SliceThickness, for the slice spacing)
    "slice_thickness_blank": Variant("SliceThickness empty", edits.each(edits.blank("SliceThickness"))),
    # (no citation; see edits.negative_spacing)
    "spacing_between_slices_negative": Variant("SpacingBetweenSlices negative", edits.each(edits.negative_spacing),
                                               sources=("ge_native", "ct_jpegls")),
    # dcm2niix #287 (MIM exports without InstanceNumber): order comes from positions
    "instance_number_removed": Variant("InstanceNumber removed", edits.each(edits.remove("InstanceNumber"))),
    # dcm2niix #218 ("files recognized as duplicates when SeriesNumber is missing")
    "series_number_removed": Variant("SeriesNumber removed", edits.each(edits.remove("SeriesNumber"))),
    # icometrix/dicom2nifti #13 / pydicom/deid #201
    "bits_stored_garbage": Variant("BitsStored below BitsAllocated, random bits above HighBit",
                                   edits.each(edits.bits_garbage), sources=NATIVE),
    # dcm2niix #215
    "pixel_representation_signed": Variant("unsigned pixels relabelled signed (values < 32768)",
                                           edits.each(edits.signed_representation), sources=("enhanced_mr",)),
    # TotalSegmentator #610
    "gantry_tilt": Variant("positions sheared as by a 12-degree gantry tilt", edits.gantry_tilt,
                           sources=("ct_jpegls", "ge_native"), same="voxels", note="gantry tilt"),
    # dcm2niix #239
    "rows_mismatch_one_slice": Variant("the middle slice has one row fewer", edits.middle(edits.crop_one_row),
                                       expect="fails: differs from the other", sources=("ge_native",)),
}


def cases() -> list[tuple[str, str]]:
    """Every applicable (variant, source) pair."""
    return sorted((name, key) for name, v in VARIANTS.items() for key in v.sources)


def reading_cases() -> list[tuple[str, str]]:
    return [(n, k) for n, k in cases() if expectation(n, k) == "reads"]


def expectation(name: str, source_key: str) -> str:
    variant = VARIANTS[name]
    if source_key not in variant.sources:
        raise KeyError(f"variant {name} does not apply to source {source_key}")
    return variant.expect_for.get(source_key, variant.expect)


@lru_cache(maxsize=None)
def source_files(source_key: str) -> tuple[Path, ...]:
    """The source files of ``source_key``, in InstanceNumber order."""
    source = SOURCES[source_key]
    root = source.root()
    if root.is_file():
        return (root,)
    numbered = []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["InstanceNumber"])
        numbered.append((int(ds.InstanceNumber), path))
    numbered.sort()
    chosen = [p for n, p in numbered if source.first <= n < source.first + source.count]
    if len(chosen) != source.count:
        raise FileNotFoundError(f"{root}: expected {source.count} slices from {source.first}")
    return tuple(chosen)


@lru_cache(maxsize=None)
def _source_bytes(path: Path) -> bytes:
    return path.read_bytes()


UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


def _renew_uids(ds: Dataset, name: str, source_key: str) -> None:
    for keyword in UID_KEYWORDS:
        if keyword in ds and ds[keyword].value:
            ds[keyword].value = fresh_uid(name, source_key, str(ds[keyword].value))
    if "MediaStorageSOPInstanceUID" in ds.file_meta:
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID


def make_variant(name: str, source_key: str, dest_dir: Path) -> Path:
    """Write variant ``name`` of ``source_key`` into ``dest_dir/<source_key>-<name>/``."""
    variant = VARIANTS[name]
    expectation(name, source_key)  # refuses pairs that do not apply
    files = source_files(source_key)
    with warnings.catch_warnings():  # pydicom warns about the very values the quirks write
        warnings.simplefilter("ignore")
        datasets = [pydicom.dcmread(io.BytesIO(_source_bytes(p))) for p in files]
        for ds in datasets:
            _renew_uids(ds, name, source_key)
        changed = variant.mutate(datasets)
        if changed is not None:
            datasets = changed
        encoded = [_encode(ds, variant.encoding) for ds in datasets]
    folder = Path(dest_dir) / f"{source_key}-{name}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    names = [p.name for p in files] + [f"copy_of_{files[0].name}"] * (len(datasets) - len(files))
    for file_name, data in zip(names, encoded):
        (folder / file_name).write_bytes(data)
    return folder


def _encode(ds: Dataset, encoding: str) -> bytes:
    buffer = io.BytesIO()
    if encoding == "no_meta":
        syntax = ds.file_meta.TransferSyntaxUID
        bare = Dataset(ds)
        bare.file_meta = FileMetaDataset()
        bare.preamble = None
        pydicom.dcmwrite(buffer, bare, implicit_vr=syntax.is_implicit_VR, little_endian=syntax.is_little_endian,
                         enforce_file_format=False)
        return buffer.getvalue()
    if encoding == "big_endian":
        _to_big_endian(ds)
    pydicom.dcmwrite(buffer, ds, enforce_file_format=False)
    data = buffer.getvalue()
    if encoding == "no_preamble":
        assert data[128:132] == b"DICM"
        return data[132:]
    return data



def _to_big_endian(ds: Dataset) -> None:
    """Explicit VR Big Endian: pixel words byte-swapped, every other value encoded by pydicom."""
    from pydicom.uid import ExplicitVRBigEndian

    assert not ds.file_meta.TransferSyntaxUID.is_compressed
    bits = int(ds.BitsAllocated)
    if bits > 8:
        words = np.frombuffer(ds.PixelData, dtype=f"<u{bits // 8}")
        ds.PixelData = words.astype(f">u{bits // 8}").tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
