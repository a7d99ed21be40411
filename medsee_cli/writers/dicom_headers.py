"""A sanitised view of source DICOM headers, for the objects we derive from them (SEG, RTSTRUCT).

PACS exports and anonymisers blank type 1 and type 2 attributes. Before highdicom (or our own
RTSTRUCT writer) copies patient, study and reference attributes from the source instances, the
headers read for that purpose are tidied **in memory** (files are never touched):

- repaired from what the file itself states: an empty or missing SOPClassUID / SOPInstanceUID
  in the dataset is taken from the file meta (MediaStorageSOPClassUID / ...InstanceUID), and so
  is a SOPClassUID the standard does not define (hashed by an anonymiser) when the file meta's
  is one it defines; a study,
  series or frame-of-reference UID blank on some slices is taken from the other slices of the
  same series when they all agree;
- omitted or left empty where the standard lets a derived object do so: an empty
  SpecificCharacterSet is dropped (``ISO_IR 192`` is used when the text is not ASCII, so the
  decoded text is re-encoded, not changed); a first value left empty in a multi-valued one
  means the default repertoire (``ISO 2022 IR 6``, PS3.3 C.12.1.1.2); type 2 patient/study
  attributes that are missing or not valid for their VR become empty;
- numeric noise evened out: slices whose ImageOrientationPatient agree to within
  ``ORIENTATION_ATOL`` (GE writes them with 1e-9 differences) all state the first slice's value,
  which is the orientation the volume was read with (highdicom wants one shared orientation);
- pixel measures a SEG must state: a missing, empty or non-positive SliceThickness (type 1C in
  the SEG's Pixel Measures) becomes the spacing between the slices' own positions (what the
  segmentation's voxels span); a SpacingBetweenSlices that is not positive is omitted (type 3);
- never invented: when an honest object cannot be made (no StudyInstanceUID, SeriesInstanceUID,
  SOPInstanceUID or FrameOfReferenceUID anywhere, slices that disagree, duplicated SOP instance
  UIDs), `OutputNotMade` says why.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator, Sequence

from pydicom.dataset import Dataset

from medsee_cli.errors import MedseeError
from medsee_cli.io.dicom.sop_classes import stated_sop_class
from medsee_cli.writers.skipped import OutputNotMade

# Attributes the Patient and General Study modules of a derived object copy (type 2: may be empty).
TYPE2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                "ReferringPhysicianName", "StudyID", "AccessionNumber")
SHARED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")
SEXES = ("M", "F", "O")
ORIENTATION_ATOL = 1e-4  # direction cosines: far below what changes a voxel's position
DATE = re.compile(r"^\d{8}$")
TIME = re.compile(r"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$")
UID = re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$")
UTF8 = "ISO_IR 192"
DEFAULT_WITH_EXTENSIONS = "ISO 2022 IR 6"
# Defined terms of Specific Character Set (PS3.3 C.12.1.1.2), stand-alone and with code extensions.
SINGLE_TERMS = frozenset({"ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144",
                          "ISO_IR 127", "ISO_IR 126", "ISO_IR 138", "ISO_IR 148", "ISO_IR 203", "ISO_IR 13",
                          "ISO_IR 166", "ISO_IR 192", "GB18030", "GBK"})
EXTENSION_TERMS = frozenset({"ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109",
                             "ISO 2022 IR 110", "ISO 2022 IR 144", "ISO 2022 IR 127", "ISO 2022 IR 126",
                             "ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203", "ISO 2022 IR 13",
                             "ISO 2022 IR 166"})
MULTIBYTE_EXTENSIONS = frozenset({"ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149", "ISO 2022 IR 58"})


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _repair_sop(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    for keyword, stored in (("SOPClassUID", "MediaStorageSOPClassUID"),
                            ("SOPInstanceUID", "MediaStorageSOPInstanceUID")):
        if not _text(ds, keyword) and meta is not None and _text(meta, stored):
            setattr(ds, keyword, _text(meta, stored))
    if meta is not None:  # a hashed dataset SOPClassUID (highdicom #41): the file meta's, as the reader does
        ds.SOPClassUID = stated_sop_class(_text(ds, "SOPClassUID"), _text(meta, "MediaStorageSOPClassUID"))


def _missing(keywords: Sequence[str]) -> OutputNotMade:
    return OutputNotMade("the source series has no " + " and no ".join(keywords))


def _check_uid(keyword: str, value: str) -> None:
    if len(value) > 64 or not UID.match(value):
        raise OutputNotMade(f"the source series' {keyword} is not a valid UID")


def _shared_uids(datasets: Sequence[Dataset]) -> None:
    missing = []
    for keyword in SHARED_UIDS:
        values = {_text(ds, keyword) for ds in datasets} - {""}
        if not values:
            missing.append(keyword)
            continue
        if len(values) > 1:
            raise OutputNotMade(f"the source slices disagree on {keyword}")
        (value,) = values
        _check_uid(keyword, value)
        for ds in datasets:
            setattr(ds, keyword, value)
    if missing:
        raise _missing(missing)


def _instance_uids(datasets: Sequence[Dataset], multiframe: bool) -> None:
    missing = [kw for kw in ("SOPClassUID", "SOPInstanceUID") if any(not _text(ds, kw) for ds in datasets)]
    if missing:
        raise _missing(missing)
    for ds in datasets:
        _check_uid("SOPClassUID", _text(ds, "SOPClassUID"))
        _check_uid("SOPInstanceUID", _text(ds, "SOPInstanceUID"))
        ds.SOPClassUID, ds.SOPInstanceUID = _text(ds, "SOPClassUID"), _text(ds, "SOPInstanceUID")
    uids = [_text(ds, "SOPInstanceUID") for ds in datasets]
    if not multiframe and len(set(uids)) != len(uids):
        raise OutputNotMade(f"the source series has duplicated SOPInstanceUIDs "
                            f"({len(uids) - len(set(uids))} of {len(uids)} slices repeat one)")


def _valid_type2(keyword: str, value: str) -> bool:
    if keyword in ("PatientBirthDate", "StudyDate"):
        return bool(DATE.match(value))
    if keyword == "StudyTime":
        return bool(TIME.match(value.replace(":", "")))
    if keyword == "PatientSex":
        return value in SEXES
    return True


def _type2(ds: Dataset) -> None:
    for keyword in TYPE2_COPIED:
        value = _text(ds, keyword)
        if keyword not in ds or not _valid_type2(keyword, value):
            setattr(ds, keyword, "")
        elif keyword == "StudyTime":
            ds.StudyTime = value.replace(":", "")


def _terms(ds: Dataset) -> list[str]:
    raw = ds.get("SpecificCharacterSet")
    if raw is None:
        return []
    values = [str(raw)] if isinstance(raw, str) else [str(v) for v in raw]
    return [v.strip() for v in values]


def _standard_charset(terms: list[str]) -> str | list[str] | None:
    """The charset as a derived object may state it, or None when it is empty or not a defined use."""
    if not any(terms):
        return None
    if len(terms) == 1:
        return terms[0] if terms[0] in SINGLE_TERMS else None
    first = terms[0] or DEFAULT_WITH_EXTENSIONS
    rest = terms[1:]
    if first not in EXTENSION_TERMS or not all(t in EXTENSION_TERMS | MULTIBYTE_EXTENSIONS for t in rest):
        return None
    return [first, *rest]


def _charset(datasets: Sequence[Dataset]) -> None:
    """One character set the derived object can state for the (decoded) text it copies."""
    first = datasets[0]
    terms = _terms(first)
    for ds in datasets:
        ds.decode()  # text decoded with the source's own charset before the charset changes
    chosen = _standard_charset(terms)
    text = [_text(ds, kw) for ds in datasets[:1] for kw in TYPE2_COPIED]
    if chosen is None and not all(t.isascii() for t in text):
        chosen = UTF8
    for ds in datasets:
        if chosen is None:
            if "SpecificCharacterSet" in ds:
                del ds.SpecificCharacterSet
        else:
            ds.SpecificCharacterSet = chosen


def _shared_orientation(datasets: Sequence[Dataset]) -> None:
    first = datasets[0].get("ImageOrientationPatient")
    if first is None or len(first) != 6:
        return
    try:
        reference = [float(v) for v in first]
        others = [[float(v) for v in ds.get("ImageOrientationPatient") or ()] for ds in datasets[1:]]
    except (TypeError, ValueError):
        return
    if all(len(o) == 6 and max(abs(a - b) for a, b in zip(o, reference)) <= ORIENTATION_ATOL for o in others):
        for ds in datasets[1:]:
            ds.ImageOrientationPatient = list(first)


def _positive(ds: Dataset, keyword: str) -> bool:
    try:
        return float(ds.get(keyword) or 0) > 0
    except (TypeError, ValueError):
        return False


def _pixel_measures(datasets: Sequence[Dataset], slice_spacing: float | None) -> None:
    for ds in datasets:
        if "SpacingBetweenSlices" in ds and not _positive(ds, "SpacingBetweenSlices"):
            del ds.SpacingBetweenSlices
        if not _positive(ds, "SliceThickness") and slice_spacing:
            ds.SliceThickness = f"{slice_spacing:.6g}"


def sanitise(datasets: Sequence[Dataset], *, multiframe: bool = False,
             slice_spacing: float | None = None) -> tuple[Dataset, ...]:
    """The source headers (freshly read, modified in memory) ready to derive an object from.
    ``slice_spacing``: the distance between slice positions, in mm (from the volume's geometry).

    Raises `OutputNotMade` with the reason when no honest derived object can reference them."""
    for ds in datasets:
        _repair_sop(ds)
    _instance_uids(datasets, multiframe)
    _shared_uids(datasets)
    if not multiframe:
        _shared_orientation(datasets)
        _pixel_measures(datasets, slice_spacing)
    _charset(datasets)
    for ds in datasets:
        _type2(ds)
    return tuple(datasets)


BUILD_ERRORS = (ValueError, KeyError, AttributeError, TypeError, IndexError)
LOG = logging.getLogger(__name__)


@contextlib.contextmanager
def building_from_source() -> Iterator[None]:
    """Build (and encode) a derived object quietly: highdicom's and pydicom's warnings may quote
    patient names, so they are silenced; what they refuse in the source headers, and any other
    failure while the object is built or saved, becomes `OutputNotMade` (one line, exception
    class and message, no traceback; the traceback is logged at debug level)."""
    loggers = [logging.getLogger(name) for name in ("highdicom", "pydicom")]
    levels = [lg.level for lg in loggers]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for lg in loggers:
                if not lg.isEnabledFor(logging.DEBUG):
                    lg.setLevel(logging.CRITICAL)
            yield
    except (OutputNotMade, MedseeError):  # already one line: a skipped output, or a bad input/usage
        raise
    except BUILD_ERRORS as exc:
        LOG.debug("building a DICOM object failed", exc_info=True)
        message = " ".join(str(exc).split())[:160] or "no message"
        raise OutputNotMade(f"the source headers cannot be used for it ({exc.__class__.__name__}: {message})") from exc
    except Exception as exc:  # anything else costs this one output, never the others (--debug: traceback)
        LOG.debug("building a DICOM object failed", exc_info=True)
        message = " ".join(str(exc).split())[:160] or "no message"
        raise OutputNotMade(f"it could not be built ({exc.__class__.__name__}: {message})") from exc
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
