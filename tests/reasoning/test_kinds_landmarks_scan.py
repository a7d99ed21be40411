"""Issue 15: kinds of targets, landmarks that are not the answer, cancers named as the cause, the
generic lesion, and ranking against the scan in view (phrase-only resolver unless stated)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medsee_cli.errors import InputError
from medsee_cli.io import load_volume
from medsee_cli.io.volume import Volume
from medsee_cli.reasoning.evaluate import evaluate_questions, read_questions
from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.scan import ScanContext, scan_context
from tests.reasoning.conftest import DATA

ABDOMEN_CT = ScanContext("CT", frozenset({"abdomen"}))
HEAD_MR = ScanContext("MR", frozenset({"head"}))
CHEST_CT = ScanContext("CT", frozenset({"chest"}))


def test_every_entry_says_what_kind_of_thing_it_is():
    kb = load_knowledge()
    assert all(entry.types for entry in kb.entries)
    assert "bone" in kb.get("skull").types and "bone" in kb.get("rib_left_5").types
    assert "vessel" in kb.get("inferior_vena_cava").types and "gland" in kb.get("thyroid_gland").types
    assert kb.get("brain").types == ("organ",)


@pytest.mark.parametrize("question, top, not_top", [
    ("which bone protects the brain", "skull", "brain"),
    ("which vessel takes blood from the heart to the lungs", "pulmonary_artery", "heart"),
    ("which gland sits on the kidney", "adrenal_glands", "kidneys"),
])
def test_which_bone_or_vessel_prefers_that_kind(lexical, question, top, not_top):
    result = lexical.resolve(question)
    assert result.top == top and result.names()[0] != not_top
    assert "asks for a" in result.hypotheses[0].rationale


@pytest.mark.parametrize("question, top, landmark", [
    ("the gland in front of the windpipe", "thyroid_gland", "trachea"),
    ("the tube behind the windpipe that food goes down", "esophagus", "trachea"),
    ("which tube runs from the kidney to the bladder", "ureter", "urinary_bladder"),
    ("the muscle under the big buttock muscle", "gluteus_medius", "gluteus_maximus"),
])
def test_a_landmark_is_not_the_answer(lexical, question, top, landmark):
    result = lexical.resolve(question)
    assert result.top == top
    assert "as the question describes" in result.hypotheses[0].rationale
    scores = dict((h.name, h.score) for h in result.hypotheses)
    assert scores.get(landmark, 0.0) < scores[top]


@pytest.mark.parametrize("question, top, origin", [
    ("the cancer that has spread to his bones from the prostate", "bone_lesion", "prostate"),
    ("his lung cancer has gone to the brain", "brain_tumor", "lung_nodule"),
    ("breast cancer that has gone to her liver", "liver_lesion", "breast_lesion"),
    ("metastatic disease to the spine from breast cancer", "bone_lesion", "breast_lesion"),
])
def test_a_cancer_named_as_the_cause_points_to_where_it_spread(lexical, question, top, origin):
    result = lexical.resolve(question)
    assert result.top == top and result.names()[0] != origin
    assert "spread to" in result.hypotheses[0].rationale


def test_generic_lesion_entry():
    kb = load_knowledge()
    lesion, bone = kb.get("lesion"), kb.get("bone_lesion")
    assert (lesion.code, lesion.property_type.meaning, lesion.category.code) == ("52988006", "Lesion", "49755003")
    assert lesion.code_note and not lesion.segmentable and not bone.segmentable
    assert bone.region.code == "272673000" and "bone" in bone.types


@pytest.mark.parametrize("question", ["is there a tumour?", "anything abnormal?", "the lump the doctor felt",
                                      "a suspicious growth"])
def test_generic_lesion_words_without_an_organ(lexical, question):
    assert lexical.resolve(question).top == "lesion"
    assert lexical.resolve(question, scan=ABDOMEN_CT).top == "lesion"


def test_generic_lesion_follows_the_organ_named_or_the_scan(lexical):
    assert lexical.resolve("tumour in the pancreas").top == "pancreatic_lesion"
    assert lexical.resolve("he has cirrhosis and they are worried about a tumour").top == "liver_lesion"
    result = lexical.resolve("is there a tumour?", scan=HEAD_MR)
    assert result.top == "brain_tumor"
    assert result.hypotheses[0].rationale.startswith("This MR covers the head, so a tumour is most likely")
    assert lexical.resolve("any nodules?", scan=CHEST_CT).top == "lung_nodule"


def test_targets_outside_the_scan_rank_lower_and_say_why(full, lexical):
    question = "is there a bleed"
    plain = full.resolve(question)
    assert plain.top == "intracerebral_hemorrhage"
    on_abdomen = full.resolve(question, scan=ABDOMEN_CT)
    assert on_abdomen.top != "intracerebral_hemorrhage"
    brain = [h for h in on_abdomen.hypotheses if h.name == "intracerebral_hemorrhage"]
    assert not brain or "this CT covers the abdomen, so the" in brain[0].rationale
    assert full.resolve(question, scan=ScanContext("CT", frozenset({"head"}))).top == "intracerebral_hemorrhage"
    assert "covers the head, so the gallbladder is unlikely" in full.resolve(
        "any stones", scan=ScanContext("CT", frozenset({"head"}))).hypotheses[0].rationale
    # no scan, or a scan whose regions are unknown: ranked as before
    for resolver, text in ((lexical, "is there a tumour?"), (full, question)):
        assert resolver.resolve(text, scan=None).to_dict() == resolver.resolve(text).to_dict()
        assert resolver.resolve(text, scan=ScanContext("MR")).names() == resolver.resolve(text).names()


def test_scan_context_validates_and_reads_dicts():
    assert ScanContext.from_dict({"modality": "CT", "region": "abdomen"}) == ABDOMEN_CT
    assert ScanContext.from_dict({"modality": "CT", "regions": ["pelvis", "abdomen"]}).to_dict() == \
        {"modality": "CT", "regions": ["abdomen", "pelvis"]}
    assert ScanContext("CT", frozenset({"abdomen", "pelvis"})).describe() == "this CT covers the abdomen and pelvis"
    with pytest.raises(ValueError, match="belly"):
        ScanContext("CT", frozenset({"belly"}))


@pytest.mark.parametrize("path, modality, regions", [
    ("ct/patient_a/ct.nii.gz", "CT", {"abdomen", "pelvis"}),
    ("ct/patient_c_unlabelled/ct.nii.gz", "CT", {"chest", "abdomen"}),
    ("ct/lesions_deeplesion/case_000001_02_01_008-023_image.nii.gz", "unknown", set()),
    ("ct/lesions_deeplesion/case_000002_03_01_035-047_image.nii.gz", "unknown", set()),
    ("ct/lesions_deeplesion/case_000009_03_01_036-048_image.nii.gz", "unknown", set()),
    ("ct/lesions_deeplesion/case_000010_01_01_078-090_image.nii.gz", "unknown", set()),
    ("mr/pyradiomics/brain1_image.nrrd", "unknown", set()),
    ("mr/patient_mr/mr.nii.gz", "unknown", set()),
])
def test_scan_context_of_real_volumes(shared_data, path, modality, regions):
    """NIfTI/NRRD carry no modality: HU data is taken as CT; the 0-255 DeepLesion slabs and MR are
    not read as HU, so they get no regions rather than a wrong one."""
    context = scan_context(load_volume(shared_data / path))
    assert (context.modality, set(context.regions)) == (modality, regions)


def test_scan_context_keeps_a_known_modality(shared_data):
    volume = load_volume(shared_data / "mr/pyradiomics/brain1_image.nrrd")
    assert scan_context(volume, modality="MR") == ScanContext("MR", frozenset())


@pytest.mark.parametrize("name", ["abdomen_normal.nii.gz", "abdomen_jaundice_dicom"])
def test_scan_context_of_the_sample_phantoms(name):
    from tests.reasoning.test_ask_cli import SAMPLE

    assert scan_context(load_volume(SAMPLE.parent / name)) == ABDOMEN_CT


def test_scan_context_of_a_head_shaped_phantom():
    """No head CT is in the shared data: a small round body ringed by bone, in HU, reads as head."""
    grid = np.mgrid[-60:60, -60:60].astype(float)
    radius = np.hypot(*grid) * 1.5  # mm, 1.5 mm pixels
    plane = np.full(radius.shape, -1000.0)
    plane[radius < 80] = 700.0  # skull
    plane[radius < 72] = 35.0  # brain
    volume = Volume(np.repeat(plane[:, :, None], 12, axis=2).astype(np.int16), np.diag([1.5, 1.5, 5.0, 1.0]))
    assert scan_context(volume) == ScanContext("CT", frozenset({"head"}))


def test_question_files_carry_the_scan(tmp_path, lexical):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"query": "is there a tumour?", "targets": ["brain_tumor"],
                                "scan": {"modality": "MR", "regions": ["head"]}}) + "\n")
    assert read_questions(path)[0].scan == HEAD_MR
    assert evaluate_questions(path, lexical).top1 == 1.0
    path.write_text(json.dumps({"query": "x", "targets": [], "scan": {"regions": ["belly"]}}) + "\n")
    with pytest.raises(InputError, match='"scan"'):
        read_questions(path)


def test_new_question_sets_are_big_and_varied():
    questions = [q for name in ("questions_issue15_dev.jsonl", "questions_issue15_heldout.jsonl")
                 for q in read_questions(DATA / name)]
    held_out = read_questions(DATA / "questions_issue15_heldout.jsonl")
    assert len(questions) >= 300 and len(held_out) >= 150
    assert len({q.targets[0] for q in questions if q.targets}) >= 60
    assert sum(1 for q in questions if q.scan is not None) >= 30 and sum(1 for q in questions if not q.targets) >= 30


def test_third_round_set_covers_the_weak_styles():
    questions = read_questions(DATA / "questions_issue15_round3.jsonl")
    styles = {q.style for q in questions}
    assert len(questions) >= 200 and len({q.targets[0] for q in questions if q.targets}) >= 60
    assert {"landmark", "kind", "very_long", "clinician", "generic_lesion", "out_of_scope"} <= styles
    assert 0.08 <= sum(1 for q in questions if not q.targets) / len(questions) <= 0.15
    assert all(q.style == "out_of_scope" for q in questions if not q.targets)


@pytest.mark.parametrize("name, top1, top3, abstain", [
    # floors a little under what the resolver scored when the work on issue 15 ended (see the README):
    # the held-out set was written before any change and never tuned on
    ("questions_issue15_heldout.jsonl", 0.82, 0.95, 0.9),
    ("questions_issue15_dev.jsonl", 0.93, 0.98, 0.95),
    ("questions_issue15_fresh.jsonl", 0.82, 0.9, 0.9),  # written after the first round ended
    ("questions_issue15_dev2.jsonl", 0.85, 0.96, 0.95),  # second round: written before it, then tuned on
    # third round: written before it; its odd lines were tuned on, its even lines scored once at the end
    # (0.750 / 0.938 / 1.00): the floor is that untouched half's score, not the whole file's (0.849 / 0.964)
    ("questions_issue15_round3.jsonl", 0.75, 0.93, 0.95),
    # fourth round: the same split; its untouched even half scored 0.822 / 0.967 / 1.00 at the end (the whole
    # file 0.902 / 0.980)
    ("questions_issue15_round4.jsonl", 0.82, 0.96, 0.95),
    # fifth round (written by someone who never read the resolver): the same split; its untouched even half
    # scored 0.879 / 0.970 / 0.875 at the end, as it did before the round (its odd half went from 0.879 /
    # 0.945 / 0.938 to 0.994 / 1.00 / 1.00 by tuning on it)
    ("questions_issue15_round5.jsonl", 0.87, 0.96, 0.85),
    # sixth round (an outsider who never saw the resolver): first score 0.870 / 0.972 / 0.595 whole; after the
    # views and out-of-scope kinds written before looking, even 0.830 / 0.966 / 0.737; its odd half was then tuned
    # on (0.927 / 1.00 / 0.611 -> 0.955 / 1.00 / 0.833), its untouched even half scored 0.824 / 0.960 / 0.842 at
    # the end (the whole file 0.889 / 0.980 / 0.838)
    ("questions_issue15_round6.jsonl", 0.80, 0.94, 0.8),
    # round 7 (394 lines by an outsider): first score 0.864 / 0.956 / 0.647; its odd half was tuned on (0.889 /
    # 0.978 / 0.688 -> 0.972 / 0.989 / 1.00), its untouched even half scored 0.844 / 0.933 / 0.667 at the end
    # (0.838 / 0.933 / 0.611 before; the whole file 0.908 / 0.961 / 0.824)
    ("questions_issue15_round7.jsonl", 0.88, 0.94, 0.78),
    # round 8 (373 lines by an outsider): first score 0.857 / 0.962 / 0.548; the classes of its odd half's misses were
    # fixed in general (0.883 / 0.977 / 0.500 -> 1.00 / 1.00 / 1.00), its untouched even half scored 0.865 / 0.965 /
    # 0.800 once at the end (0.830 / 0.947 / 0.600 before; the whole file 0.933 / 0.982 / 0.903)
    ("questions_issue15_round8.jsonl", 0.92, 0.97, 0.87),
    # round 9 (384 lines by an outsider, with radiology-report shorthand): first score 0.767 / 0.954 / 0.838, before
    # the learned re-ranker (trained on every other set, never on this one); with it, scored once: 0.807 / 0.951 /
    # 0.838. Nothing was tuned on it: a floor only
    ("questions_issue15_round9.jsonl", 0.80, 0.95, 0.83),
    # round 10 (383 lines by another outsider, with students' textbook phrasing): first score 0.748 / 0.898 / 0.933
    # by the resolver alone, 0.773 / 0.898 / 0.933 with the first re-ranker; with the widened one (neither trained
    # on it) 0.771 / 0.898 / 0.933. Nothing was tuned on it: a floor only
    ("questions_issue15_round10.jsonl", 0.76, 0.89, 0.93),
    # round 11 (390 lines by a third outsider: request forms, specialists planning, follow-up, negation, quiz):
    # first score 0.800 / 0.922 / 0.767; after the series-neighbour and uncovered-part rules (written without
    # reading it), scored once: 0.808 / 0.933 / 0.900. Nothing was tuned on it: a floor only
    ("questions_issue15_round11.jsonl", 0.79, 0.92, 0.88),
])
def test_issue15_sets_stay_above_their_floors(full, name, top1, top3, abstain):
    report = evaluate_questions(DATA / name, full)
    assert report.top1 >= top1 and report.top3 >= top3 and report.abstain_accuracy >= abstain, \
        (report.top1, report.top3, report.abstain_accuracy)
