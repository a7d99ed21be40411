"""Issue 15, eighth round: what a question asks for (advice, the outlook, a treatment: no place), a broad list of
parts without a target, word-for-word translations written out, 'the top one', results asked about, a clause
pointed back at, relations spelled by a phrase or said after the subject, lumps placed by a relation, slips
that keep a word's sound, phrases said without articles, and knowledge data (relations, abbreviations)."""

from __future__ import annotations

import pytest

from medsee_cli.reasoning.clause_roles import clause_factors, pointed_at
from medsee_cli.reasoning.intent import other_request
from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.landmarks import FORWARD_WEIGHT, LOOSE_WEIGHT, NEAR, related
from medsee_cli.reasoning.lexicon import NAME
from medsee_cli.reasoning.series import one_said_out
from medsee_cli.reasoning.data import read
from medsee_cli.reasoning.shorthand import CALQUES_RESOURCE, calques, expand
from medsee_cli.reasoning.text import Speller, parse, phrase_key, sound_key
from medsee_cli.reasoning.uncovered import RESOURCE, uncovered_parts
from tests.reasoning.test_landmarks_relations import _anchors


def top(resolver, question, scan=None):
    return [h.name for h in resolver.resolve(question, scan).hypotheses]


@pytest.mark.parametrize("question, about", [
    ("is a fatty liver reversible if I change my diet?", "outlook"),
    ("what are my chances of surviving stage 3 lung cancer?", "outlook"),
    ("how long is recovery after having my appendix out?", "treatment"),
    ("why do I have to stop eating before gallbladder surgery?", "explanation"),  # the longest phrase says it
    ("can I breastfeed after having a CT with contrast?", "get ready"),
    ("which painkiller is best for my kidney stones", "treatment"),  # 'which' inside the request asks for no place
])
def test_a_request_for_advice_the_outlook_or_a_treatment_is_read(question, about):
    assert about in other_request(parse(question))


@pytest.mark.parametrize("question", [
    "is my liver enlarged?", "can you show me the liver?", "should I worry about the spot on my kidney?",
    "where is the tumour they want to treat?",  # asks for a place as well
    "I am not asking about treatment, where is the tumour",  # negated
    "the specialist wants to check my pancreas", "steroid tablets for years, any crush fracture in the spine",
])
def test_a_question_that_asks_for_a_place_is_no_other_request(question):
    assert other_request(parse(question)) == ""


def test_the_resolver_abstains_on_another_request_and_says_what_it_asks(lexical):
    result = lexical.resolve("will the cyst on my ovary go away on its own?")
    assert result.abstained and "the outlook" in result.answer
    story = ("my mum had breast cancer and was treated with surgery and radiotherapy years ago, now her back aches "
             "at night and the oncologist wants a scan, where would the spread be")
    assert not lexical.resolve(story).abstained  # long stories tell their history with these words


def test_parts_without_a_target_are_many_by_region_and_name_no_target(lexical):
    raw = read(RESOURCE)["uncovered_parts"]
    assert {"head_and_face", "neck", "leg"} <= set(raw) and len(uncovered_parts()) >= 150
    names = {key for key, hits in lexical.lexicon.index.items() if any(kind == NAME for _, kind, _ in hits)}
    assert not names & set(uncovered_parts()), names & set(uncovered_parts())
    assert {phrase_key(word) for word in ("teeth", "feet", "calves")} <= set(uncovered_parts())  # 'nerves': stemmed


@pytest.mark.parametrize("question, part", [
    ("segment the optic nerves", "optic nerve"),
    ("the salivary gland in front of my ear", "salivary gland"),  # 'gland' in it names no target
    ("my calf muscles", "calf muscle"),
    ("the vocal cords please", "vocal cord"),  # nor does 'cord'
])
def test_a_part_without_a_target_abstains_even_with_a_generic_word_in_it(lexical, question, part):
    result = lexical.resolve(question)
    assert result.abstained and f"no target for the {part}" in result.answer


def test_every_calque_means_a_knowledge_base_name(lexical):
    raw = read(CALQUES_RESOURCE)
    for name in raw["means"]:
        hits = lexical.lexicon.index.get(phrase_key(name), [])
        assert any(kind == NAME for _, kind, _ in hits), name
    assert len(calques()) >= 300


@pytest.mark.parametrize("text, plain", [
    ("the blind gut is inflamed", "the appendix is inflamed"),
    ("Twelve-finger gut", "duodenum"),
    ("the twelvefinger gut", "the duodenum"),  # a space or hyphen may be left out
    ("show me the Milt", "show me the spleen"),
    ("the lung of right, the down part", "the lung of right, the lower part"),
    ("caused by kidney stones", "caused by kidney stones"),  # not 'by-kidney'
    ("R/O HCC", " check for  HCC"),  # slashed shorthand, any case; unlike 'ruled out'
])
def test_calques_and_slashed_shorthand_are_written_out(text, plain):
    assert expand(text) == plain


