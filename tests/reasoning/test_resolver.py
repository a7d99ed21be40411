"""The phrase-level resolver (no encoder): sides, unions, negation, relations, typos, abstention."""

from __future__ import annotations


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


def test_word_forms_stems_and_spellings():
    from medsee_cli.reasoning.text import american_spelling, stem

    assert {stem(w) for w in ["pees", "peeing", "wee", "urine"]} == {"pee"}
    assert stem("burning") == stem("burns") == "burn"
    assert stem("haemorrhage") == stem("bleeding") == stem("blood") == "bleed"
    assert stem("swollen") == stem("enlarged") == stem("big")
    assert [american_spelling(w) for w in ["oesophagus", "diarrhoea", "coeliac", "tumour", "four", "shoe"]] == \
        ["esophagus", "diarrhea", "celiac", "tumor", "four", "shoe"]


@pytest.mark.parametrize("question, top", [
    ("she pees a lot and it burns", "urinary_bladder"),
    ("haemorrhage in the brain", "intracerebral_hemorrhage"),
    ("hydroureter on the left", "ureter"),
    ("overactive thyroid, show the gland", "thyroid_gland"),
    ("the atlas vertebra", "vertebrae_C1"),
    ("ring-enhancing lesion in the brain", "brain_tumor"),
    ("LLL infiltrate", "lung_lower_lobe_left"),
])
def test_general_mechanisms(lexical, question, top):
    """Word forms, medical prefixes, a name inside a clue, part inside whole, lesion words in clues,
    a one-sided synonym."""
    assert lexical.resolve(question).top == top


def test_real_words_are_not_typos_and_generic_names_are_weak(lexical):
    result = lexical.resolve("can you book me a taxi")
    assert result.abstained and "boob" not in result.answer
    assert lexical.resolve("the gland behind the stomach").top in {"pancreas", "spleen"}
