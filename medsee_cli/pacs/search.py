"""QIDO-RS: which series a DICOMweb server holds, filtered by study, modality and study date.

Only identity and counting attributes are kept from the answers (study/series UIDs, modality,
series number, number of instances); the patient attributes a server sends along are dropped
here and never reach a message, a log or the catalog.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medsee_cli.errors import UsageError
from medsee_cli.pacs.retry import Breaker, NetworkError, with_retries

if TYPE_CHECKING:
    from medsee_cli.pacs.client import Server

UID_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+)*$")
# What a server's UID may look like to be used in a URL path and a folder name: PS3.5 UIDs, plus
# the letters some non-conformant systems put in them; never "/", "..", or anything longer than 64
SAFE_UID = re.compile(r"^(?!\.{1,2}$)[0-9A-Za-z._-]{1,64}$")
MODALITY_PATTERN = re.compile(r"^[A-Z0-9_]{1,16}$")
STUDY_UID, SERIES_UID, SOP_UID = "0020000D", "0020000E", "00080018"
MODALITY, SERIES_NUMBER, STUDY_DATE, SERIES_INSTANCES = "00080060", "00200011", "00080020", "00201209"
PAGE = 500  # results asked for per QIDO request


@dataclass(frozen=True)
class SearchFilters:
    """``--study`` (any of these studies), ``--modality`` (series of this modality) and
    ``--since`` (studies from this date on, YYYYMMDD). Empty: every series on the server."""

    studies: tuple[str, ...] = ()
    modality: str | None = None
    since: str | None = None

    def __post_init__(self) -> None:
        for uid in self.studies:
            if len(uid) > 64 or not UID_PATTERN.match(uid):
                raise UsageError("--study", f"{uid[:80]!r} is not a Study Instance UID (digits and dots, "
                                            f"at most 64 characters)")
        object.__setattr__(self, "studies", tuple(dict.fromkeys(self.studies)))
        if self.modality is not None:
            modality = self.modality.strip().upper()
            if not MODALITY_PATTERN.match(modality):
                raise UsageError("--modality", f"{self.modality[:40]!r} is not a DICOM modality (e.g. CT, MR, PT)")
            object.__setattr__(self, "modality", modality)
        if self.since is not None:
            try:
                dt.datetime.strptime(self.since, "%Y%m%d")
            except ValueError:
                raise UsageError("--since", f"{self.since[:40]!r} is not a date as YYYYMMDD (e.g. 20260101)") from None
            if len(self.since) != 8:
                raise UsageError("--since", f"{self.since!r} is not a date as YYYYMMDD (e.g. 20260101)")

    @property
    def given(self) -> bool:
        return bool(self.studies or self.modality or self.since)


@dataclass(frozen=True)
class RemoteSeries:
    study_instance_uid: str
    series_instance_uid: str
    modality: str | None
    series_number: int | None
    instances: int | None  # NumberOfSeriesRelatedInstances, when the server gives it


@dataclass(frozen=True)
class SearchResult:
    series: tuple[RemoteSeries, ...]
    failures: tuple[tuple[str, str], ...] = ()  # (study resource, reason): not found, or its search failed


def _first(row: dict[str, Any], tag: str) -> Any:
    values = (row.get(tag) or {}).get("Value") or []
    return values[0] if values else None


def _uid(value: Any) -> str | None:
    """A UID from a server's answer that is safe in a URL path and a folder name, else None."""
    text = str(value).strip() if value is not None else ""
    return text if SAFE_UID.match(text) else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and str(value).strip() else None
    except (TypeError, ValueError):
        return None


def pages(fetch: Callable[[int], list[dict[str, Any]]], tag: str) -> list[dict[str, Any]]:
    """Every row of a QIDO search, page by page (``fetch(offset)`` asks for `PAGE` rows).

    It stops at an empty page, or at a page that brings no UID not seen before: a server that
    ignores ``offset`` (Orthanc 1.10 does with some matching keys) sends the first page again,
    and dicomweb-client's own ``get_remaining`` would then ask forever. A server capping pages
    below `PAGE` is still read to the end."""
    rows: list[dict[str, Any]] = []
    seen: set[Any] = set()
    offset = 0
    while True:
        batch = fetch(offset)
        fresh = [r for r in batch if _first(r, tag) not in seen]
        if not fresh:
            return rows
        rows += fresh
        seen.update(_first(r, tag) for r in fresh)
        offset += len(batch)


def _study_filters(filters: SearchFilters) -> dict[str, str]:
    out: dict[str, str] = {}
    if filters.since:
        out["StudyDate"] = f"{filters.since}-"
    if filters.modality:
        out["ModalitiesInStudy"] = filters.modality
    return out


