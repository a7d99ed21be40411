"""Landmarks: the structures a question names only to say where its target is, and how the target
relates to each ('the gland in front of the windpipe': the windpipe, in front of).

Three ways a question uses a landmark:
- after a relation phrase ('behind the stomach'), up to the next preposition ('a small round thing in
  the lung' has no landmark for 'round': 'in' comes first);
- before a relation word left at the end of its clause ('the organ the gallbladder hangs underneath'):
  the target is on the other side of that relation (above the gallbladder);
- as the subject of a relative clause after the thing asked for ('the arteries the aorta splits into',
  'which arteries does the aorta split into', 'the pelvic bone the thigh bone fits into'): the relation
  phrase after it, read the other way, when there is one ('splits into': they come from the aorta); else
  only that the two are near; and every name in a clause after 'whose' ('the bone whose rounded head sits in
  the hip socket'), near.

`related` turns a landmark and a relation into targets, reading the knowledge base's relations both
ways: the windpipe's own 'behind: esophagus' answers 'the tube behind the windpipe' as well as the
esophagus's 'behind: trachea' does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.lexicon import NAME, PRONOUNS, RELATION_ALIASES, Match, is_surface
from medsee_cli.reasoning.text import BOUNDARIES, Parsed

NEAR = "near"  # a landmark whose relation to the target the question does not say
MASK = "something"
REACH = 4  # how many words after a relation phrase its landmark may start
# a landmark is not looked for past these words: they begin a phrase of their own ('thing in the lung')
PREPOSITIONS = frozenset({"in", "on", "at", "with", "for", "by", "into", "onto", "when", "while"})
PARTICLES = frozenset({"onto", "on", "to", "into", "with"})  # right after a verb of joining, part of the verb
RELATIVE = frozenset({"that", "which", "whose", "where"})
AUXILIARIES = frozenset({"do", "does", "did"})  # 'which arteries does the aorta split into
ASKING = frozenset({"which", "what"})
PART_WORDS = frozenset({"part", "bit", "section", "piece", "portion", "one", "lobe", "segment", "level", "chamber",
                        "region", "area"})  # stems: 'which parts of the spine' too
STRANDED_GAP = 2  # words between a landmark and a relation word left at the end ('the gallbladder hangs under',
# 'the back passage behind': none)
# a name followed by one of these is one item of a list ('the liver the spleen and ...'), not a clause subject
LIST_WORDS = frozenset({"and", "or", "of", "nor"})
JOINERS = frozenset({"and", "or"})  # 'behind the stomach and the pancreas': two landmarks
# the relation a landmark has to the target when the target has `relation` to the landmark
OPPOSITE = {"above": ("below", "under"), "below": ("above",), "under": ("above",), "behind": ("in_front_of",),
            "in_front_of": ("behind",), "next_to": ("next_to",), "inside": ("around",), "around": ("inside",),
            "from": ("to",), "to": ("from",)}
FORWARD_WEIGHT, BACKWARD_WEIGHT, TRANSITIVE_WEIGHT, PART_WEIGHT = 0.95, 0.9, 0.75, 0.75
# 'next to' said, a target that is behind or above the landmark: a looser fit than one that is beside it
LOOSE_WEIGHT = 0.85
TRANSITIVE = frozenset({"above", "below", "under", "behind", "in_front_of"})  # what is behind B, which is behind C


@dataclass(frozen=True)
class Anchor:
    """A landmark the question names, and the target's relation to it (`NEAR` when not said)."""

    landmark: Match
    relation: str


def _after(parsed: Parsed, names: list[Match], end: int) -> Optional[Match]:
    """The first name within REACH words after ``end``, unless a preposition or clause end comes first."""
    for i in range(end, min(len(parsed.raw), end + REACH + 1)):
        starting = [m for m in names if m.start == i]
        if starting:
            return max(starting, key=lambda m: m.length)
        if parsed.raw[i] in PREPOSITIONS or parsed.raw[i] in BOUNDARIES:
            return None
    return None


