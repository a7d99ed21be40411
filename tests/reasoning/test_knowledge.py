from __future__ import annotations

import json

import pytest

from medsee_cli.errors import InputError
from medsee_cli.reasoning.knowledge import load_knowledge, lookup, parse_knowledge

REQUIRED_UNIONS = ["lung_left", "lung_right", "lungs", "kidneys", "vertebrae", "ribs", "adrenal_glands"]
LESIONS = ["liver_lesion", "kidney_lesion", "pancreatic_lesion", "lung_nodule", "adrenal_lesion",
           "brain_tumor", "breast_lesion", "thyroid_nodule"]
OUTSIDE = ["bile_duct", "ureter", "uterus", "ovary", "appendix", "lymph_node"]


def test_every_total_label_is_covered(shared_data):
    total = json.loads((shared_data / "labelmap_total.json").read_text())["total"]
    kb = load_knowledge()
    missing = [name for name in total.values() if name not in kb]
    assert missing == []
    assert all(kb.get(name).in_total and kb.get(name).segmentable for name in total.values())


def test_required_unions_lesions_and_outside_structures():
    kb = load_knowledge()
    for name in REQUIRED_UNIONS:
        assert kb.get(name).kind == "union" and kb.get(name).members
    for name in LESIONS:
        entry = kb.get(name)
        assert entry.category.code == "49755003" and entry.region is not None
    trained = _shipped_model_targets()
    for name in OUTSIDE:
        entry = kb.get(name)
        assert not entry.in_total
        assert entry.segmentable == (name in trained), name  # segmentable = the shipped model knows it


def _shipped_model_targets() -> set[str]:
    import json
    from importlib import resources

    folder = resources.files("medsee_cli.model.checkpoints").joinpath("medsee_grounding_v1")
    return set(json.loads(folder.joinpath("training.json").read_text())["targets"])


def test_entries_are_complete():
    kb = load_knowledge()
    assert len(set(kb.names())) == len(kb) > 150
    for entry in kb.entries:
        assert entry.code.isdigit() and entry.property_type.meaning and entry.description
        assert entry.category.code in {"91723000", "49755003", "85756007"}  # DICOM CID 7150
        for member in entry.members:
            assert member in kb


def test_lookup_gives_what_the_dicom_seg_writer_needs():
    entry = lookup("kidney_left")
    assert (entry.code, entry.property_type.meaning) == ("64033007", "Kidney")
    assert entry.category.meaning == "Anatomical Structure"
    assert entry.modifier.code == "7771000"
    lesion = lookup("liver_lesion")
    assert lesion.category.code == "49755003" and lesion.region.meaning == "Liver"
    with pytest.raises(InputError, match="not_a_thing"):
        lookup("not_a_thing")


def test_uncertain_codes_are_flagged():
    assert "verify" in lookup("bile_duct").code_note
    assert lookup("liver").code_note == ""


BASE = """
categories: {structure: {code: "91723000", meaning: Anatomical Structure}}
sides: {}
entries:
"""


def test_validation_rejects_duplicates_missing_codes_and_bad_references():
    one = '  - {name: a, code: "1", meaning: A, description: x}\n'
    with pytest.raises(InputError, match="appears twice"):
        parse_knowledge(BASE + one + one)
    with pytest.raises(InputError, match="no SNOMED CT code"):
        parse_knowledge(BASE + "  - {name: b, description: x}\n")
    with pytest.raises(InputError, match="unknown target"):
        parse_knowledge(BASE + '  - {name: c, code: "2", meaning: C, description: x, part_of: [zz]}\n')
    with pytest.raises(InputError, match="not numeric"):
        parse_knowledge(BASE + '  - {name: d, code: "X1", meaning: D, description: x}\n')
    assert len(parse_knowledge(BASE + one)) == 1
