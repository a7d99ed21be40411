"""Fill missing codes of a label table from medsee's knowledge base.

Explicit codes in the table always win; a name the knowledge base does not know is left as it
is. A knowledge base that cannot be read or is invalid raises its error: it is never taken for
"no codes".

Property categories are then put in DICOM's terms (CID 7150, `data/category_codes.yaml`): the
older knowledge bases coded "Anatomical Structure" as SCT 123037004 (SNOMED CT "Body structure"),
which DICOM-SEG viewers do not expect; it becomes SCT 91723000 "Anatomical Structure". The
meanings of the CID 7150 codes are DICOM's wording.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from importlib import resources
from typing import Callable, Optional

import yaml

from medsee_cli.reasoning.codes import Code
from medsee_cli.reasoning.knowledge import Entry, UnknownTarget, lookup
from medsee_cli.writers.labels import Label, LabelTable


@functools.lru_cache(maxsize=1)
def _category_codes() -> tuple[dict[str, str], dict[str, str]]:
    text = resources.files("medsee_cli.writers").joinpath("data/category_codes.yaml").read_text()
    data = yaml.safe_load(text)
    return ({str(k): str(v) for k, v in data["cid7150"].items()},
            {str(k): str(v) for k, v in data["replaced"].items()})


def dicom_category(code: Optional[Code]) -> Optional[Code]:
    """``code`` as the DICOM CID 7150 category it stands for; other codes are returned unchanged."""
    if code is None or code.scheme != "SCT":
        return code
    meanings, replaced = _category_codes()
    value = replaced.get(code.code, code.code)
    if value not in meanings:
        return code
    return Code(value, meanings[value], "SCT")


def with_dicom_categories(table: LabelTable) -> LabelTable:
    """``table`` with every category put in CID 7150 terms (`dicom_category`)."""
    return LabelTable(tuple(replace(label, category=dicom_category(label.category)) for label in table))


def _fill(label: Label, entry: Entry) -> Label:
    return replace(
        label,
        type=label.type or entry.property_type,
        category=label.category or entry.category,
        modifier=label.modifier or entry.modifier,
    )


def fill_codes(table: LabelTable, find: Callable[[str], Entry] = lookup) -> LabelTable:
    """``table`` with type/category/modifier codes taken from the knowledge base where missing,
    categories in CID 7150 terms. ``find`` gives the entry of a target name and raises
    `UnknownTarget` for a name it does not know (default: the packaged knowledge base)."""
    filled = []
    for label in table:
        if label.type is not None and label.category is not None:
            filled.append(label)
            continue
        try:
            entry = find(label.name)
        except UnknownTarget:  # a user's own label name: keep the label as it is
            filled.append(label)
            continue
        filled.append(_fill(label, entry))
    return with_dicom_categories(LabelTable(tuple(filled)))
