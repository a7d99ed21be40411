"""Issue 15, second round: everyday views of each target for the encoder, landmarks implied by the kind
asked for, causes that are not the place, and relation phrases read more loosely."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.semantic import index_texts, lay_views, relation_view
from medsee_cli.reasoning.text import parse


def test_every_view_belongs_to_a_known_target_and_is_embedded():
    kb = load_knowledge()
    views = lay_views()
    assert len(views) >= 60 and all(name in kb for name in views)
    assert all(texts and all(view.strip() for view in texts) for texts in views.values())
    embedded = {(item.owner, item.text) for item in index_texts(kb)}
    assert ("prostate", views["prostate"][0]) in embedded


def test_relations_read_as_one_sentence_with_the_kind_word():
    kb = load_knowledge()
    assert relation_view(kb, kb.get("thyroid_gland")) == "the gland in front of the windpipe"
    assert relation_view(kb, kb.get("pulmonary_artery")).startswith("the vessel coming from the heart and going to "
                                                                     "the lungs and in front of the aorta")
    assert relation_view(kb, kb.get("lymph_node")) == ""


@pytest.mark.parametrize("question, relation", [
    ("the bone at the very bottom of the backbone", "below"),
    ("the vein leaving the liver", "from"),
    ("the vessel that goes into the heart", "to"),
    ("fluid round the lungs", "around"),
    # round 5: a surface of the landmark, hanging from it, flowing on into it
    ("the sac on the underside of the liver", "under"),
    ("the thing dangling off the bowel", "from"),
    ("the artery that splits into the carotids", "to"),
    ("the vessel that gives rise to the carotid", "to"),
    ("the vein just before the heart", "to"),
    ("the vein that brings blood back from the leg", "from"),
])
def test_relation_phrases_with_fillers_and_more_verbs(lexical, question, relation):
    parsed = parse(question, lexical.speller)
    assert relation in {r for _, _, r in lexical.lexicon.relations(parsed)}


def test_a_cause_is_no_relation_and_pain_all_over_is_no_place(lexical):
    parsed = parse("bone pain all over from her myeloma", lexical.speller)
    assert lexical.lexicon.relations(parsed) == []
    assert lexical.lexicon.cause_spans(parsed) == [(5, 7)]  # 'her myeloma'
    chained = parse("the vessel branching off the aorta to the arm", lexical.speller)
    assert {"from", "to"} <= {r for _, _, r in lexical.lexicon.relations(chained)}


@pytest.mark.parametrize("question, top, cause", [
    ("fluid round the lungs from her heart failure", "pleural_effusion", "heart"),
    ("bone pain all over from her myeloma", "bone_lesion", ""),
    ("his prostate cancer has spread into the spine", "bone_lesion", "prostate"),
])
def test_a_cause_or_origin_is_not_the_place(lexical, question, top, cause):
    result = lexical.resolve(question)
    assert result.top == top
    scores = dict((h.name, h.score) for h in result.hypotheses)
    assert not cause or scores.get(cause, 0.0) < scores[top]


def test_a_structure_of_another_kind_than_asked_is_a_landmark(lexical):
    result = lexical.resolve("which bone holds the brain")
    assert result.top == "skull"
    scores = dict((h.name, h.score) for h in result.hypotheses)
    assert scores.get("brain", 0.0) < 0.5 * scores["skull"]
    alone = lexical.resolve("which muscle bends the hip")  # no muscle is named: the hip stays, as a landmark
    assert "only to say where to look" in alone.hypotheses[0].rationale


def test_a_weak_clue_says_whose_lesion_a_shadow_is(lexical):
    assert lexical.resolve("a smoker for forty years, there was a shadow on the x ray").top == "lung_nodule"


def test_views_help_meaning_only_questions(full):
    assert full.resolve("where the sperm fluid is made").top == "prostate"
    assert full.resolve("the box of bone that holds the brain").top == "skull"