def _listed(parsed: Parsed, names: list[Match], first: Match) -> list[Match]:
    """The names listed after a landmark with 'and' or 'or' ('splits into the right carotid and the right
    subclavian'): each is a landmark of the same relation."""
    found, at = [], first.end
    while at < len(parsed.raw) and parsed.raw[at] in JOINERS:
        at += 1 + (at + 1 < len(parsed.raw) and parsed.stems[at + 1] == "the")
        following = [m for m in names if m.start == at]
        if not following:
            break
        found.append(max(following, key=lambda m: m.length))
        at = found[-1].end
    return found


def _stranded(parsed: Parsed, names: list[Match], start: int, end: int, relation: str) -> list[Anchor]:
    """A relation word ending its clause, one or two words after a name. After a determiner the name is
    the subject of a clause about the target ('the organ the gallbladder hangs underneath': the target is
    above the gallbladder); without one, the relation word comes after its landmark, as some speakers
    put it ('my husband heart water around': around the heart)."""
    clause_start, clause_end = parsed.clause_of(start)
    if any(parsed.raw[i].isalnum() and parsed.raw[i] not in ("it", "them") for i in range(end, clause_end)):
        return []
    before = [m for m in names if clause_start < m.start and 0 <= start - m.end <= STRANDED_GAP]
    if not before:
        return []
    landmark = max(before, key=lambda m: m.end)
    if parsed.stems[landmark.start - 1] != "the":
        return [Anchor(landmark, relation)]
    return [Anchor(landmark, opposite) for opposite in OPPOSITE.get(relation, ())]


def relative_subjects(parsed: Parsed, names: list[Match], heads: list[tuple[int, int]],
                      relations: list[tuple[int, int, str]]) -> list[Anchor]:
    """Names that are the subject of a clause describing the thing asked for: the head (a kind word or a
    name, ``heads`` as [start, end)), an optional 'that'/'which' or a helping verb ('which arteries does the
    aorta split into'), a determiner, the name, then a verb. A relation phrase right after the name says how
    the target relates to it ('the aorta splits into' them: they come from the aorta); else it is only near.
    After 'whose' ('the bone whose rounded head sits in the hip socket'), every name in the clause is near."""
    found: list[Anchor] = []
    for _, head_end in heads[:1]:
        following = parsed.raw[head_end] if head_end < len(parsed.raw) else ""
        # 'whose' later in the head's clause ('the organ behind the stomach whose tail reaches the spleen') too
        _, clause_end = parsed.clause_of(head_end)
        whose = next((i for i in range(head_end, clause_end) if parsed.raw[i] == "whose"), None)
        if whose is not None:
            found += [Anchor(m, NEAR) for m in names if whose < m.start < clause_end]
        if following == "whose":
            continue
        at = head_end + (1 if following in RELATIVE or following in AUXILIARIES else 0)
        if at >= len(parsed.raw) or parsed.stems[at] != "the":
            continue
        subject = [m for m in names if m.start == at + 1]
        if not subject:
            continue
        name = max(subject, key=lambda m: m.length)
        following = parsed.raw[name.end] if name.end < len(parsed.raw) else ""
        if following and following not in LIST_WORDS and following not in BOUNDARIES:
            said = [relation for start, _, relation in relations if name.end <= start <= name.end + 1]
            found += ([Anchor(name, opposite) for opposite in OPPOSITE.get(said[0], (said[0],))] if said
                      else [Anchor(name, NEAR)])
    return found