@pytest.mark.parametrize("question, target", [
    ("the blind gut is inflamed", "appendix"),
    ("where is the shield gland", "thyroid_gland"),
    ("bone of arm right is broken", "humerus_right"),  # 'bone of the arm' said without its article
    ("the cervical vertebra number seven", "vertebrae_C7"),  # a place said after the series' name
    ("the lumbar vertebrae, the last", "vertebrae_L5"),
    ("which rib is the very top one on the left", "rib_left_1"),  # 'one' after a place word: the rib
    ("on the right, the lobe squeezed between the top lobe and the bottom lobe", "lung_middle_lobe_right"),
    ("r/o HCC in cirrhotic liver", "liver_lesion"),  # a lesion named with its organ: the organ is where it is
    ("Mom had a clot in the big vein just above her heart", "superior_vena_cava"),  # a filler inside a name
    ("I have stone inside the tube of bile", "bile_duct"),  # where a stone is, is no landmark
    ("the organ behind the stomach and in front of the spine", "pancreas"),
    ("L CIA aneurysm", "iliac_artery_left"),
    ("which vein drains the left arm into the SVC?", "brachiocephalic_vein_left"),
    ("the bone whose rounded head sits in the right hip socket", "femur_right"),
])
def test_round8_questions_read_by_the_phrase_rules(lexical, question, target):
    assert top(lexical, question)[0] == target


def test_one_after_a_place_word_is_the_thing_asked_about():
    assert one_said_out("which rib is the very top one on the left") == "which rib is the very top rib on the left"
    assert one_said_out("Which organ is the biggest solid one?") == "Which organ is the biggest solid organ?"
    assert one_said_out("which vertebra is the knobbly one") == "which vertebra is the knobbly one"  # no place


def test_a_result_asked_about_negates_nothing():
    assert parse("the aorta looked okay").negated[1]
    assert not any(parse("is the right lower lobe there and does it look okay?").negated)
    assert not any(parse("the uterus of my wife is normal size?").negated)


def test_a_clause_pointed_back_at_is_a_focus():
    clauses = [phrase_key(text) for text in ("I went in with a cough", "the heart looked fine",
                                             "the doctor said there is fluid building up",
                                             "can you segment that fluid")]
    assert pointed_at(clauses[-1]) == {"fluid"}
    assert clause_factors(clauses, long=True)[2] == 1.0 and clause_factors(clauses, long=True)[0] < 1.0
    after = [phrase_key("they want to look at the vessels that supply the heart"), phrase_key("can you highlight them")]
    assert clause_factors([phrase_key("he had a stent")] + after, long=True) == [0.4, 1.0, 1.0]


def test_a_phrase_that_spells_its_relation_places_only_its_own_target(lexical):
    names = top(lexical, "fluid between the lung and the ribs")
    assert names[0] == "pleural_effusion" and "pulmonary_artery" not in names


def test_a_relation_after_the_subject_of_a_relative_clause_is_read_the_other_way(lexical):
    assert _anchors(lexical, "which arteries does the aorta split into") == [("aorta", "from")]
    assert ("hip_right", NEAR) in _anchors(lexical, "the bone whose head sits in the right hip socket")


def test_next_to_fits_a_neighbour_better_than_a_target_in_front_of_it():
    found = dict(related(load_knowledge(), "aorta", "next_to"))
    assert found["inferior_vena_cava"] == FORWARD_WEIGHT and found["pulmonary_artery"] == LOOSE_WEIGHT


def test_a_direction_is_no_side():
    parsed = parse("the vein crossing from left to right")
    assert not parsed.sides()


def test_slips_that_keep_the_sound_are_read_in_their_phrase():
    speller = Speller({"lung", "nodule", "kidney", "cyst", "aorta", "sits", "eyes"},
                      {("lung", "nodule"), ("kidney", "cyst")})
    assert sound_key("cyst") == sound_key("sist") and sound_key("noodle") == sound_key("nodule")
    assert parse("lung noodle", speller).stems == ("lung", "nodule")  # a real word, read in its phrase
    assert parse("left kidny sist", speller).stems[-1] == "cyst"  # not 'sits'
    assert speller.correct("aorter") == "aorta" and speller.correct("wees") == "wees"  # short words: too many


def test_round8_data(full):
    assert top(full, "tiny lump on the gland above the kidney")[0] == "adrenal_lesion"
    assert top(full, "the lung of right, the down part")[0] == "lung_lower_lobe_right"
    assert top(full, "hollow organ sitting just behind the pubic bone")[0] == "urinary_bladder"
