"""A member of an ordered series named by its neighbour ('the vertebra just above L1' is T12) or as an end of
the series ('the very top of the spine' is C1): `neighbours.py`, `series.py`."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.lexicon import Match
from medsee_cli.reasoning.neighbours import said_out, series_of, stepped, steps
from medsee_cli.reasoning.text import parse


def top(resolver, question):
    return [h.name for h in resolver.resolve(question).hypotheses]


def test_step_phrases_and_their_direction():
    found = [(s.start, s.end, s.delta) for s in steps(parse("the next one up from L3"))]
    assert found == [(1, 2, 1), (3, 5, -1)]  # 'next' counts down; 'up from' up
    assert [s.delta for s in steps(parse("the bone lying directly superior to C3"))] == [-1]
    assert steps(parse("the rib next to the fifth rib")) == []  # beside it: no step


def test_the_longest_series_counts_across_its_parts():
    kb = load_knowledge()
    assert series_of(kb, "vertebrae_L1")[0] == "vertebrae_C1"  # all 25 vertebrae, not the 5 lumbar ones
    assert len(series_of(kb, "rib_right_4")) == 12 and series_of(kb, "kidney_left") == ()
    l1 = Match(3, 4, "vertebrae_L1", "name", "l1")
    assert stepped(kb, parse("one up from l1"), l1, -1) == ["vertebrae_T12"]
    l5 = Match(2, 3, "vertebrae_L5", "name", "l5")
    assert stepped(kb, parse("just under l5"), l5, 1) == ["vertebrae_S1", "sacrum"]  # S1 is the sacrum's top
    c1 = Match(2, 3, "vertebrae_C1", "name", "c1")
    assert stepped(kb, parse("the one above c1"), c1, -1) == []


def test_the_side_said_in_the_members_words_is_kept():
    kb = load_knowledge()
    said = Match(4, 7, "rib_left_7", "name", "7th rib")  # found without its side word: 'right' is inside it
    assert stepped(kb, parse("the rib above the 7th right rib"), said, -1) == ["rib_right_6"]
    plain = Match(3, 5, "rib_left_5", "name", "fifth rib")  # no side: the resolver lends the question's
    assert stepped(kb, parse("the rib under the fifth rib"), plain, 1) == ["rib_left_6"]


def test_the_question_lends_its_side(lexical):
    assert top(lexical, "on the right side, the rib just under the fifth rib")[0] == "rib_right_6"
    assert top(lexical, "the rib above the 7th right rib")[0] == "rib_right_6"


@pytest.mark.parametrize("question, expected", [
    ("which vertebra lies one above L1?", "vertebrae_T12"),
    ("the vertebra immediately below C4", "vertebrae_C5"),
    ("the rib immediately beneath the left fifth rib", "rib_left_6"),
    ("the next rib down from rib 3 on the right", "rib_right_4"),
    ("the one after T4", "vertebrae_T5"),
    ("the next one up from L3", "vertebrae_L2"),
    ("L2 and the level below it", "vertebrae_L3"),
    ("the vertebra caudal to L2", "vertebrae_L3"),  # 'caudal' is read as written, not as 'cauda'
    ("is there a fracture in the vertebra just below T8?", "vertebrae_T9"),
    ("on the left, which rib sits under the eighth rib", "rib_left_9"),
])
def test_the_neighbour_named_by_a_step(lexical, question, expected):
    assert top(lexical, question)[0] == expected


def test_no_step_when_the_question_names_another_target_or_no_member_is_asked(lexical):
    assert top(lexical, "the kidney below the 12th rib")[0] == "kidneys"  # the rib is a landmark
    assert "rib_left_11" not in top(lexical, "pain just below the left 10th rib")  # pain is no member
    assert "rib_left_6" not in top(lexical, "the rib next to the fifth rib")


def test_a_step_past_the_end_of_the_series_or_a_lump_in_the_neighbour(lexical):
    assert top(lexical, "the vertebra above C1")  # nothing above C1: no neighbour, an answer still
    assert top(lexical, "a metastasis in the vertebra right above L4")[0] == "bone_lesion"
    assert set(top(lexical, "which bone sits beneath L5")[:2]) == {"vertebrae_S1", "sacrum"}


def test_the_end_of_a_series_said_as_the_top_of_it(lexical):
    assert top(lexical, "the top of the lumbar spine")[0] == "vertebrae_L1"
    assert top(lexical, "the very bottom of the thoracic spine")[0] == "vertebrae_T12"
    assert top(lexical, "the top of the left ribs")[0] == "rib_left_1"
    assert top(lexical, "the kidney at the top of the lumbar spine")[0] == "kidneys"  # another target named
    assert "vertebrae_L1" not in top(lexical, "what sits on top of the lumbar spine")  # above it, not its end


def test_the_encoder_reads_the_neighbour_by_its_name(full):
    assert said_out("The vertebra just above L1?", ((("above", "l1"), "the T12 vertebra"),)) == \
        "The vertebra just the T12 vertebra?"
    assert said_out("the vertebra above l1", ((("below", "l1"), "x"),)) == "the vertebra above l1"  # not there
    assert top(full, "which vertebra lies one above L1?")[0] == "vertebrae_T12"
    assert top(full, "the rib immediately beneath the left fifth rib")[0] == "rib_left_6"
    assert top(full, "the vertebra after C2")[0] == "vertebrae_C3"
    assert top(full, "which bone is at the very top of the backbone?")[0] == "vertebrae_C1"
    assert top(full, "which bone is at the very bottom of the backbone?")[0] == "sacrum"
