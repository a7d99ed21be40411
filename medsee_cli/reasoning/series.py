"""A member of an ordered series named by its place: 'the bottom vertebra', 'the last lumbar vertebra',
'the top rib on the left', 'the fourth and fifth lumbar vertebrae'.

A union's members are listed from the head down (``knowledge.yaml``), so a place word (``data/series.yaml``:
an end, or an ordinal) just before a union's name names that member; ordinals joined by 'and'/'or' name
several. When the question also names a smaller union inside it ('my lower back, the bottom vertebra'),
the place is counted in that union. Only series of more than two members count: a left/right pair has no
order.
"""

from __future__ import annotations

import dataclasses
import functools
from importlib import resources

import yaml

from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.lexicon import CLUE, NAME, Match
from medsee_cli.reasoning.text import Parsed, stem

SERIES_RESOURCE = "series.yaml"
SKIPPED = frozenset({"the", "very"})  # 'the very last vertebra'
JOINERS = frozenset({"and", "or", ","})  # 'the fourth and fifth ...'


@functools.lru_cache(maxsize=1)
def _places() -> dict[str, int]:
    """Stem of a place word -> index into a union's members (0 the first, -1 the last)."""
    text = resources.files("medsee_cli.reasoning").joinpath("data").joinpath(SERIES_RESOURCE).read_text("utf-8")
    raw = yaml.safe_load(text)
    places = {stem(str(w)): 0 for w in raw["first"]}
    places.update({stem(str(w)): -1 for w in raw["last"]})
    places.update({stem(str(w)): int(n) - 1 for w, n in raw["ordinals"].items()})
    return places


def _place_words(parsed: Parsed, start: int) -> list[tuple[int, int]]:
    """(position, member index) of the place words just before ``start``, nearest first."""
    found: list[tuple[int, int]] = []
    i = start - 1
    while i >= 0:
        while i >= 0 and parsed.raw[i] in SKIPPED:
            i -= 1
        if i < 0 or parsed.stems[i] not in _places():
            break
        found.append((i, _places()[parsed.stems[i]]))
        i -= 1
        if i < 0 or parsed.raw[i] not in JOINERS:
            break
        i -= 1
    return found


def _narrowest(kb: KnowledgeBase, whole: str, named: set[str]) -> str:
    """The smallest union named in the question that lies inside ``whole`` (``whole`` when none)."""
    inside = [name for name in named if name != whole and whole in kb.ancestors(name) and kb.get(name).members]
    return max(inside, key=lambda name: len(kb.ancestors(name)), default=whole)


def in_series(kb: KnowledgeBase, parsed: Parsed, matches: list[Match]) -> list[Match]:
    """``matches`` with each union name after place words moved to the members they name, each match
    starting at its place word."""
    named = {m.entry for m in matches if m.kind in (NAME, CLUE)}
    out = []
    for match in matches:
        series = match.kind == NAME and len(kb.get(match.entry).members) > 2
        places = _place_words(parsed, match.start) if series else []
        members = kb.get(_narrowest(kb, match.entry, named)).members if places else ()
        picked = [(at, members[index]) for at, index in places if -len(members) <= index < len(members)]
        if not picked:
            out.append(match)
        out += [dataclasses.replace(match, start=at, entry=member, phrase=f"{parsed.raw[at]} {match.phrase}")
                for at, member in picked]
    return out
