"""A member of an ordered series named by its place: 'the bottom vertebra', 'the last lumbar vertebra',
'the top rib on the left', 'the fourth and fifth lumbar vertebrae', 'which rib is the very top one', and 'the
spine of the neck, the seventh'.

A union's members are listed from the head down (``knowledge.yaml``), so a place word (``data/series.yaml``:
an end, or an ordinal) just before a union's name names that member; ordinals joined by 'and'/'or' name
several. When the question also names a smaller union inside it ('my lower back, the bottom vertebra'),
the place is counted in that union. Only series of more than two members count: a left/right pair has no
order. 'The top of' / 'the bottom of' a union names its end member ('the very top of the spine': C1), and the
encoder is told so (`ends_said`); a member named by its neighbour ('the vertebra above L1') is `neighbours.py`.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from medsee_cli.reasoning import data
from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.lexicon import CLUE, NAME, Match
from medsee_cli.reasoning.text import Parsed, stem

SERIES_RESOURCE = "series.yaml"
SKIPPED = frozenset({"the", "very"})  # 'the very last vertebra'
JOINERS = frozenset({"and", "or", ","})  # 'the fourth and fifth ...'
# 'which rib is the very top one', 'the lobe between the upper and lower ones': 'one' after a place word stands for
# the thing the question opens with
_OPENING_THING = re.compile(r"^\W*(?:which|what|the)\s+([a-z]{3,})\b", re.IGNORECASE)
_PLACED_ONE = re.compile(r"\b([a-z]+)((?:\s+[a-z]+)?\s+)ones?\b", re.IGNORECASE)
NOT_A_THING = frozenset({"is", "are", "was", "were", "does", "did", "can", "could", "should", "would", "will", "one"})
RELATIVE_PLACES = frozenset({"upper", "lower", "middle"})  # a place among few ('the upper and lower ones')


@functools.lru_cache(maxsize=1)
def _places() -> dict[str, int]:
    """Stem of a place word -> index into a union's members (0 the first, -1 the last)."""
    raw = data.read(SERIES_RESOURCE)
    places = {stem(str(w)): 0 for w in raw["first"]}
    places.update({stem(str(w)): -1 for w in raw["last"]})
    places.update({stem(str(w)): int(n) - 1 for w, n in raw["ordinals"].items()})
    return places


@functools.lru_cache(maxsize=1)
def _after_name() -> tuple[frozenset[str], dict[str, int]]:
    """(words skipped between a series' name and a place after it, number word -> index after 'number')."""
    raw = data.read(SERIES_RESOURCE)
    numbers = {str(w): int(n) - 1 for w, n in raw["numbers"].items()}
    numbers.update({str(n): n - 1 for n in range(1, 31)})
    return frozenset(str(w) for w in raw["after_name_skips"]), numbers


def _place_after(parsed: Parsed, end: int) -> list[tuple[int, int]]:
    """(position, member index) of a place said just after a series' name ('the spine of the neck, the
    seventh'; 'vertebra number seven'), or none."""
    skips, numbers = _after_name()
    i = end
    while i < len(parsed.raw) and i < end + len(skips) and parsed.raw[i] in skips:
        i += 1
    if i >= len(parsed.raw) or i == end and parsed.raw[i] not in numbers:
        return []
    if parsed.raw[i - 1] == "number" and parsed.raw[i] in numbers:
        return [(i, numbers[parsed.raw[i]])]
    return [(i, _places()[parsed.stems[i]])] if parsed.stems[i] in _places() and i > end else []


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


@functools.lru_cache(maxsize=1)
def _ends() -> dict[str, int]:
    """Stem of an end word ('top', 'bottom') -> 0 or -1."""
    raw = data.read(SERIES_RESOURCE)
    return {**{stem(str(w)): 0 for w in raw["first"]}, **{stem(str(w)): -1 for w in raw["last"]}}


def _end_of(parsed: Parsed, start: int) -> list[tuple[int, int]]:
    """(position, 0 or -1) of an end word said as 'the top of' just before ``start`` ('the very top of the spine');
    [] when none, and for 'on top of', which places a thing above the whole, not at its end."""
    i = start - 1
    while i >= 0 and parsed.raw[i] in SKIPPED:
        i -= 1
    if i < 2 or parsed.raw[i] != "of" or parsed.stems[i - 1] not in _ends():
        return []
    before = i - 2
    while before >= 0 and parsed.raw[before] == "very":
        before -= 1
    return [(i - 1, _ends()[parsed.stems[i - 1]])] if before >= 0 and parsed.raw[before] == "the" else []


