"""Landmarks said on a surface ('on the back of'), in a later 'whose' clause, before a stranded relation word with
nothing between, and after a verb of joining with its particle ('joins onto')."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.landmarks import NEAR, on_surfaces
from medsee_cli.reasoning.text import parse

from tests.reasoning.test_landmarks_relations import _anchors


@pytest.mark.parametrize("question, anchors", [
    # a 'whose' clause later in the head's clause: what it names describes the target, it is not the target
    ("the organ behind the stomach whose tail reaches the spleen", [("stomach", "behind"), ("spleen", NEAR)]),
    # a name right before a relation word that ends the clause: the target is on the other side of it
    ("the organ with the back passage behind", [("rectum", "in_front_of")]),
    # the particle of a verb of joining is no preposition that ends the search for the landmark
    ("the gristle that joins onto the breastbone", [("sternum", "connects")]),
])
def test_more_landmark_word_orders(lexical, question, anchors):
    assert _anchors(lexical, question) == anchors


def _surfaces(resolver, question: str) -> list[str]:
    parsed = parse(question, resolver.speller)
    matches = resolver.lexicon.find(parsed)
    return [relation for _, _, relation in on_surfaces(resolver.kb, parsed, matches,
                                                      resolver.lexicon.relations(parsed))]


def test_a_surface_places_the_target_only_where_the_knowledge_base_has_something(lexical):
    # the shoulder blade lies behind the ribs; 'over' inside the longer phrase says nothing more
    assert _surfaces(lexical, "the wing-shaped bone lying over the back of the ribs") == ["behind"]
    # nothing lies behind the skull: the back of the skull is a part of it
    assert _surfaces(lexical, "the bone on the back of the skull") == []


@pytest.mark.parametrize("question, top", [
    ("the wing-shaped bone across the back of the ribs", "scapula"),
    ("the bone on the back of the skull", "skull"),
    ("the organ behind the stomach whose tail reaches the spleen", "pancreas"),
    ("the gristle that joins onto the breastbone", "costal_cartilages"),
])
def test_surface_and_clause_landmarks_end_to_end(full, question, top):
    assert full.resolve(question).top == top
