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
