"""Issue 15, third round: clinician shorthand written out, long questions read clause by clause, and
what each clause does (ask, or tell the history)."""

from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.reasoning.clause_roles import ClauseRoles, is_background
from medsee_cli.reasoning.clauses import ClauseOptions, clause_spans, is_long, pooled_scores
from medsee_cli.reasoning.semantic import REJECT, IndexText, SemanticIndex
from medsee_cli.reasoning.shorthand import expand
from medsee_cli.reasoning.text import parse, phrase_key

LONG = ("my dad is seventy, sorry for the long message, he has had a cough for months and coughed up blood, "
        "he smoked for years, what will they look at")


@pytest.mark.parametrize("text, plain", [
    ("R renal colic, ?calculus", "right renal colic, ?calculus"),
    ("LIF pain", "left iliac fossa pain"),
    ("SOB on exertion", "short of breath on exertion"),
    ("L spine pain", "L spine pain"),  # the lumbar spine, not a side
    ("CA 125 raised", "CA 125 raised"),  # a blood test: a number follows
    ("L1 wedge", "L1 wedge"),  # whole words only
])
def test_shorthand_is_written_out(text, plain):
    assert expand(text) == plain


def test_symbols_are_written_out_and_both_sides_read_the_same(lexical):
    assert expand("#NOF").split() == ["fracture", "NOF"]
    assert lexical.resolve("R renal colic").top == "kidney_right"
    assert lexical.resolve("#clavicle L after fall").top == "clavicula_left"
    assert lexical.resolve("LIF pain and fever, ?diverticulitis").top == "colon"  # not the left iliac artery


def test_clauses_of_a_long_question():
    spans = clause_spans(LONG)
    assert [LONG[a:b].strip() for a, b in spans][:2] == ["my dad is seventy", "sorry for the long message"]
    assert is_long(LONG, ClauseOptions()) and not is_long("where is the liver, please", ClauseOptions())
    assert clause_spans("ok, so") == []  # one-word pieces are no clauses


def test_pooled_scores_weigh_chatter_little_and_keep_the_whole_questions_level():
    axes = np.eye(3, dtype=np.float32)
    index = SemanticIndex((IndexText("a", "liver", 1.0), IndexText("b", "lungs", 1.0), IndexText("c", REJECT, 1.0)),
                          axes)
    whole = np.array([0.6, 0.6, 0.5], dtype=np.float32)
    complaint = np.array([0.1, 0.9, 0.1], dtype=np.float32)  # close to the lungs
    chatter = np.array([0.5, 0.1, 0.9], dtype=np.float32)  # closer to the out-of-scope example than to any target
    scores, reject = pooled_scores(index, whole, np.stack([complaint, chatter]), np.ones(2))
    assert scores["lungs"] > scores["liver"] and reject == pytest.approx(0.5)
    assert max(scores.values()) == pytest.approx(0.6)  # the best equals the whole question's best
    muted, _ = pooled_scores(index, whole, np.stack([complaint, chatter]), np.array([0.0, 1.0]))
    assert muted["liver"] > muted["lungs"]  # with the complaint clause muted, the chatter decides


def test_clause_roles():
    assert is_background(phrase_key("she had breast cancer ten years ago"))
    assert not is_background(phrase_key("she has had pain in her hips for a month"))
    parsed = parse("my granddad cannot pee, they put a tube in, which gland is it")
    roles = ClauseRoles.of(parsed)
    tube, gland = parsed.raw.index("tube"), parsed.raw.index("gland")
    assert not roles.asks_for_kind(tube, long=True) and roles.asks_for_kind(gland, long=True)
    assert roles.asks_for_kind(tube, long=False)  # a short question keeps every kind word


def test_encode_parts_is_one_pass_of_the_same_encoder(full):
    text = "my dad has a cough, he smoked for years, what will they look at"
    whole, parts = full.encoder.encode_parts(text, [(0, 17), (19, 38), (40, len(text))])
    assert float(whole @ full.encoder.encode([text])[0]) > 0.9999
    assert parts.shape == (3, whole.shape[0]) and np.allclose(np.linalg.norm(parts, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("question, top", [
    ("my aunt is sixty, she's had a lot of pain in her hips and back that keeps her up at night, she had breast "
     "cancer ten years ago and was treated, she's lost weight and is very tired, what are they looking for",
     "bone_lesion"),
    ("my granddad is eighty three and he was getting up to pee five or six times a night, the stream is weak and "
     "he dribbles, now he can't go at all, they put a tube in, what will the scan look at", "prostate"),
])
def test_long_questions_end_to_end(full, question, top):
    assert full.resolve(question).top == top
