from __future__ import annotations

import json

import pytest

from medsee_cli import writers
from medsee_cli.errors import InputError
from medsee_cli.reasoning.codes import Code
from medsee_cli.reasoning.knowledge import Entry, UnknownTarget
from medsee_cli.writers.knowledge_codes import fill_codes
from medsee_cli.writers.labels import Label, LabelTable, dumps_label_table, parse_label_table
from tests.writers.conftest import table3


def test_label_table_round_trips_through_json() -> None:
    table = table3().with_colours()
    again = parse_label_table(json.loads(dumps_label_table(table)))
    assert again == table
    assert all(label.colour for label in again)
    assert again.get(3).modifier == Code("7771000", "Left")
    measured = LabelTable((Label(1, "liver", score=0.9, volume_ml=1530.25), Label(2, "liver_lesion")))
    again = parse_label_table(json.loads(dumps_label_table(measured)))
    assert again.get(1).volume_ml == 1530.25 and again.get(2).volume_ml is None


def test_plain_name_map_is_accepted_and_bad_tables_name_the_problem() -> None:
    table = parse_label_table({"0": "background", "2": "spleen", "1": "liver"})
    assert table.values == (1, 2) and table.get(2).name == "spleen" and table.get(2).type is None
    with pytest.raises(InputError, match="labels.json: not a valid label table"):
        parse_label_table({"labels": [{"value": 1}]})
    with pytest.raises(InputError, match="unknown schema"):
        parse_label_table({"schema": "other/9", "labels": []})
    with pytest.raises(ValueError, match="repeat"):
        LabelTable((Label(1, "a"), Label(1, "b")))


LIVER_ENTRY = Entry(name="liver", kind="structure", description="the liver", segmentable=True,
                    property_type=Code("10200004", "Liver"), category=Code("91723000", "Anatomical Structure"))


def test_one_code_type_for_the_knowledge_base_and_the_label_table() -> None:
    assert writers.Code is Code  # what a label table, DICOM-SEG and RTSTRUCT carry
    label = Label(1, "liver", type=LIVER_ENTRY.property_type)
    assert label.to_json()["type"] == {"scheme": "SCT", "code": "10200004", "meaning": "Liver"}


def test_fill_codes_keeps_explicit_codes_and_fills_the_rest() -> None:
    def lookup(name: str) -> Entry:
        if name != "liver":
            raise UnknownTarget(name, "not a target")
        return LIVER_ENTRY

    explicit = Code("999", "Mine")
    table = LabelTable((Label(1, "liver"), Label(2, "tumour"), Label(3, "liver", type=explicit)))
    filled = fill_codes(table, lookup)
    assert filled.get(1).type is LIVER_ENTRY.property_type
    assert filled.get(1).category == Code("91723000", "Anatomical Structure")
    assert filled.get(1).modifier is None
    assert filled.get(2).type is None
    assert filled.get(3).type == explicit and filled.get(3).category is not None


def test_a_broken_knowledge_base_is_not_taken_for_an_unknown_name() -> None:
    def broken(name: str) -> Entry:
        raise InputError("knowledge.yaml", "entry liver refers to unknown target 'x'")

    with pytest.raises(InputError, match="knowledge.yaml: entry liver") as raised:
        fill_codes(LabelTable((Label(1, "liver"),)), broken)
    assert not isinstance(raised.value, UnknownTarget)


def test_fill_codes_uses_the_packaged_knowledge_base() -> None:
    filled = fill_codes(LabelTable((Label(1, "liver"), Label(2, "kidney_left"), Label(3, "my_own_label"))))
    assert filled.get(1).type == Code("10200004", "Liver")
    assert filled.get(1).category == Code("91723000", "Anatomical Structure")
    assert filled.get(2).modifier == Code("7771000", "Left")
    assert (filled.get(3).type, filled.get(3).category) == (None, None)