def find_anchors(parsed: Parsed, matches: list[Match], relations: list[tuple[int, int, str]],
                 heads: list[tuple[int, int]]) -> list[Anchor]:
    """Every landmark the question uses, with the target's relation to it."""
    names = [m for m in matches if m.kind == NAME]
    anchors: list[Anchor] = []
    for start, end, relation in relations:
        # 'joins onto the twelfth vertebra', 'attached to the breastbone': the verb's own particle comes first
        skip = relation == "connects" and end < len(parsed.raw) and parsed.raw[end] in PARTICLES
        landmark = _after(parsed, names, end + skip)
        if landmark is None and any(parsed.raw[i] in PRONOUNS for i in range(end, min(len(parsed.raw), end + 3))):
            before = [m for m in names if m.end <= start]
            landmark = max(before, key=lambda m: m.end) if before else None
        if landmark is not None:
            anchors += [Anchor(m, relation) for m in [landmark] + _listed(parsed, names, landmark)]
            continue
        anchors += _stranded(parsed, names, start, end, relation)
    anchors += relative_subjects(parsed, names, heads, relations)
    return list(dict.fromkeys(anchors))


def on_surfaces(kb: KnowledgeBase, parsed: Parsed, matches: list[Match],
                relations: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """``relations`` read for surfaces ('on the back of the ribcage'): such a phrase places the target behind or in
    front of its landmark only when the knowledge base has something there, and then the shorter phrases inside
    it ('over') say nothing more; else it says where on the landmark ('the bone on the back of the skull'), no
    relation."""
    names = [m for m in matches if m.kind == NAME]
    surfaces = [hit for hit in relations if is_surface(parsed, hit[0], hit[1])]
    placed = [(start, end, relation) for start, end, relation in surfaces
              if (landmark := _after(parsed, names, end)) is not None and related(kb, landmark.entry, relation)]
    return [hit for hit in relations if hit in placed or hit not in surfaces
            and not any(start < hit[1] and hit[0] < end for start, end, _ in placed)]


def _neighbours(kb: KnowledgeBase, one: str, other: str) -> bool:
    """Whether two targets follow each other in a series of more than two (L4 and L5; not the upper and lower
    lobes, which have the middle lobe between them, nor a left/right pair)."""
    for whole in kb.ancestors(one)[1:]:
        members = kb.get(whole).members
        if len(members) > 2 and one in members and other in members:
            return abs(members.index(one) - members.index(other)) == 1
    return False


def named_levels(kb: KnowledgeBase, anchors: list[Anchor], names: list[Match]) -> list[Anchor]:
    """``anchors`` without those that name a level: 'between the fourth and fifth lumbar vertebrae' asks
    about those two, not about what lies between them, when the landmark and another name close by follow
    each other in one series; 'between the upper and lower lobes' asks for what lies between."""
    def level(anchor: Anchor) -> bool:
        return anchor.relation == "connects" and any(
            m.entry != anchor.landmark.entry and abs(m.start - anchor.landmark.start) <= REACH
            and _neighbours(kb, anchor.landmark.entry, m.entry) for m in names)
    return [anchor for anchor in anchors if not level(anchor)]


def _direct(kb: KnowledgeBase, landmark: str, relation: str) -> dict[str, float]:
    kinds = RELATION_ALIASES.get(relation, (relation,))
    reference = kb.ancestors(landmark)
    found: dict[str, float] = {}
    for entry in kb.entries:
        stated = {rel for rel, target in entry.relations if rel in kinds and target in reference}
        if stated:
            found[entry.name] = FORWARD_WEIGHT if relation != "next_to" or relation in stated else LOOSE_WEIGHT
    backwards = {opposite for kind in kinds for opposite in OPPOSITE.get(kind, ())}
    for whole in reference:
        said = [target for rel, target in kb.get(whole).relations if rel in backwards and target not in reference]
        for target in said:
            found.setdefault(target, BACKWARD_WEIGHT)
        if said:
            break  # the nearest says it: the right carotid comes from the trunk, whatever the carotids do
    return found


def _parts(kb: KnowledgeBase, landmark: str) -> list[str]:
    return [entry.name for entry in kb.entries if landmark in entry.part_of]


def descendants(kb: KnowledgeBase, whole: str) -> list[str]:
    """Every target inside ``whole``: its members and parts, and theirs."""
    found: list[str] = []
    queue = list(kb.get(whole).members) + _parts(kb, whole)
    while queue:
        name = queue.pop(0)
        if name not in found and name != whole and name in kb:
            found.append(name)
            queue += list(kb.get(name).members) + _parts(kb, name)
    return found


def asked_wholes(kb: KnowledgeBase, parsed: Parsed, names: list[Match]) -> list[Match]:
    """Wholes the question asks *which part* of: 'which vertebra ...', 'which part of the lung ...', 'the part
    of the spine ...', 'the lung of right, the lower part'. The
    answer is one of their parts, so the whole itself is only where to look. A plain 'which' before a
    left/right pair ('which kidney') asks for a side, which the rest of the question must say: not here."""
    found = []
    for match in names:
        entry = kb.get(match.entry)
        i, part_word = match.start - 1, False
        if i >= 0 and parsed.stems[i] == "the":
            i -= 1
        if i >= 1 and parsed.raw[i] == "of" and parsed.stems[i - 1] in PART_WORDS:
            i, part_word = i - 2, True
        # 'the part of the spine right above ...' asks for a part as 'which part of' does
        asking = parsed.raw[i] in ASKING or part_word and parsed.stems[i] == "the" if i >= 0 else False
        if asking and descendants(kb, match.entry) and (part_word or not entry.lateral) or _part_later(
                parsed, names, match) and descendants(kb, match.entry):
            found.append(match)
    return found


def _part_later(parsed: Parsed, names: list[Match], whole: Match) -> bool:
    """A later clause that names nothing but a part ('the lung of right, the lower part'): it asks for a part of
    the whole named before it."""
    _, end = parsed.clause_of(whole.start)
    while end < len(parsed.raw):
        start, end = parsed.clause_of(end + 1) if end + 1 < len(parsed.raw) else (end, end)
        if start >= end:
            return False
        if any(start <= m.start < end for m in names):
            return False
        if any(stem in PART_WORDS and stem != "one" for stem in parsed.stems[start:end]):  # 'the left one': a side
            return True
    return False


def asks_for_one(parsed: Parsed, whole: Match) -> bool:
    """'which vertebra ...' (the whole's name in the singular, right after the asking word) asks for one
    part that has no parts of its own, not a group of them ('which vertebrae make up ...')."""
    last = whole.end - 1
    return whole.start >= 1 and parsed.raw[whole.start - 1] in ASKING and parsed.raw[last] == parsed.stems[last]


def related(kb: KnowledgeBase, landmark: str, relation: str) -> list[tuple[str, float]]:
    """(target, weight) for targets with ``relation`` to ``landmark`` (or to a whole it is part of): from
    the targets' own relations, a little weaker from the landmark's relations read backwards, and
    weaker still one step further for a direction ('behind the breastbone': the heart is behind it, and
    the esophagus behind the heart), and for 'coming off' the landmark's own parts."""
    found = _direct(kb, landmark, relation)
    if relation == "from":  # 'the pouch hanging off the left atrium': a part of it
        for part in _parts(kb, landmark):
            found.setdefault(part, PART_WEIGHT)
    if relation in TRANSITIVE:
        for middle in list(found):
            for name in _direct(kb, middle, relation):
                if name != landmark:
                    found.setdefault(name, TRANSITIVE_WEIGHT)
    return list(found.items())


def masked(parsed: Parsed, spans: list[tuple[int, int]]) -> str:
    """The question with each landmark (or cause) span said as 'something': what is left describes the
    target itself ('the gland in front of something'), for a second reading by the sentence encoder."""
    words: list[str] = []
    skip: set[int] = set()
    for start, end in spans:
        skip.update(range(start + 1, end))
    starts = {start for start, _ in spans}
    for i, word in enumerate(parsed.raw):
        if i in starts:
            words.append(MASK)
        elif i not in skip:
            words.append(word)
    return " ".join(words)
