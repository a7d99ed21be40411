"""The phrase-level resolver (no encoder): sides, unions, negation, relations, typos, abstention."""

from __future__ import annotations

import time

import pytest


@pytest.mark.parametrize("question, top", [
    ("show me the left kidney", "kidney_left"),
    ("my right kidney hurts", "kidney_right"),
    ("both kidneys please", "kidneys"),
    ("the kidney on the right side", "kidney_right"),
    ("broken 5th rib on the right", "rib_right_5"),
    ("cyst on my left kidney", "kidney_cyst_left"),
    ("tumour in the pancreas", "pancreatic_lesion"),
    ("she broke her right arm", "humerus_right"),
    ("pain under her right ribs after fatty meals", "gallbladder"),
])
def test_names_sides_and_lesions(lexical, question, top):
    assert lexical.resolve(question).top == top


def test_several_targets_in_one_question(lexical):
    names = lexical.resolve("left lung and right kidney").names()
    assert set(names[:2]) == {"lung_left", "kidney_right"}


def test_negation_and_relation(lexical):
    result = lexical.resolve("not the kidney, the thing above it")
    assert result.top == "adrenal_glands"
    assert "kidneys" in result.excluded and "kidneys" not in result.names()
    assert lexical.resolve("not the liver, the thing under it").top == "gallbladder"
    assert "liver" not in lexical.resolve("the liver? no, not the liver, the spleen").names()


def test_typos_are_tolerated_and_reported(lexical):
    result = lexical.resolve("my left kindey hurts")
    assert result.top == "kidney_left"
    assert "'kindey' as 'kidney'" in result.answer
    assert lexical.resolve("where is teh pancrease").top == "pancreas"
    assert lexical.resolve("i heard he lives near a river").abstained


def test_symptom_leads_to_plausible_targets_with_reasons(lexical):
    result = lexical.resolve("where is the thing causing his jaundice?")
    assert not result.abstained
    assert {"bile_duct", "pancreatic_lesion", "liver_lesion", "gallbladder"} <= set(result.names())
    assert "jaundice" in result.hypotheses[0].rationale
    assert "not what is wrong" in result.answer
    for hypothesis in result.hypotheses:
        assert 0.0 < hypothesis.score <= 1.0 and hypothesis.code.isdigit()


@pytest.mark.parametrize("question", ["", "   ", "?!", "what's the weather tomorrow", "asdfgh qwerty"])
def test_out_of_scope_abstains(lexical, question):
    result = lexical.resolve(question)
    assert result.abstained and result.hypotheses == ()
    assert result.answer


def test_lexical_resolution_is_fast(lexical):
    started = time.perf_counter()
    for _ in range(20):
        lexical.resolve("my dad has yellow eyes and lost weight, is it his pancreas?")
    assert (time.perf_counter() - started) / 20 < 0.05
