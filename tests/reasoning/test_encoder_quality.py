"""The full resolver (MiniLM encoder) on the question sets; one encoder load for the module."""

from __future__ import annotations

import json

import numpy as np

from medsee_cli.reasoning.embedding_cache import encoder_digest, texts_digest
from medsee_cli.reasoning.evaluate import evaluate_questions
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
    assert np.allclose(fresh, full._text_vectors[:3], atol=2e-3)


def test_quality_bar_on_the_held_out_set(full):
    report = evaluate_questions(DATA / "questions_heldout.jsonl", full)
    assert report.n >= 100
    assert report.top1 >= 0.85 and report.top3 >= 0.93 and report.abstain_accuracy >= 0.9


def test_full_resolver_abstains_on_non_medical_questions(full):
    for question in ["recommend a good movie", "how do I reset my password", "zzzz"]:
        assert full.resolve(question).abstained
    assert full.resolve("my dad's eyes have gone yellow").top in {"bile_duct", "pancreatic_lesion", "liver"}
