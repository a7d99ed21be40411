"""The shipped grounding head reads each target as a sentence vector of its knowledge-base prompt
(name, display name, description). Those texts are part of the model: editing a trained target's
description in knowledge.yaml (to help the question resolver, say) silently changes what the head
is asked to find. This pins them to the texts the checkpoint was trained with (the knowledge base
of commit 5207a13, which trained medsee-grounding-v1)."""

from __future__ import annotations

import json
from pathlib import Path

from medsee_cli.reasoning.knowledge import load_knowledge

TRAINED = json.loads((Path(__file__).parent / "data" / "grounding_v1_prompts.json").read_text())
CONFIG = Path(__file__).parents[2] / "medsee_cli" / "model" / "checkpoints" / "medsee_grounding_v1" / "config.json"


def test_every_trained_target_reads_as_it_was_trained():
    kb = load_knowledge()
    assert sorted(TRAINED) == sorted(json.loads(CONFIG.read_text())["trained_targets"])
    changed = {name: kb.prompt(name) for name, text in TRAINED.items() if kb.prompt(name) != text}
    assert not changed, ("the grounding model was trained on other texts for these targets: keep their "
                         f"descriptions (add lay words or views instead) or retrain the model: {changed}")