def _study_matches(row: dict[str, Any], filters: SearchFilters) -> bool:
    """The date filter again on our side (a server may ignore a matching key it does not support)."""
    date = _first(row, STUDY_DATE)
    return not (filters.since and isinstance(date, str) and len(date) >= 8 and date[:8] < filters.since)


def search_series(server: Server, filters: SearchFilters, breaker: Breaker | None = None) -> SearchResult:
    """Every series matching ``filters``, sorted by study, series number and UID.

    Raises `NetworkError` when the server cannot be searched at all; a ``--study`` that is not
    there, or one study whose series cannot be listed, is a failure of that study only."""
    from medsee_cli.pacs.client import describe

    options = server.options
    client = server.dicomweb
    failures: list[tuple[str, str]] = []
    study_filters = _study_filters(filters)
    studies: list[str] = []
    if filters.studies:
        for uid in filters.studies:
            name = server.resource(uid)
            try:
                rows = with_retries(lambda: client.search_for_studies(search_filters={"StudyInstanceUID": uid,
                                                                                      **study_filters}),
                                    options, describe, what=f"search {name}", breaker=breaker)
            except NetworkError as exc:
                failures.append((name, f"study search failed: {exc.reason}"))
                continue
            if any(_first(r, STUDY_UID) == uid and _study_matches(r, filters) for r in rows):
                studies.append(uid)
            else:
                extra = " matching --since/--modality" if study_filters else ""
                failures.append((name, f"no such study on the server{extra}"))
    else:
        rows = pages(lambda offset: with_retries(
            lambda: client.search_for_studies(search_filters=study_filters, limit=PAGE, offset=offset),
            options, describe, what=f"search {server.name}", breaker=breaker), STUDY_UID)
        usable = [(_uid(_first(r, STUDY_UID)), r) for r in rows]
        studies = list(dict.fromkeys(study for study, r in usable if study and _study_matches(r, filters)))
        if any(_first(r, STUDY_UID) and not _uid(_first(r, STUDY_UID)) for r in rows):
            failures.append((server.name, "the server listed a study whose UID cannot be used in a URL or folder "
                                          "name; it was left out"))
    found: list[RemoteSeries] = []
    series_filters = {"Modality": filters.modality} if filters.modality else None
    for uid in studies:
        name = server.resource(uid)
        try:
            rows = pages(lambda offset: with_retries(
                lambda: client.search_for_series(uid, fields=["NumberOfSeriesRelatedInstances"],
                                                 search_filters=series_filters, limit=PAGE, offset=offset),
                options, describe, what=f"search {name}", breaker=breaker), SERIES_UID)
        except NetworkError as exc:
            failures.append((name, f"series search failed: {exc.reason}"))
            continue
        for row in rows:
            series_uid = _uid(_first(row, SERIES_UID))
            modality = _first(row, MODALITY)
            if series_uid is None:
                if _first(row, SERIES_UID):
                    failures.append((name, "the server listed a series whose UID cannot be used in a URL or folder "
                                           "name; it was left out"))
                continue
            if filters.modality and str(modality or "").upper() != filters.modality:
                continue
            found.append(RemoteSeries(uid, str(series_uid), str(modality) if modality else None,
                                      _int(_first(row, SERIES_NUMBER)), _int(_first(row, SERIES_INSTANCES))))
    unique = {s.series_instance_uid: s for s in found}.values()
    ordered = sorted(unique, key=lambda s: (s.study_instance_uid, s.series_number or 0, s.series_instance_uid))
    return SearchResult(tuple(ordered), tuple(failures))


def list_instances(server: Server, series: RemoteSeries, breaker: Breaker | None = None) -> tuple[str, ...]:
    """The SOP Instance UIDs of a series (for servers that do not count its instances)."""
    from medsee_cli.pacs.client import describe

    name = server.resource(series.study_instance_uid, series.series_instance_uid)
    rows = pages(lambda offset: with_retries(lambda: server.dicomweb.search_for_instances(
        series.study_instance_uid, series.series_instance_uid, limit=PAGE, offset=offset),
        server.options, describe, what=f"search {name}", breaker=breaker), SOP_UID)
    return tuple(sorted(str(uid) for r in rows if (uid := _first(r, SOP_UID))))


def has_instance(server: Server, study: str, sop_instance_uid: str, breaker: Breaker | None = None) -> bool:
    """Whether the server lists this SOP instance in this study (QIDO)."""
    from medsee_cli.pacs.client import describe

    name = server.resource(study, None, sop_instance_uid)
    rows = with_retries(lambda: server.dicomweb.search_for_instances(
        study, search_filters={"SOPInstanceUID": sop_instance_uid}),
        server.options, describe, what=f"search {name}", breaker=breaker)
    return any(_first(r, SOP_UID) == sop_instance_uid for r in rows)
