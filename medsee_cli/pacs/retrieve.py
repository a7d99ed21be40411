"""WADO-RS: one series, instance by instance, into a folder the caller owns.

Instances are asked for in the transfer syntax the server stored them in (``transfer-syntax=*``),
so the files are what a DICOM export of the same series would hold; a server that cannot do that
(HTTP 406) is asked again for its default (Explicit VR Little Endian, decompressed), and the
result says so. A try that fails part-way starts the series again from an empty folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medsee_cli.pacs.retry import Breaker, NetworkError, with_retries

if TYPE_CHECKING:
    from medsee_cli.pacs.client import Server
    from medsee_cli.pacs.search import RemoteSeries

AS_STORED: tuple[str | tuple[str, str], ...] = (("application/dicom", "*"),)


@dataclass(frozen=True)
class Retrieved:
    files: tuple[Path, ...]
    sop_instance_uids: tuple[str, ...]  # per file; "" when the instance names none
    transcoded: bool = False  # the server sent its default transfer syntax, not the stored one


def _clear(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()


def retrieve_series(server: Server, series: RemoteSeries, folder: Path, breaker: Breaker | None = None) -> Retrieved:
    """Every instance of ``series`` as a file ``folder/NNNNNN.dcm``; raises `NetworkError`."""
    from medsee_cli.pacs.client import describe

    name = server.resource(series.study_instance_uid, series.series_instance_uid)
    folder.mkdir(parents=True, exist_ok=True)

    def once(media_types: tuple[str | tuple[str, str], ...] | None) -> Retrieved:
        _clear(folder)
        files: list[Path] = []
        uids: list[str] = []
        instances = server.dicomweb.iter_series(series.study_instance_uid, series.series_instance_uid,
                                                media_types=media_types)
        for number, ds in enumerate(instances):
            path = folder / f"{number:06d}.dcm"
            ds.save_as(path)  # preamble, file meta and elements as the server sent them
            meta = getattr(ds, "file_meta", None)
            uid = ds.get("SOPInstanceUID") or (meta.get("MediaStorageSOPInstanceUID") if meta is not None else None)
            files.append(path)
            uids.append(str(uid or ""))
        return Retrieved(tuple(files), tuple(uids), transcoded=media_types is None)

    try:
        return with_retries(lambda: once(AS_STORED), server.options, describe, what=f"retrieve {name}",
                            breaker=breaker)
    except NetworkError as exc:
        if exc.status != 406:
            raise
    return with_retries(lambda: once(None), server.options, describe, what=f"retrieve {name}", breaker=breaker)
