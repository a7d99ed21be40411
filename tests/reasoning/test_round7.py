"""Issue 15, seventh round: parts of the body no target covers, more relation phrases (now data), an organ
named as where a cancer started ('known lung primary'), earlier guesses in a story, results said 'a normal
shape', real words' plural forms left alone by the speller, typos read for the encoder too, and data
(lesion, lay and clue words)."""

from __future__ import annotations

from medsee_cli.reasoning.clause_roles import is_background
from medsee_cli.reasoning.lexicon import relation_words
from medsee_cli.reasoning.scan import ScanContext
from medsee_cli.reasoning.text import parse, phrase_key, with_corrections
from medsee_cli.reasoning.uncovered import uncovered_parts


def top(resolver, question, scan=None):
    return [h.name for h in resolver.resolve(question, scan).hypotheses]


def test_a_part_without_a_target_abstains_and_says_so(lexical):
    for question in ("show me her ankle", "he twisted his knee, which bone is it", "what about the testicles"):
        result = lexical.resolve(question)
        assert result.abstained and "no target" in result.answer, question
    assert ("knee",) in uncovered_parts()


def test_a_part_without_a_target_as_a_landmark_or_in_an_idiom_does_not_abstain(lexical):
    assert "no target" not in lexical.resolve("the long bone between the shoulder and the elbow").answer
    assert top(lexical, "they keep an eye on his aorta")[0] == "aorta"
    assert top(lexical, "the tube coming down from the kidney to the bladder")[0] == "ureter"


def test_relation_phrases_are_data_and_include_the_old_ones():
    words = relation_words()
    assert words[("in", "front", "of")] == "in_front_of" and words[("coming", "down", "from")] == "from"


def test_an_organ_named_as_the_primary_is_not_where_to_look(lexical):
    head = ScanContext(modality="MR", regions=frozenset({"head"}))
    assert top(lexical, "?mets, known breast primary", head)[0] == "brain_tumor"
    assert top(lexical, "mets in the liver from the breast")[0] == "liver_lesion"


def test_an_earlier_guess_is_background_even_with_a_focus_word():
    assert is_background(phrase_key("they thought at first it was his appendix"))
    assert not is_background(phrase_key("they thought it was his appendix"))


def test_a_result_with_a_word_between_the_verb_and_normal_negates_what_it_names():
    parsed = parse("my womb is a normal shape and there is a cyst")
    assert parsed.negated[parsed.raw.index("womb")] and not parsed.negated[parsed.raw.index("cyst")]


def test_a_real_words_plural_is_no_typo_and_typos_reach_the_encoder(lexical):
    assert lexical.speller.correct("blames") == "blames" and lexical.speller.correct("bloods") == "bloods"
    assert with_corrections("I make the scan for the Prostata", [("prostata", "prostate")]).endswith("prostate")


def test_data_additions(lexical):
    assert top(lexical, "show my hart")[0] == "heart"
    assert top(lexical, "left kidney, bosniak 2f")[0] == "kidney_cyst_left"
    assert top(lexical, "pl eff on the left")[0] in ("pleural_effusion", "pleural_effusion_left")
