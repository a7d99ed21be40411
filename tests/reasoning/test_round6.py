"""Issue 15, sixth round: everyday views for every target, a pair's members held under the pair when no side
is stated, questions that name a structure but ask something else (advice, the procedure, results), a kind of
tissue saying whose lump it is, and a few data additions (word forms, clues, relations)."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.semantic import lay_views, out_of_scope_examples
from medsee_cli.reasoning.sides import hold_to_pair
from medsee_cli.reasoning.text import parse


def top(resolver, question, scan=None):
    return [h.name for h in resolver.resolve(question, scan).hypotheses]


def test_every_target_has_at_least_three_everyday_views():
    kb = load_knowledge()
    views = lay_views()
    assert set(views) <= set(kb.names())
    thin = [name for name in kb.names() if len(views.get(name, ())) < 3]
    assert not thin, thin


def test_out_of_scope_examples_cover_the_procedure_results_and_advice():
    examples = set(out_of_scope_examples())
    assert len(examples) >= 120
    assert {"how long will I be lying in the machine", "should I be worried",
            "what should I eat to look after my kidneys"} <= examples


def test_a_member_is_held_under_its_pair_when_no_side_is_stated():
    kb = load_knowledge()
    held = hold_to_pair(kb, {"kidneys": 0.80, "kidney_left": 0.85, "kidney_right": 0.70, "liver": 0.9})
    assert held["kidney_left"] < held["kidneys"] and held["kidney_right"] == 0.70 and held["liver"] == 0.9


def test_without_a_side_the_pair_answers_before_its_members(full):
    # the members' views differ from the pair's only by their side word
    assert top(full, "the long muscles either side of the spine")[0] == "autochthon"


@pytest.mark.parametrize("question", [
    "do I have to stop eating before my kidney scan?",
    "what should I eat to keep my heart healthy?",
])
def test_a_named_structure_with_another_request_abstains(full, question):
    assert full.resolve(question).abstained


@pytest.mark.parametrize("question, target", [
    ("show me my kidneys", "kidneys"),
    ("is there something wrong with my liver?", "liver"),
    ("is my heart ok?", "heart"),
])
def test_a_named_structure_asked_about_still_answers(full, question, target):
    resolution = full.resolve(question)
    assert not resolution.abstained and resolution.hypotheses[0].name == target


def test_a_kind_of_tissue_says_whose_lump_it_is(lexical):
    assert top(lexical, "any growth in the bones?")[0] == "bone_lesion"


def test_word_forms_fold_bled_and_highest(lexical):
    parsed = parse("he bled from the highest lobe", lexical.speller)
    assert "bleed" in parsed.stems and "top" in parsed.stems


def test_the_spleen_sits_under_the_left_ribs_next_to_the_left_kidney(lexical):
    assert top(lexical, "the organ under the left ribs next to the left kidney")[0] == "spleen"