def wholes_beyond(kb: KnowledgeBase, member: str, within: str) -> list[str]:
    """The wholes outside the series that ``member`` is also part of (S1 is the top of the sacrum), for a member
    named from ``within`` (the series' union or a member of it); unions do not count."""
    outside = set(kb.ancestors(within))
    return [whole for whole in kb.get(member).part_of if whole not in outside and not kb.get(whole).members]


def spoken_name(kb: KnowledgeBase, name: str) -> str:
    """How a target is said to the sentence encoder when the question names it by its place: as its description
    begins ('the T12 vertebra', 'the left sixth rib')."""
    return kb.get(name).description.split(",")[0]


Said = tuple[tuple[str, ...], str]  # the words (as `Parsed.raw` has them) that name a target, and its name


def ends_said(kb: KnowledgeBase, parsed: Parsed, found: list[Match], placed: list[Match]) -> tuple[Said, ...]:
    """For the encoder, which cannot tell the top of a whole from its bottom ('the top of the spine' reads much
    like the sacrum's 'the bone at the bottom of the spine'): the words of each end member named as 'the top of' /
    'the bottom of' a union (a match ``in_series`` made from ``found``) with the member's name ('the C1
    vertebra'); not where the words name a whole beyond the member too ('the bottom of the backbone': S1 and the
    sacrum)."""
    spans: dict[tuple[int, int], list[str]] = {}
    for match in placed:
        if match not in found and parsed.stems[match.start] in _ends() and "of" in parsed.raw[match.start:match.end]:
            spans.setdefault((match.start, match.end), []).append(match.entry)
    return tuple((parsed.raw[start:end], spoken_name(kb, names[0])) for (start, end), names in spans.items()
                 if len(set(names)) == 1)


def _places_one(word: str) -> bool:
    """Whether a word says a place in a series: 'top', 'fifth', 'lower', or a superlative ('highest')."""
    word = word.lower()
    return stem(word) in _places() or word in RELATIVE_PLACES or len(word) > 5 and word.endswith("est")


def one_said_out(text: str) -> str:
    """``text`` with each 'one' after a place word (within two words) written as the thing the question opens
    with ('which rib is the very top one' -> '... the very top rib', 'the biggest solid one'); the rest as is."""
    opening = _OPENING_THING.match(text)
    thing = opening.group(1) if opening else ""
    if not thing or thing.lower() in NOT_A_THING:
        return text

    def said(found: re.Match) -> str:
        words = [found.group(1)] + found.group(2).split()
        return f"{found.group(1)}{found.group(2)}{thing}" if any(_places_one(w) for w in words) else found.group(0)
    return _PLACED_ONE.sub(said, text)


def _narrowest(kb: KnowledgeBase, whole: str, named: set[str]) -> str:
    """The smallest union named in the question that lies inside ``whole`` (``whole`` when none)."""
    inside = [name for name in named if name != whole and whole in kb.ancestors(name) and kb.get(name).members]
    return max(inside, key=lambda name: len(kb.ancestors(name)), default=whole)


def _family(kb: KnowledgeBase, name: str, other: str) -> bool:
    return other in kb.ancestors(name) or name in kb.ancestors(other)


def in_series(kb: KnowledgeBase, parsed: Parsed, matches: list[Match]) -> list[Match]:
    """``matches`` with each union name after place words (or before one: `_place_after`) moved to the members
    they name, each match starting at its place word. 'The top of' / 'the bottom of' a union names its end member
    too ('the very top of the spine'), with any whole outside the series that member is part of ('the bottom of
    the backbone': S1 and the sacrum), when the question names nothing outside that union."""
    named = {m.entry for m in matches if m.kind in (NAME, CLUE)}
    out = []
    for match in matches:
        series = match.kind == NAME and len(kb.get(match.entry).members) > 2
        places = (_place_words(parsed, match.start) or _place_after(parsed, match.end)) if series else []
        alone = all(_family(kb, match.entry, name) for name in named)
        ends = _end_of(parsed, match.start) if series and not places and alone else []
        places = places or ends
        members = kb.get(_narrowest(kb, match.entry, named)).members if places else ()
        picked = [(at, members[index]) for at, index in places if -len(members) <= index < len(members)]
        picked += [(at, whole) for at, member in picked if ends for whole in wholes_beyond(kb, member, match.entry)]
        if not picked:
            out.append(match)
        out += [dataclasses.replace(match, start=at, entry=member, phrase=f"{parsed.raw[at]} {match.phrase}")
                for at, member in picked]
    return out
