"""Fill missing codes of a label table from medsee's knowledge base, when it is installed.

Explicit codes in the table always win; a name the knowledge base does not know is left as it
is. Without the reasoning package the table is returned unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional

from medsee_cli.writers.labels import Code, Label, LabelTable


def _knowledge_lookup() -> Optional[Callable[[str], Any]]:
    try:
        from medsee_cli.reasoning.knowledge import lookup
    except ImportError:
        return None
    return lookup


def _as_code(coded: Any) -> Optional[Code]:
    if coded is None:
        return None
    code, meaning = getattr(coded, "code", None), getattr(coded, "meaning", None)
    if not code or not meaning:
        return None
    return Code(str(code), str(meaning), str(getattr(coded, "scheme", "SCT")))


def _fill(label: Label, entry: Any) -> Label:
    return replace(
        label,
        type=label.type or _as_code(getattr(entry, "property_type", None)),
        category=label.category or _as_code(getattr(entry, "category", None)),
        modifier=label.modifier or _as_code(getattr(entry, "modifier", None)),
    )


def fill_codes(table: LabelTable, lookup: Optional[Callable[[str], Any]] = None) -> LabelTable:
    """``table`` with type/category/modifier codes taken from the knowledge base where missing."""
    lookup = lookup or _knowledge_lookup()
    if lookup is None:
        return table
    filled = []
    for label in table:
        if label.type is not None and label.category is not None:
            filled.append(label)
            continue
        try:
            entry = lookup(label.name)
        except Exception:  # unknown name (KeyError/InputError) or a KB problem: keep the label
            filled.append(label)
            continue
        filled.append(_fill(label, entry))
    return LabelTable(tuple(filled))
