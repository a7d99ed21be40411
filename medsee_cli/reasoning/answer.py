"""Plain-language wording: one rationale per hypothesis, and the answer a lay person reads."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from medsee_cli.reasoning.knowledge import Entry, KnowledgeBase

CAVEAT = "This says where to look, not what is wrong: only a doctor reading the scan can say that."
RELATION_WORDS = {"above": "above", "below": "below", "under": "under", "behind": "behind",
                  "in_front_of": "in front of", "next_to": "next to", "inside": "inside", "around": "around",
                  "from": "coming off", "to": "going to", "connects": "joined to"}


def abstention() -> str:
    return ("I could not link this question to a body structure or finding I know, so I did not pick "
            "anything to look for. Try naming the organ, the body part or the symptom.")


def uncovered(part: str) -> str:
    return (f"I have no target for the {part}, so I did not pick anything to look for. I can look for the "
            "organs, vessels, bones and muscles in my list, and lumps in them.")


def declined(about: str) -> str:
    """The answer to a question that asks for something other than where to look (`intent.other_request`)."""
    return (f"This asks about {about}, not where something is on a scan, so I did not pick anything to look for. "
            "Your doctor can answer it.")


def _reason(item: Any, entry: Entry) -> str:
    if item.kind == "name":
        return f"the question names it ('{item.phrase}')"
    if item.kind == "clue":
        return f"'{item.phrase}' is a common reason to look at the {entry.display}"
    if item.kind == "weak":
        return f"'{item.phrase}' can sometimes come from the {entry.display}"
    if item.kind == "relation":
        return f"it lies {RELATION_WORDS.get(item.note, item.note)} the {item.phrase}, as the question describes"
    if item.kind == "landmark":
        return f"the question names the {item.phrase} only to say where to look"
    if item.kind == "context":
        return f"it is part of the {item.phrase} the question names"
    if item.kind == "lesion":
        if not item.phrase:
            return f"the question asks about a {item.note} without saying in which organ"
        return f"the question asks about a {item.note} in the {item.phrase}"
    if item.kind == "spread":
        return f"the question says a cancer has spread to the {item.phrase}"
    if item.kind == "scan_lesion":
        return f"{item.note}, so a {item.phrase} is most likely a {entry.display} here"
    return item.phrase


def rationale(entry: Entry, evidence: Sequence[Any], similarity: Optional[float], notes: Sequence[str] = ()) -> str:
    """Why this target was proposed, in one sentence (``notes``: what the kind asked for or the scan says)."""
    reasons = []
    for item in sorted(evidence, key=lambda e: -e.weight):
        text = _reason(item, entry)
        if text not in reasons:
            reasons.append(text)
    if not reasons and similarity is not None:
        reasons.append(f"the question is close in meaning to how the {entry.display} is described "
                       f"(similarity {similarity:.2f})")
    text = "; ".join(reasons[:3] + list(notes)) or "weak match"
    if not entry.segmentable:
        text += " (the current model cannot outline this one yet)"
    return text[0].upper() + text[1:] + "."


# a hypothesis scored under this share of the best is not named as worth checking beside it ("is there a brain
# tumour?" on a head MR: the pancreatic lesion at 0.31 beside the brain tumour at 0.84)
RELATED_SHARE = 0.5


def compose_answer(kb: KnowledgeBase, hypotheses: Sequence[Any], excluded: Sequence[str],
                   corrected: Sequence[tuple[str, str]]) -> str:
    """A short explanation naming what will be looked for and why, without clinical certainty."""
    top = kb.get(hypotheses[0].name)
    why = hypotheses[0].rationale.rstrip(".")
    why = why[0].lower() + why[1:]
    parts = [f"I would look for {top.description}.", f"Why: {why}."]
    best = max(h.score for h in hypotheses)
    others = [kb.get(h.name).display for h in hypotheses[1:3] if h.score >= RELATED_SHARE * best]
    if others:
        parts.append("Also worth checking: " + " and ".join(f"the {o}" for o in others) + ".")
    if excluded:
        parts.append("Left out as you asked: " + ", ".join(f"the {kb.get(n).display}" for n in excluded) + ".")
    if corrected:
        parts.append("(I read " + ", ".join(f"'{a}' as '{b}'" for a, b in corrected) + ".)")
    parts.append(CAVEAT)
    return " ".join(parts)
