"""The full resolver (MiniLM encoder) on the question sets; one encoder load for the module."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medsee_cli.reasoning.embedding_cache import encoder_digest, load_cached, texts_digest
from medsee_cli.reasoning.evaluate import evaluate_questions, read_questions
from tests.reasoning.conftest import DATA


def test_encoder_gives_unit_vectors_and_meaningful_similarity(full):
    vectors = full.encoder.encode(["my kidney hurts", "pain in the kidney", "what a lovely sunny day"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_packaged_embeddings_match_the_knowledge_base(full, lexical):
    raw = json.loads((DATA.parents[2] / "medsee_cli/reasoning/data/kb_embeddings.json").read_text())
    texts = lexical.embedding_texts()
    assert raw["texts_sha256"] == texts_digest(texts), "run: python bench/reasoning_bench.py --refresh-cache"
    assert raw["encoder_sha256"] == encoder_digest(full.encoder.folder)
    fresh = full.encoder.encode(texts[:3])
    assert np.allclose(fresh, load_cached(texts, full.encoder.folder)[:3], atol=2e-3)


@pytest.mark.parametrize("name", ["questions_dev.jsonl", "questions_heldout.jsonl", "questions_heldout2.jsonl"])
def test_quality_bar(full, name):
    """The issue's bar: top-1 >= 0.90, top-3 >= 0.98, abstention >= 0.95."""
    report = evaluate_questions(DATA / name, full)
    assert report.n >= 100
    assert report.top1 >= 0.90 and report.top3 >= 0.98 and report.abstain_accuracy >= 0.95, \
        [(i.query, i.predicted) for i in report.items if not i.hit]


def test_fresh_sets_stay_reasonable(full):
    """Sets written after the last tuning round (see the README): a floor, not the bar."""
    for name in ["questions_heldout3.jsonl", "questions_heldout4.jsonl", "questions_heldout5.jsonl",
                 "questions_heldout6.jsonl"]:
        report = evaluate_questions(DATA / name, full)
        assert report.top1 >= 0.8 and report.top3 >= 0.9 and report.abstain_accuracy >= 0.9


def test_question_sets_are_big_and_varied():
    for name in ["questions_dev.jsonl", "questions_heldout2.jsonl"]:
        questions = read_questions(DATA / name)
        in_scope = [q for q in questions if q.targets]
        assert len({q.targets[0] for q in in_scope}) >= 40 and len(questions) - len(in_scope) >= 25


def test_full_resolver_abstains_on_non_medical_questions(full):
    for question in ["recommend a good movie", "how do I reset my password", "zzzz"]:
        assert full.resolve(question).abstained
    assert full.resolve("my dad's eyes have gone yellow").top in {"bile_duct", "pancreatic_lesion", "liver"}
