"""Body parts no target covers: a question about one abstains and says so (`uncovered.py`), also when a kind word
names the part's own bones or muscles ('the bones of the forearm') or a lump sits in it; questions that name a
covered target as well are answered."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.text import Speller, parse
from medsee_cli.reasoning.uncovered import named_part, part_words


@pytest.mark.parametrize("question, part", [
    ("show me the bones of the forearm", "forearm"),
    ("the little bones inside her wrist", "wrist"),
    ("is my scaphoid fractured", "scaphoid"),  # read as written, not as 'scapula'
    ("any decay in the molars", "molar"),
    ("the muscles of the calf", "calf"),
    ("a lump on his knee", "knee"),  # a lump said to be nowhere else is in the part
    ("is that dark mole on her back cancer", "mole"),
    ("has the ACL torn", "acl"),
])
def test_a_part_no_target_covers_abstains(lexical, question, part):
    resolution = lexical.resolve(question)
    assert resolution.abstained and f"no target for the {part}" in resolution.answer


def test_a_kind_word_owns_the_part_only_when_no_target_of_that_kind_lies_there(full):
    parsed = parse("the bones of the forearm")
    assert named_part(parsed, set(), [(1, 2, "bone")], lambda kind, key: False).word == "forearm"
    assert named_part(parsed, set(), [(1, 2, "bone")], lambda kind, key: True) is None  # a landmark then
    assert named_part(parse("the bone above the knee"), {2}, [(1, 2, "bone")], lambda kind, key: False) is None
    # lymph nodes lie in the armpit (their clues and views say so): the glands there are asked for
    assert full.resolve("the glands in the armpit").hypotheses[0].name == "lymph_node"


@pytest.mark.parametrize("question, expected", [
    ("pain in the left arm and chest, check the heart", "heart"),
    ("my fingers swell and my kidneys are failing", "kidneys"),
    ("she hurt her ankle and now her hip hurts, check the hip", "hip"),
    ("a tumour in the knee that has spread to the lungs", "lung_nodule"),
])
def test_a_part_named_in_passing_leaves_the_target(lexical, question, expected):
    assert expected in [h.name for h in lexical.resolve(question).hypotheses[:3]]


def test_a_fall_on_a_part_does_not_hide_the_head(full):
    resolution = full.resolve("he fell on his wrist and hit his head, any bleed?")
    assert not resolution.abstained and "intracerebral_hemorrhage" in [h.name for h in resolution.hypotheses]


def test_part_words_are_read_as_written_but_never_offered_as_a_correction(lexical):
    assert {"scaphoid", "molar", "pecs"} <= part_words()
    speller = Speller({"scapula", "pees"}, known=frozenset({"scaphoid", "pecs"}))
    assert speller.correct("scaphoid") == "scaphoid" and speller.correct("pecs") == "pecs"
    assert Speller({"scapula"}, known=frozenset({"pecs"})).correct("peks") != "pecs"
    assert lexical.resolve("she pees a lot and it burns").hypotheses[0].name == "urinary_bladder"
