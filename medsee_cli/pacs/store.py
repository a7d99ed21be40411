"""STOW-RS: one instance into its study, then QIDO to see that the server lists it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from medsee_cli.pacs.retry import Breaker, NetworkError, with_retries
from medsee_cli.pacs.search import has_instance

if TYPE_CHECKING:
    from medsee_cli.pacs.client import Server

# DICOM PS3.18 / PS3.4 failure reasons a STOW-RS answer may carry
FAILURE_REASONS = {
    0x0110: "processing failure",
    0x0112: "no such SOP instance",
    0x0122: "SOP class not supported",
    0x0124: "not authorized",
    0xA700: "out of resources",
    0xA900: "data set does not match SOP class",
    0xC000: "cannot understand",
    0xC122: "transfer syntax not supported",
}


def refusal(answer: Dataset | None, sop_instance_uid: str) -> str | None:
    """Why the STOW-RS answer says this instance was not stored, or None."""
    for item in getattr(answer, "FailedSOPSequence", None) or []:
        if str(item.get("ReferencedSOPInstanceUID", "")) == sop_instance_uid:
            code = item.get("FailureReason")
            if code is None:
                return "no reason given"
            meaning = FAILURE_REASONS.get(int(code))
            return f"FailureReason 0x{int(code):04X}" + (f": {meaning}" if meaning else "")
    return None


def store_instance(server: Server, dataset: Dataset, *, confirm: bool = True, breaker: Breaker | None = None) -> None:
    """STOW ``dataset`` into its own study; with ``confirm``, QIDO must then list it.
    Raises `NetworkError` (its reason names what went wrong, never the URL or the login)."""
    from medsee_cli.pacs.client import describe

    study, sop = str(dataset.StudyInstanceUID), str(dataset.SOPInstanceUID)
    name = server.resource(study, None, sop)

    def once() -> None:
        answer = server.dicomweb.store_instances([dataset], study_instance_uid=study)
        why = refusal(answer, sop)
        if why is not None:
            raise NetworkError(f"the server refused it ({why})", retryable=False)

    with_retries(once, server.options, describe, what=f"store {name}", breaker=breaker)
    if confirm and not has_instance(server, study, sop, breaker):
        raise NetworkError("stored, but the server does not list it in its study (QIDO)", retryable=False)
