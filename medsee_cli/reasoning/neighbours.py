"""A member of an ordered series named by its neighbour: 'the vertebra just above L1' (T12), 'which vertebra sits
directly under T12' (L1), 'the rib just below the left fifth rib' (the left sixth), 'the next rib down from rib 3
on the right', 'the one after T4', 'L2 and the level below it'.

A step phrase (``data/series.yaml``'s ``steps``: up, towards the head, or down) just before a member of a series
of more than two (a union's members, listed from the head down: ``series.py``), or right after one at the end of
its clause ('L2 and the one below it'), names the member one step along, counted in the longest series the member
is in (one up from L1 is T12). Only when the question asks for a member of that series: it names the series or a
whole holding it ('the vertebra', 'the rib', 'the spine'), a kind of thing the neighbour is ('the bone'), or says
'the one', 'the level' (``step_heads``); and only when it names no other target ('the kidney below the 12th rib'
and 'pain over the fifth rib' keep the rib as a landmark). The neighbour's match then stands for the member's and
the series' names, which only say where the counting starts. It keeps the side said in the member's words; the
resolver lends it the question's side otherwise, as it does any sided name. A neighbour that is also part of a
whole outside the series (S1, the top of the sacrum) names that whole as well. The sentence encoder cannot count:
it reads the words that name the neighbour said as its name, as its description begins ('the vertebra just the T12
vertebra'; `said_out`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Optional

from medsee_cli.reasoning import data
from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.lexicon import CLUE, FILLERS, NAME, Match
from medsee_cli.reasoning.series import SERIES_RESOURCE, Said, spoken_name, wholes_beyond
from medsee_cli.reasoning.text import BOUNDARIES, SIDES, Parsed

REACH = 3  # words between a step phrase and the member it counts from ('below the left fifth rib')
BACK_REACH = 8  # how far before a step left at the end of its clause its member may be ('L2 and the one below it')
TRAILING = frozenset({"it", "that", "this", "one", "them"})  # what may follow such a step in its clause
DIRECTIONS = {"up": -1, "down": 1}


@dataclass(frozen=True)
class Step:
    """A step phrase at words [start, end): ``delta`` -1 goes up the series, +1 down."""

    start: int
    end: int
    delta: int


@functools.lru_cache(maxsize=1)
def _words() -> tuple[dict[tuple[str, ...], int], tuple[tuple[str, ...], ...], frozenset[str]]:
    """(step phrase -> delta, phrases that hold a step word but say no step, words that stand for the member)."""
    raw = data.read(SERIES_RESOURCE)
    steps = {tuple(str(phrase).split()): DIRECTIONS[direction]
             for direction, phrases in raw["steps"].items() for phrase in phrases}
    return (steps, tuple(tuple(str(p).split()) for p in raw["not_steps"]),
            frozenset(str(w) for w in raw["step_heads"]))


def step_words() -> frozenset[str]:
    """Every word of the step phrases, for the speller: read as written ('caudal' is no typo of 'cauda')."""
    return frozenset(word for key in _words()[0] for word in key)


@dataclass(frozen=True)
class Counted:
    """The matches with each neighbour named by a step in place of the member counted from, and for the encoder
    the words that named each neighbour with its name (``said``)."""

    matches: list[Match]
    said: tuple[Said, ...] = ()


def _spans(words: list[str], keys) -> list[tuple[int, int, tuple[str, ...]]]:
    return [(i, i + len(key), key) for key in keys for i in range(len(words) - len(key) + 1)
            if tuple(words[i:i + len(key)]) == key]


def steps(parsed: Parsed) -> list[Step]:
    """Every step phrase in the question, on its words as written with filler words skipped; the longest where two
    overlap ('next after' over 'after'), none inside a phrase that says no step ('next to')."""
    table, not_steps, _ = _words()
    kept = [i for i, word in enumerate(parsed.raw) if word not in FILLERS]
    words = [parsed.raw[i] for i in kept]
    blocked = {i for start, end, _ in _spans(words, not_steps) for i in range(start, end)}
    found = sorted(_spans(words, table), key=lambda hit: (hit[0] - hit[1], hit[0]))
    out: list[Step] = []
    taken: set[int] = set()
    for start, end, key in found:
        if taken.isdisjoint(range(start, end)) and blocked.isdisjoint(range(start, end)):
            taken.update(range(start, end))
            out.append(Step(kept[start], kept[end - 1] + 1, table[key]))
    return sorted(out, key=lambda s: s.start)


def series_of(kb: KnowledgeBase, name: str) -> tuple[str, ...]:
    """The members of the longest series (a union of more than two) that ``name`` is in; () when none."""
    found = [kb.get(whole).members for whole in kb.ancestors(name)[1:] if name in kb.get(whole).members]
    return max((members for members in found if len(members) > 2), key=len, default=())


def _on_side(kb: KnowledgeBase, name: str, side: str) -> str:
    """The member at ``name``'s place in the series of ``side`` ('rib_right_5' for 'rib_left_5'); ``name`` itself
    when it is on that side or has none."""
    if kb.get(name).side() in (side, ""):
        return name
    members = series_of(kb, name)
    for whole in kb.ancestors(name)[1:]:
        other = kb.get(whole).lateral_member(side)
        if other in kb and len(kb.get(other).members) == len(members):
            return kb.get(other).members[members.index(name)]
    return name


def stepped(kb: KnowledgeBase, parsed: Parsed, landmark: Match, delta: int) -> list[str]:
    """The target one step along from ``landmark``, on the side said in its words ('the 7th right rib'; else the
    resolver lends it the question's side), with any whole outside the series it is part of; [] past either end."""
    side = next((word for word in parsed.raw[landmark.start:landmark.end] if word in SIDES), "")
    name = _on_side(kb, landmark.entry, side) if side else landmark.entry
    members = series_of(kb, name)
    at = members.index(name) + delta
    return [members[at]] + wholes_beyond(kb, members[at], name) if 0 <= at < len(members) else []


def _member_after(kb: KnowledgeBase, parsed: Parsed, matches: list[Match], step: Step) -> Optional[Match]:
    """The series member that the step counts from, named within REACH words after it in its clause."""
    after = [m for m in matches if step.end <= m.start <= step.end + REACH and series_of(kb, m.entry)
             and not any(parsed.raw[i] in BOUNDARIES for i in range(step.end, m.start))]
    first = min((m.start for m in after), default=None)
    return max((m for m in after if m.start == first), key=lambda m: (m.length, len(m.phrase.split())), default=None)


def _member_before(kb: KnowledgeBase, parsed: Parsed, matches: list[Match], step: Step) -> Optional[Match]:
    """For a step that ends its clause ('L2 and the one below it'), the nearest series member named before it."""
    _, clause_end = parsed.clause_of(step.start)
    if any(parsed.raw[i] not in TRAILING and parsed.raw[i] not in FILLERS for i in range(step.end, clause_end)):
        return None
    before = [m for m in matches if m.end <= step.start and step.start - m.end <= BACK_REACH
              and series_of(kb, m.entry)]
    last = max((m.end for m in before), default=None)
    return max((m for m in before if m.end == last), key=lambda m: m.length, default=None)


def _asked(kb: KnowledgeBase, parsed: Parsed, live: list[Match], landmark: Match, step: Step, targets: list[str],
           kinds: list[tuple[int, int, str]], placed: set[int]) -> Optional[list[Match]]:
    """The names of the series the question asks for a member of ('the vertebra', 'the spine'; not one right after
    a relation phrase, at ``placed``: a landmark of its own), or None when it does not ask for a member: it names
    another target, asks for another kind of thing, or names neither the series, nor the neighbour's kind, nor a
    word that stands for a member ('the one', 'the level') in the step's clause."""
    wholes = {w for name in [landmark.entry] + targets for w in kb.ancestors(name)}
    own = lambda m: m.start < landmark.end and landmark.start < m.end  # noqa: E731 - the member's own phrases
    heads = [m for m in live if not own(m) and m.kind in (NAME, CLUE) and m.entry in wholes
             and kb.get(m.entry).members and m.start not in placed]
    others = [m for m in live if not own(m) and m not in heads and m.kind in (NAME, CLUE) and m.entry not in wholes
              and kb.get(m.entry).kind != "lesion" and m.phrase not in kb.generic_names]
    types = {t for name in targets for t in kb.get(name).types}
    clause_start, clause_end = parsed.clause_of(step.start)
    worded = any(parsed.raw[i] in _words()[2] for i in range(clause_start, clause_end)
                 if not landmark.start <= i < landmark.end)
    if others or any(kind not in types for _, _, kind in kinds) or not (heads or worded or kinds):
        return None
    return heads


def by_neighbours(kb: KnowledgeBase, parsed: Parsed, matches: list[Match], kinds: list[tuple[int, int, str]],
                  relations: list[tuple[int, int, str]]) -> Counted:
    """``matches`` with each series member that a step phrase counts from, and the names of the series asked for,
    replaced by the neighbour the question names (see the module's docstring). ``kinds``: the kind words asked;
    ``relations``: the relation phrases (`Lexicon.relations`)."""
    out = list(matches)
    said: list[Said] = []
    found = steps(parsed)
    for step in found:
        live = [m for m in out if not parsed.negated[m.start]]
        landmark = _member_after(kb, parsed, live, step) or _member_before(kb, parsed, live, step)
        # the step said nearest the member counts ('the next one up from L3': up)
        if landmark is None or any(step.end <= other.start and other.end <= landmark.start for other in found):
            continue
        targets = stepped(kb, parsed, landmark, step.delta)
        placed = {end + (end < len(parsed.raw) and parsed.raw[end] == "the") for start, end, _ in relations
                  if end <= step.start or start >= step.end}
        heads = _asked(kb, parsed, live, landmark, step, targets, kinds, placed) if targets else None
        if heads is None:
            continue
        gone = [m for m in out if m.start < landmark.end and landmark.start < m.end] + heads
        start, end = min(step.start, landmark.start), max(step.end, landmark.end)
        at = min(out.index(m) for m in gone)  # every match before it stays
        kept = [m for m in out if m not in gone]
        named = [Match(start, end, name, NAME, " ".join(parsed.raw[start:end])) for name in targets]
        out = kept[:at] + named + kept[at:]
        said.append((parsed.raw[start:end], spoken_name(kb, targets[0])))
    return Counted(out, tuple(said))


def said_out(text: str, said: tuple[Said, ...]) -> str:
    """``text`` with the words that named each neighbour (as `Parsed.raw` has them) said as its name; words the
    text does not hold as such (written out or split by the speller) stay as they are."""
    for words, name in said:
        pattern = r"\b" + r"\W+".join(re.escape(word) for word in words) + r"\b"
        text = re.sub(pattern, lambda _: name, text, count=1, flags=re.IGNORECASE)
    return text
