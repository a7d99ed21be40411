"""Issue 15, fourth round: the focus of a long story, places in an ordered series, regions named in the
question, lesion words about a test, and levels named with 'between'."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.clause_roles import ASIDE_FACTOR, BACKGROUND_FACTOR, clause_factors, is_focus
from medsee_cli.reasoning.evaluate import read_questions
from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.lexicon import Lexicon
from medsee_cli.reasoning.scan import load_body_regions
from medsee_cli.reasoning.series import in_series
from medsee_cli.reasoning.text import parse, phrase_key

from tests.reasoning.conftest import DATA


def test_focus_clause_weighs_the_rest_of_a_long_story_down():
    clauses = [phrase_key(c) for c in ("she broke her wrist skiing", "she had her tonsils out as a teenager",
                                      "but now the doctor wants to check her spleen")]
    assert is_focus(clauses[2]) and not is_focus(clauses[0])
    assert clause_factors(clauses, long=True) == [ASIDE_FACTOR, BACKGROUND_FACTOR, 1.0]
    assert clause_factors(clauses, long=False) == [1.0, BACKGROUND_FACTOR, 1.0]  # a short question: no aside
    # a clause that says what is wanted now is never background, even with a history word in it
    assert clause_factors([phrase_key("years ago it was the liver but now they want the spleen")], True) == [1.0]


@pytest.mark.parametrize("question, members", [
    ("the bottom vertebra of the lower back", ["vertebrae_L5"]),  # counted in the lumbar spine it names
    ("the top rib on the left", ["rib_left_1"]),
    ("the very last lumbar vertebra", ["vertebrae_L5"]),
    ("the third and fourth lumbar vertebrae", ["vertebrae_L4", "vertebrae_L3"]),
    ("the lowest kidney", ["kidneys"]),  # a left/right pair has no order
    ("on top of the vertebrae", ["vertebrae"]),  # 'top of' is a place, not the first vertebra
])
def test_places_in_a_series(question, members):
    kb = load_knowledge()
    parsed = parse(question)
    found = [m.entry for m in in_series(kb, parsed, Lexicon(kb).find(parsed)) if m.kind == "name"]
    assert [m for m in found if m not in ("vertebrae_lumbar",)] == members


def test_regions_named_in_the_question():
    regions = load_body_regions(load_knowledge())
    assert regions.said(parse("a growth inside his head").stems) == {"head"}
    assert regions.said(parse("a lump in her tummy").stems) == {"abdomen"}
    assert regions.said(parse("a lump in the liver").stems) == frozenset()


@pytest.mark.parametrize("question, top", [
    ("is there a growth in his head", "brain_tumor"),
    ("a spot somewhere in the chest", "lung_nodule"),
    ("a lump in her tummy", "lesion"),  # the abdomen has no one likely lesion; nothing found by meaning leads
    ("migraines because of a tumour in the brain", "brain_tumor"),  # a lump in the cause is what is asked
    ("his liver blood tests are abnormal, look at the gallbladder", "gallbladder"),  # 'abnormal' is the test
    ("the rib just under the collarbone on the right", "rib_right_1"),  # sided landmark, part of the ribs named
    ("the nerve is pinched between the third and fourth lumbar vertebrae", "vertebrae_L4"),
])
def test_round4_mechanisms(full, question, top):
    result = full.resolve(question)
    assert result.names()[:3] and top in result.names()[:2], result.names()


def test_long_story_focus_picks_the_worry_now(full):
    story = ("my dad is seventy five, he had his gallbladder out years ago, his knees are bad and he takes "
             "tablets for gout, he smokes, but now the vascular surgeon wants to look at the arteries "
             "going down from the bottom of the aorta into the pelvis")
    assert full.resolve(story).names()[0] == "iliac_artery"


def test_lesion_word_next_to_a_test_word_is_no_lesion():
    kb = load_knowledge()
    lexicon = Lexicon(kb)
    assert lexicon.lesion_words(parse("his liver tests are abnormal"), []) == []
    assert lexicon.lesion_words(parse("an abnormal spot on the liver"), [])


def test_round4_set_shape():
    questions = read_questions(DATA / "questions_issue15_round4.jsonl")
    in_scope = [q for q in questions if q.targets]
    assert len(questions) >= 300 and len({q.targets[0] for q in in_scope}) >= 60
    assert sum(1 for q in questions if not q.targets) >= 30
    assert {"very_long", "generic_lesion", "landmark", "function", "cause", "relative", "non_native", "typo",
            "very_short", "out_of_scope"} <= {q.style for q in questions}
