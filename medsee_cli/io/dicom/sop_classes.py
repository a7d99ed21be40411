"""Which DICOM storage SOP classes hold no image volume (SEG, SR, RT objects, DICOMDIR...).

The table is data: ``non_image_sop_classes.json`` (exact UIDs and UID-prefix families).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _non_image_classes() -> tuple[dict[str, str], dict[str, str]]:
    text = resources.files("medsee_cli.io.dicom").joinpath("non_image_sop_classes.json").read_text()
    data = json.loads(text)
    return data["exact"], data["families"]


def non_image_class(sop_class_uid: str) -> str | None:
    """The name of a SOP class that holds no image volume (SEG of any kind, SR, RT plans...)."""
    exact, families = _non_image_classes()
    if sop_class_uid in exact:
        return exact[sop_class_uid]
    return next((name for prefix, name in families.items() if sop_class_uid.startswith(prefix)), None)


def defined_sop_class(uid: str) -> bool:
    """A SOP class the standard defines (pydicom's UID dictionary names it)."""
    from pydicom.uid import UID

    return bool(uid) and UID(uid).name != uid


def stated_sop_class(dataset_value: str, meta_value: str) -> str:
    """The SOP class a file states: the dataset's SOPClassUID, unless it is empty, or it is not a
    class the standard defines (an anonymiser hashed it; highdicom #41) while the file meta's
    MediaStorageSOPClassUID is one."""
    if not dataset_value or (not defined_sop_class(dataset_value) and defined_sop_class(meta_value)):
        return meta_value or dataset_value
    return dataset_value
