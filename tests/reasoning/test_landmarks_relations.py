"""Issue 15, third round: landmarks said in other word orders, relations read both ways, 'which part of'
questions, clues with extra words inside, sides, and results that say 'nothing there'."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.landmarks import (BACKWARD_WEIGHT, FORWARD_WEIGHT, NEAR, TRANSITIVE_WEIGHT, asked_wholes,
                                            find_anchors, masked, related)
from medsee_cli.reasoning.lexicon import NAME, of_form
from medsee_cli.reasoning.sides import lend_to_side, off_side
from medsee_cli.reasoning.text import parse


def _anchors(resolver, question: str) -> list[tuple[str, str]]:
    parsed = parse(question, resolver.speller)
    matches = resolver.lexicon.find(parsed)
    heads = sorted([(s, e) for s, e, _ in resolver.lexicon.type_words(parsed, matches)]
                   + [(m.start, m.end) for m in matches if m.kind == NAME])[:1]
    found = find_anchors(parsed, matches, resolver.lexicon.relations(parsed), heads)
    return [(a.landmark.entry, a.relation) for a in found]


@pytest.mark.parametrize("question, anchors", [
    ("the gland in front of the windpipe", [("trachea", "in_front_of")]),
    # a relation word left at the end after 'the X verb': the target is on the other side of it
    ("the big organ the gallbladder hangs underneath", [("gallbladder", "above")]),
    # ... and without a determiner the relation word comes after its landmark
    ("the doctor say my husband heart water around", [("heart", "around")]),
    # the subject of a clause about the thing asked for: the relation phrase after it read the other way (round 8:
    # the aorta splits into them, so they come from it); near it when no relation phrase follows
    ("the arteries the aorta splits into at the bottom of the belly", [("aorta", "from")]),
    ("the pelvic bone the thigh bone fits into", [("femur", NEAR)]),
    # 'round' is no relation when another preposition comes before any landmark; a list is no clause
    ("a small round thing in the lung", []),
    ("the liver the spleen and the kidneys", []),
])
def test_landmarks_in_several_word_orders(lexical, question, anchors):
    assert _anchors(lexical, question) == anchors


def test_relations_are_read_both_ways_and_one_step_further():
    kb = load_knowledge()
    # the knowledge base says 'gallbladder: under liver'; asked the other way round it still answers
    assert dict(related(kb, "gallbladder", "above")) == {"liver": BACKWARD_WEIGHT}
    # behind the breastbone: the heart (said), then the esophagus (behind the heart)
    behind = dict(related(kb, "sternum", "behind"))
    assert behind["heart"] == FORWARD_WEIGHT and behind["esophagus"] == TRANSITIVE_WEIGHT


@pytest.mark.parametrize("question, wholes", [
    ("which vertebra is broken", ["vertebrae"]),
    ("what part of the spine is that", ["vertebrae"]),
    ("which lobe of the lung has the shadow", ["lungs"]),
    ("which kidney is bigger", []),  # a side is asked for, and the question must say it
])
def test_which_part_of_a_whole(lexical, question, wholes):
    parsed = parse(question, lexical.speller)
    names = [m for m in lexical.lexicon.find(parsed) if m.kind == NAME]
    assert [m.entry for m in asked_wholes(lexical.kb, parsed, names)] == wholes
    assert lexical.resolve(question).top not in wholes


def test_clues_match_with_a_few_extra_words_names_do_not(lexical):
    found = lexical.lexicon.find(parse("which part of the bowel absorbs most of the food", lexical.speller))
    assert [(m.entry, m.kind, m.gaps) for m in found] == [("small_bowel", "clue", 3)]
    assert not any(m.gaps for m in lexical.lexicon.find(parse("the left lower ribs", lexical.speller)))
    # the phrase found with gaps covers the lesion word inside it: a pulsating mass is the aorta, not a lump
    assert lexical.resolve("pulsatile abdominal mass").top == "aorta"


def test_two_word_names_the_other_way_round(lexical):
    assert of_form("bottom muscle") == "muscle of the bottom" and of_form("left kidney") == ""
    assert lexical.resolve("the muscle of the bottom").top == "gluteus_maximus"


def test_a_result_that_says_nothing_is_there_negates_what_came_before():
    parsed = parse("her pregnancy test was negative, the pain is low on the right")
    assert parsed.negated[:4] == (True, True, True, False) and not any(parsed.negated[5:])
    assert not any(parse("is it normal to feel nervous").negated)


def test_a_stated_side_moves_meaning_to_that_member_and_away_from_organs_of_the_other_side():
    kb = load_knowledge()
    lent = lend_to_side(kb, {"kidneys": 0.8, "kidney_right": 0.6}, "right")
    assert lent["kidney_right"] == 0.8 and "kidney_left" not in lent
    notes: dict[str, list[str]] = {}
    moved = off_side({"spleen": 1.0, "liver": 1.0, "kidneys": 1.0}, "right", set(), 0.7, notes)
    assert moved == {"spleen": 0.7, "liver": 1.0, "kidneys": 1.0} and "usually lies on the left" in notes["spleen"][0]
    assert off_side({"spleen": 1.0}, "right", {"spleen"}, 0.7, {}) == {"spleen": 1.0}  # named: kept


def test_the_masked_reading_keeps_what_describes_the_target(lexical):
    parsed = parse("the gland in front of the windpipe", lexical.speller)
    windpipe = [(m.start, m.end) for m in lexical.lexicon.find(parsed) if m.entry == "trachea"]
    assert masked(parsed, windpipe) == "the gland in front of the something"


@pytest.mark.parametrize("question, top", [
    ("the big organ the gallbladder hangs underneath", "liver"),
    ("the gristle joining the ribs to the breastbone", "costal_cartilages"),
    ("the worm-like tube hanging off the start of the large bowel", "appendix"),
    ("which duct drains bile into the gut", "bile_duct"),
])
def test_landmark_questions_end_to_end(full, question, top):
    assert full.resolve(question).top == top
