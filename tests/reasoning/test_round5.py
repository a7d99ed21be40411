"""Issue 15, fifth round: more relation phrases, landmarks listed with 'and', kind words that are landmarks,
phrases that spell their own relation, the nearest relation winning, side words inside gapped clues, regions
a question places its target in, deterministic spelling fixes, and the parts of a named whole in the
semantic lead rule."""

from __future__ import annotations

from medsee_cli.reasoning.clause_roles import is_focus
from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.landmarks import related
from medsee_cli.reasoning.scan import ScanContext, load_body_regions
from medsee_cli.reasoning.text import Speller, keyboard_slip, parse, phrase_key

ABDOMEN_CT = ScanContext("CT", frozenset({"abdomen", "pelvis"}))


def top(resolver, question, scan=None):
    return [h.name for h in resolver.resolve(question, scan).hypotheses]


def test_every_landmark_listed_after_a_relation_is_a_landmark(lexical):
    resolution = lexical.resolve("the vessel that divides into the right carotid and the right subclavian")
    assert resolution.hypotheses[0].name == "brachiocephalic_trunk"
    evidence = lexical._evidence(parse("the vessel that divides into the right carotid and the right subclavian",
                                       lexical.speller))[0]
    named = {e.entry for e in evidence if e.kind == "name"}
    assert not named & {"common_carotid_artery_right", "subclavian_artery_right"}


def test_the_nearest_entry_with_a_relation_decides_where_it_comes_from():
    kb = load_knowledge()
    # the right carotid comes from the brachiocephalic trunk; the carotids as a pair from the aorta
    feeders = dict(related(kb, "common_carotid_artery_right", "to"))
    assert "brachiocephalic_trunk" in feeders and "aorta" not in feeders
    assert "aorta" in dict(related(kb, "common_carotid_artery_left", "to"))


def test_a_kind_word_right_after_a_relation_is_a_landmark_not_what_is_asked(lexical):
    asked = lambda q: lexical._evidence(parse(q, lexical.speller))[2]  # noqa: E731
    assert asked("the fat lying just beneath the skin, over the muscles") == set()
    assert asked("which muscle lies over the hip bone") == {"muscle"}
    assert top(lexical, "the fat lying just beneath the skin, over the muscles")[0] == "subcutaneous_fat"


def test_a_phrase_that_spells_its_relation_describes_the_target(lexical):
    evidence = lexical._evidence(parse("the fluid that collected between her lung and the ribs",
                                       lexical.speller))[0]
    kinds = {e.kind for e in evidence if e.entry == "pleural_effusion"}
    assert "clue" in kinds and "landmark" not in kinds


def test_a_side_word_is_no_gap_inside_a_clue(lexical):
    parsed = parse("which vein carries blood back from the left leg", lexical.speller)
    found = {(m.entry, m.phrase) for m in lexical.lexicon.find(parsed)}
    assert ("iliac_vena", "vein from the leg") in found
    assert top(lexical, "which vein carries blood back from the left leg")[0] == "iliac_vena_left"


def test_regions_a_question_places_its_target_in():
    regions = load_body_regions(load_knowledge())
    placed = lambda q: regions.placed(phrase_key(q))  # noqa: E731
    assert placed("the big vein in the pelvis") == {"pelvis"}
    assert placed("a lump inside his head") == {"head"}
    assert placed("pain in the chest, is it the gullet?") == frozenset()  # where a symptom is felt
    assert placed("the pelvis is sore") == frozenset()


def test_a_placed_region_ranks_targets_elsewhere_lower_and_says_why(full):
    def cava(question):
        return next(h for h in full.resolve(question).hypotheses if h.name == "inferior_vena_cava")
    plain, placed = cava("the big vein that brings blood back from the legs"), cava(
        "the big vein in the pelvis that brings blood back from the legs")
    assert placed.score < plain.score and "places it in the pelvis" in placed.rationale
    assert "places it" not in plain.rationale
    assert top(full, "which vein in the pelvis drains the leg")[0] == "iliac_vena"


def test_spelling_ties_break_the_same_way_every_time():
    assert keyboard_slip("lumgs", "lungs") and not keyboard_slip("lumgs", "lumps")
    assert not keyboard_slip("lungs", "lungs") and not keyboard_slip("lung", "lungs")
    for vocabulary in (["lumps", "lungs"], ["lungs", "lumps"]):
        assert Speller(set(vocabulary)).correct("lumgs") == "lungs"
    # no keyboard slip either way: the alphabet decides, not the order of a set
    assert Speller({"liver", "lived"}).correct("livex") == Speller({"lived", "liver"}).correct("livex") == "lived"


def test_new_words_in_the_knowledge_base(lexical):
    assert top(lexical, "anything sinister on this one?", ABDOMEN_CT) == ["lesion"]
    assert top(lexical, "his bowel cancer has got into his liver")[0] == "liver_lesion"
    assert top(lexical, "enlarged LNs")[0] == "lymph_node"
    assert top(lexical, "a fluid-looking blob on the right kidney")[0] == "kidney_cyst_right"
    # 'swollen glands' is what lymph nodes do, not their name: a named thyroid disease wins
    assert top(lexical, "Graves disease, is the gland swollen?")[0] == "thyroid_gland"
    assert top(lexical, "swollen glands under his jaw")[0] == "lymph_node"


def test_a_part_the_words_place_holds_off_its_siblings_found_by_meaning(full):
    names = top(full, "the lobe in between the upper and lower lobes of the right lung")
    assert names[0] == "lung_middle_lobe_right"


def test_asking_says_what_the_worry_is_now():
    assert is_focus(phrase_key("so we are really asking whether there is a bleed"))
    assert not is_focus(phrase_key("she has had migraines since she was a teenager"))


def test_a_medicine_question_is_out_of_scope(full):
    assert full.resolve("which painkiller is the strongest").abstained
