"""Equal hypothesis scores are ordered by one stated rule: by name, A to Z (`resolution.ranked`)."""

from __future__ import annotations

from medsee_cli.reasoning.backends import build_reasoner
from medsee_cli.reasoning.resolution import ranked, reported_score
from medsee_cli.reasoning.resolver import ReasonerOptions
from medsee_cli.services.ask_text import targets_block


def test_ranked_orders_by_reported_score_then_name() -> None:
    scores = {"spleen": 0.5, "liver": 0.5, "aorta": 0.2, "pancreas": 0.90001, "kidneys": 0.9}
    assert [name for name, _ in ranked(scores)] == ["kidneys", "pancreas", "liver", "spleen", "aorta"]
    assert reported_score(1.3) == 1.0 and reported_score(0.123456) == 0.1235


def test_two_organs_named_alike_tie_and_come_out_by_name_whatever_the_wording() -> None:
    reasoner = build_reasoner(ReasonerOptions(encoder="none"), None)
    for question in ("the spleen and the liver", "the liver and the spleen"):
        resolution = reasoner.resolve(question)
        hypotheses = [(h.name, h.score) for h in resolution.hypotheses]
        assert [name for name, _ in hypotheses] == ["liver", "spleen"], question
        assert hypotheses[0][1] == hypotheses[1][1]


def test_the_targets_block_says_when_the_tie_rule_was_used() -> None:
    tied = [{"name": "liver", "code": "10200004", "score": 0.7882, "rationale": "The question names it ('liver')."},
            {"name": "spleen", "code": "78961009", "score": 0.7882, "rationale": "The question names it ('spleen')."}]
    assert targets_block(tied) == [
        "Targets (best first):",
        "  1. liver (SNOMED CT 10200004, score 0.79): The question names it ('liver').",
        "  2. spleen (SNOMED CT 78961009, score 0.79): The question names it ('spleen').",
        "  Equal scores are listed by name (liver, spleen).",
    ]
    assert targets_block(tied[:1])[-1].startswith("  1. liver")
