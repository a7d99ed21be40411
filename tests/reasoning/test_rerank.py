"""The learned re-ranker: its packaged weights fit its features, it moves a hypothesis first only when the model
is surer of it by the margin, and clear questions keep the resolver's order."""

from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.reasoning import data
from medsee_cli.reasoning.rerank import RERANKED, RerankModel, Reranker, load_reranker
from medsee_cli.reasoning.rerank_features import FEATURES, Candidate, Candidates, feature_rows
from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver


@pytest.fixture(scope="module")
def plain(full) -> Resolver:
    """The full resolver without the re-ranker."""
    return Resolver(full.kb, ReasonerOptions(rerank=False), full.encoder)


def candidate(name: str, score: float, similarity: float) -> Candidate:
    return Candidate(name, score, 0.0, (), similarity, (), False, False, False, (name,))


def meaning_only(weight: float) -> RerankModel:
    """A model that scores a row by its similarity in meaning alone."""
    n = len(FEATURES)
    linear = np.zeros(n)
    linear[FEATURES.index("meaning")] = weight
    return RerankModel(FEATURES, np.zeros(n), np.ones(n), linear, np.zeros((n, 0)), np.zeros(0), np.zeros(0))


def test_the_packaged_weights_load_and_fit_the_features() -> None:
    raw = data.read("rerank.json")
    assert tuple(raw["model"]["features"]) == FEATURES
    reranker = load_reranker()
    assert reranker is not None and reranker.depth >= 3 and 0.0 <= reranker.margin < 1.0
    model = reranker.model
    assert model.mean.shape == model.scale.shape == model.linear.shape == (len(FEATURES),)
    assert model.hidden.shape == (len(FEATURES), len(model.bias)) and model.out.shape == model.bias.shape
    assert np.all(model.scale > 0) and np.all(np.isfinite(model.linear))
    assert RerankModel.from_dict(model.to_dict()).features == FEATURES
    assert load_reranker(False) is None


def test_rows_are_one_per_candidate_and_one_for_abstaining() -> None:
    found = Candidates((candidate("liver", 0.8, 0.5), candidate("spleen", 0.6, 0.7)), reject=0.2)
    rows = feature_rows(found)
    assert rows.shape == (3, len(FEATURES))
    assert rows[-1, FEATURES.index("abstain")] == 1.0 and rows[0, FEATURES.index("abstain")] == 0.0
    assert rows[0, FEATURES.index("rank_1")] == 1.0 and rows[1, FEATURES.index("meaning_best")] == 1.0


def test_a_hypothesis_is_moved_first_only_when_the_model_is_surer_of_it_by_the_margin() -> None:
    found = Candidates((candidate("liver", 0.8, 0.5), candidate("spleen", 0.6, 0.7)), reject=0.2)
    assert Reranker(meaning_only(20.0), margin=0.2).first(found) == "spleen"
    assert Reranker(meaning_only(1.0), margin=0.2).first(found) == ""  # 0.55 against 0.45: not sure enough
    assert Reranker(meaning_only(-20.0), margin=0.0).first(found) == ""  # the resolver's first is the model's too
    assert Reranker(meaning_only(20.0)).first(Candidates((candidate("liver", 0.8, 0.5),), reject=0.2)) == ""


@pytest.mark.parametrize("question", [
    "where is the liver?", "my left kidney hurts", "the gland in front of the windpipe",
    "she gets pain under her right ribs after fatty meals", "is there a tumour in the pancreas?",
    "both lungs", "the tube coming out of the kidney",
])
def test_clear_questions_keep_the_resolvers_order(full, plain, question) -> None:
    assert full.reranker is not None
    assert full.resolve(question).names() == plain.resolve(question).names()
    assert full.reranker.first(full.candidates(question, depth=full.reranker.depth)) == ""


def test_a_moved_hypothesis_says_so_and_keeps_its_own_reasons(full, plain) -> None:
    moved = Resolver(full.kb, ReasonerOptions(), full.encoder)
    moved.reranker = Reranker(meaning_only(50.0), depth=8, margin=0.0)  # first: the closest in meaning
    question = "which rib is the lowest floating one on the left?"
    before, after = plain.resolve(question), moved.resolve(question)
    found = plain.candidates(question)
    assert found is not None
    closest = max(found.items, key=lambda c: c.similarity or 0.0).name
    assert after.names()[0] == closest != before.names()[0]
    assert RERANKED in after.hypotheses[0].rationale
    assert all(RERANKED not in h.rationale for h in after.hypotheses[1:])
    kept = {h.name: h for h in before.hypotheses}
    assert all(h == kept[h.name] for h in after.hypotheses[1:] if h.name in kept)
    assert [h.name for h in after.hypotheses[1:]] == [n for n in before.names() if n != closest][:4]


def test_the_phrase_only_resolver_has_no_reranker(lexical) -> None:
    assert lexical.reranker is None


def test_the_meaning_is_read_apart_and_a_candidate_against_the_first(full) -> None:
    found = full.candidates("the gland in front of the windpipe", depth=8)
    assert found is not None and all(c.meanings for c in found.items)
    assert {"whole", "masked", "view_description", "view_name"} <= set(found.items[0].meanings)
    whole = Candidate("liver", 0.8, 0.5, (), 0.6, (), False, False, False, ("liver",))
    part = Candidate("liver_segment", 0.6, 0.2, (), 0.5, (), False, False, False, ("liver_segment", "liver"))
    rows = feature_rows(Candidates((whole, part), reject=0.1))
    assert rows[1, FEATURES.index("part_of_first")] == 1.0 and rows[0, FEATURES.index("part_of_first")] == 0.0
