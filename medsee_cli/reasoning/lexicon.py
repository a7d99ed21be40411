"""Phrase index over the knowledge base: which words name a target or point to it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from medsee_cli.reasoning import data
from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.text import BOUNDARIES, SIDES, Parsed, occurrences, phrase_key, stem, tokens, word_forms

NAME, CLUE, WEAK = "name", "clue", "weak"
WEIGHTS = {NAME: 1.0, CLUE: 0.75, WEAK: 0.45}
RELATIONS_RESOURCE = "relations.yaml"


@functools.lru_cache(maxsize=1)
def relation_words() -> dict[tuple[str, ...], str]:
    """Relation phrase (its words as written) -> the relation it says (``data/relations.yaml``)."""
    found = data.read(RELATIONS_RESOURCE)
    return {tuple(str(phrase).split()): str(relation) for key in ("phrases", "surfaces")
            for relation, phrases in found.get(key, {}).items() for phrase in phrases}


@functools.lru_cache(maxsize=1)
def surface_words() -> frozenset[tuple[str, ...]]:
    """Relation phrases that put the target on a surface of the landmark ('on the back of'), which may also say
    where on the landmark itself ('the bone on the back of the skull')."""
    surfaces = data.read(RELATIONS_RESOURCE).get("surfaces", {})
    return frozenset(tuple(str(phrase).split()) for phrases in surfaces.values() for phrase in phrases)


def is_surface(parsed: Parsed, start: int, end: int) -> bool:
    """Whether the relation phrase at [start, end) is a surface phrase (`surface_words`)."""
    return tuple(word for word in parsed.raw[start:end] if word not in FILLERS) in surface_words()


@functools.lru_cache(maxsize=1)
def finding_words() -> frozenset[str]:
    """Stems of what is found in a place ('stone', 'clot'): 'inside' after one places the finding."""
    return frozenset(stem(str(word)) for word in data.read(RELATIONS_RESOURCE)["findings"])


# 'pain all over' is no place; 'pain over the shoulder blade' is at it, not above it
IDIOMS = {("all", ("over",)), ("all", ("around",)), ("all", ("round",))} | {
    (word, ("over",)) for word in ("pain", "painful", "tender", "tenderness", "sore", "ache", "aching", "swelling",
                                   "swollen", "bruise", "bruising", "bruised", "lump", "rash", "redness")}
TEST_REACH = 3  # a lesion word this close to a test word describes the test ('liver tests are abnormal')
MAX_GAP = 3  # a phrase of several words still matches with this many extra words inside it, in one clause
# words that can sit inside a relation phrase without changing it ('at the very bottom of', 'just under')
FILLERS = frozenset({"very", "just", "directly", "immediately", "slightly", "little", "bit"})
# 'fluid round the lungs from her heart failure', 'because of his cirrhosis': what follows is the cause
CAUSE_WORDS = (("due", "to"), ("because", "of"), ("caused", "by"), ("secondary", "to"), ("as", "a", "result", "of"),
               ("from", "her"), ("from", "his"), ("from", "their"), ("from", "my"), ("from", "your"))
# 'from X to Y' with plain words: both ends are landmarks ('the tube from the kidney to the bladder')
FROM_WORDS, TO_WORDS, FROM_TO_REACH = ("from",), ("to", "into"), 12
# 'next to' is any neighbour; 'under' and 'below' are used alike
RELATION_ALIASES = {"under": ("under", "below"), "below": ("below", "under"),
                    "next_to": ("next_to", "behind", "in_front_of", "above", "below", "under"),
                    "connects": ("from", "to"), "around": ("around",)}
PRONOUNS = frozenset({"it", "that", "this", "them", "those", "these", "one"})


def of_form(phrase: str) -> str:
    """A two-word name said the other way round: 'bottom muscle' -> 'muscle of the bottom', 'thigh bone' ->
    'bone of the thigh' ('' for any other name, and for sided ones: 'left kidney' has no such form)."""
    words = tokens(phrase)
    if len(words) != 2 or not all(w.isalpha() for w in words) or SIDES & set(words):
        return ""
    return f"{words[1]} of the {words[0]}"


@dataclass(frozen=True)
class Match:
    """One phrase of the knowledge base found in the question at tokens [start, end)."""

    start: int
    end: int
    entry: str
    kind: str
    phrase: str
    gaps: int = 0  # words of the question inside the occurrence that the phrase lacks ('absorbs most of the food')

    @property
    def length(self) -> int:
        return self.end - self.start


class Lexicon:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.index: dict[tuple[str, ...], list[tuple[str, str, str]]] = {}
        self.vocabulary: set[str] = set()
        self.pairs: set[tuple[str, str]] = set()  # phrases of two words, as written ('lung', 'nodule')
        for entry in kb.entries:
            for kind, phrases in ((NAME, entry.names()), (CLUE, entry.clues), (WEAK, entry.weak_clues)):
                for phrase in phrases:
                    self._add(phrase, entry.name, kind)
            for phrase in entry.names():
                inverted = of_form(phrase)
                if inverted:
                    self._add(inverted, entry.name, NAME)
        for word in kb.lesion_words:
            self.vocabulary.update(tokens(word))
        self.lesion_keys = {phrase_key(w): w for w in kb.lesion_words}
        self.test_keys = {phrase_key(w): w for w in kb.test_words}
        self.type_keys = {phrase_key(w): kind for kind, words in kb.type_words for w in words}
        self.spread_keys = {phrase_key(w): w for w in kb.spread_words}
        self.origin_keys = {phrase_key(w): w for w in kb.origin_words}
        self.origin_after_keys = {phrase_key(w): w for w in kb.origin_after_words}
        self.max_len = max(len(k) for k in self.index)
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for key in self.index:
            if len(key) >= 2:
                self.by_first.setdefault(key[0], []).append(key)
        self.prefixes = word_forms()[1]
        self.single_names = {key[0]: [(n, p) for n, kind, p in hits if kind == NAME]
                             for key, hits in self.index.items() if len(key) == 1 and len(key[0]) >= 5}

    def _add(self, phrase: str, name: str, kind: str) -> None:
        key = phrase_key(phrase)
        if not key:
            return
        words = tokens(phrase)
        self.vocabulary.update(words)
        if len(words) == 2:
            self.pairs.add((words[0], words[1]))
        # said without articles too, as many who learnt English late say it ('the spine of neck', 'pain under ribs')
        bare = tuple(word for word in key if word != "the")
        for said in {key, bare} if len(bare) >= 2 else {key}:
            bucket = self.index.setdefault(said, [])
            if not any(n == name and k == kind for n, k, _ in bucket):
                bucket.append((name, kind, phrase))

    def find(self, parsed: Parsed) -> list[Match]:
        """Every phrase occurrence (also read without side words, and without filler words: 'the big vein just
        above the heart'), then only those not inside a longer occurrence."""
        found: set[Match] = set()
        every = list(range(len(parsed.stems)))
        sideless = [i for i in every if not parsed.is_side(i)]
        plain = [i for i in every if parsed.raw[i] not in FILLERS]  # 'the big vein just above the heart'
        for positions in (every, sideless) + ((plain,) if len(plain) < len(every) else ()):
            stems = tuple(parsed.stems[i] for i in positions)
            for start in range(len(stems)):
                for end in range(start + 1, min(len(stems), start + self.max_len) + 1):
                    for name, kind, phrase in self.index.get(stems[start:end], ()):
                        found.add(Match(positions[start], positions[end - 1] + 1, name, kind, phrase))
        found.update(self._compounds(parsed))
        found.update(self._gapped(parsed, {i for m in found if m.kind == NAME for i in range(m.start, m.end)}))
        exact = [m for m in found if not m.gaps]
        gapped = [m for m in found if m.gaps]
        # a name inside a longer phrase of the same entry stays ('overactive thyroid' names the thyroid);
        # a phrase found with gaps hides no other entry's phrase; where it overlaps its own entry's phrase
        # found as written, the longer of the two counts (the written one when they are as long)
        covered = lambda m: any(o.start <= m.start and m.end <= o.end and o.length > m.length  # noqa: E731
                                and not (m.kind == NAME and o.entry == m.entry) for o in exact)
        overlap = lambda m, o: o.entry == m.entry and o.start < m.end and m.start < o.end  # noqa: E731
        repeated = lambda m: (any(overlap(m, o) and o.length >= m.length for o in exact) if m.gaps  # noqa: E731
                              else any(overlap(m, o) and o.length > m.length for o in gapped))
        # sorted, so that ties between targets break the same way in every run; one phrase found twice over
        # the same words (with and without its articles) counts once
        kept: list[Match] = []
        for m in sorted(found, key=lambda m: (m.start, m.end, m.entry, m.kind, m.gaps)):
            if not covered(m) and not repeated(m) and not any(
                    (k.entry, k.kind, k.phrase) == (m.entry, m.kind, m.phrase) and k.start < m.end and m.start < k.end
                    for k in kept):
                kept.append(m)
        return kept

    def _gapped(self, parsed: Parsed, named: set[int]) -> list[Match]:
        """Clues of two or more words with up to MAX_GAP extra words inside ('absorbs most of the food' for
        'absorbs food'), within one clause, not negated; the extra words may not name a target themselves,
        and a side word among them is no gap ('vein from the left leg' for 'vein from the leg'). Names are
        fixed expressions: they match only as written."""
        hits = []
        stems = parsed.stems
        for start, first in enumerate(stems):
            for key in self.by_first.get(first, ()):
                at, gaps = start + 1, 0
                for word in key[1:]:
                    while (at < len(stems) and stems[at] != word and (gaps < MAX_GAP or parsed.is_side(at))
                           and parsed.raw[at] not in BOUNDARIES):
                        at, gaps = at + 1, gaps + (not parsed.is_side(at))
                    if at >= len(stems) or stems[at] != word:
                        break
                    at += 1
                else:
                    inside = range(start, at)
                    if 0 < gaps and not any(parsed.negated[i] for i in inside) and not any(
                            i in named for i in inside if stems[i] not in key):
                        hits += [Match(start, at, name, kind, phrase, gaps) for name, kind, phrase in self.index[key]
                                 if kind != NAME]
        return hits

    def _compounds(self, parsed: Parsed) -> list[Match]:
        """A medical prefix glued to a name ('hydroureter', 'intrahepatic') points to that target."""
        hits = []
        for i, word in enumerate(parsed.stems):
            if len(word) < 8 or word in self.index or not word.startswith(self.prefixes):
                continue
            for prefix in self.prefixes:
                rest = word[len(prefix):] if word.startswith(prefix) else ""
                for name, phrase in self.single_names.get(rest, ()):
                    hits.append(Match(i, i + 1, name, CLUE, phrase))
        return hits

    def lesion_words(self, parsed: Parsed, covered: list[Match]) -> list[tuple[int, str]]:
        """Lesion words (tumour, mass, cyst ...) not part of a longer matched phrase, not negated."""
        hits = []
        for key, word in self.lesion_keys.items():
            n = len(key)
            for start in range(len(parsed.stems) - n + 1):
                if parsed.stems[start:start + n] != key or parsed.negated[start] or self._about_a_test(parsed, start):
                    continue
                if any(m.start <= start and start + n <= m.end and m.length > n
                       and self.kb.get(m.entry).kind != "lesion" for m in covered):
                    continue
                hits.append((start, word))
        return hits

    def _about_a_test(self, parsed: Parsed, at: int) -> bool:
        """Whether a test word ('tests', 'results') is within TEST_REACH words of ``at``, in its clause."""
        low, high = parsed.clause_of(at)
        low, high = max(low, at - TEST_REACH), min(high, at + TEST_REACH + 1)
        return any(parsed.stems[i:i + len(key)] == key for key in self.test_keys for i in range(low, high))

    def relations(self, parsed: Parsed) -> list[tuple[int, int, str]]:
        """(start, end, relation) for each spatial relation phrase in the question. Filler words inside a
        phrase are skipped ('at the very bottom of'); a cause ('from her heart failure') is no relation."""
        kept = [i for i, word in enumerate(parsed.raw) if word not in FILLERS]
        words = [parsed.raw[i] for i in kept]
        causes = {start for start, _ in self.cause_spans(parsed)}
        hits = []
        for key, relation in relation_words().items():
            n = len(key)
            for start in range(len(words) - n + 1):
                if (tuple(words[start:start + n]) == key and kept[start] + n not in causes
                        and not (start and (words[start - 1], key) in IDIOMS)
                        and not (relation == "inside" and self._finding_before(parsed, kept[start]))):
                    hits.append((kept[start], kept[start + n - 1] + 1, relation))
        # (where the first end starts, the first word 'to' may be): 'from the kidney to ...'
        starts = [(start, start + 2) for start, word in enumerate(parsed.raw)
                  if word in FROM_WORDS and start + 1 not in causes]
        # 'branching off the aorta to the arm', 'joining the ribs to the breastbone', 'drains bile into the gut'
        starts += [(end, end + 1) for _, end, relation in hits if relation in ("from", "connects")]
        for start, first in sorted(set(starts)):
            _, clause_end = parsed.clause_of(start)
            end = next((i for i in range(first, min(clause_end, start + FROM_TO_REACH))
                        if parsed.raw[i] in TO_WORDS), None)
            if end is not None:
                if parsed.raw[start] in FROM_WORDS:
                    hits.append((start, start + 1, "from"))
                hits.append((end, end + 1, "to"))
        return sorted(set(hits))

    def _finding_before(self, parsed: Parsed, at: int) -> bool:
        """A finding just before ``at`` ('a stone inside the tube of bile'): what follows is where it is."""
        return any(parsed.stems[i] in finding_words() for i in range(max(0, at - 2), at))

    def cause_spans(self, parsed: Parsed) -> list[tuple[int, int]]:
        """[start, end) of each cause named in the question ('because of his cirrhosis'), to the clause end;
        start is the first word after the cue."""
        spans = []
        for key in CAUSE_WORDS:
            n = len(key)
            for start in range(len(parsed.raw) - n + 1):
                if tuple(parsed.raw[start:start + n]) == key:
                    first = start + n - (1 if key[0] == "from" else 0)  # the possessive is part of the cause
                    spans.append((first, parsed.clause_of(start)[1]))
        return sorted(spans)

    def _occurrences(self, parsed: Parsed, keys: dict) -> list[tuple[int, int, str]]:
        return [hit for hit in occurrences(parsed.stems, keys) if not parsed.negated[hit[0]]]

    def type_words(self, parsed: Parsed, covered: list[Match]) -> list[tuple[int, int, str]]:
        """(start, end, kind) for words asking for a kind of thing ('bone', 'vessel'), not inside a
        longer name ('thyroid gland', 'lymph glands')."""
        return [(s, e, kind) for s, e, kind in self._occurrences(parsed, self.type_keys)
                if not any(m.start <= s and e <= m.end and m.length > e - s and m.kind == NAME for m in covered)]

    def spread_cues(self, parsed: Parsed) -> list[tuple[int, int, str]]:
        """Words saying a cancer has spread ('spread to', 'mets', 'gone to')."""
        return self._occurrences(parsed, self.spread_keys)

    def origin_cues(self, parsed: Parsed) -> list[tuple[int, int, str]]:
        """Words naming where a cancer started ('from', 'started in')."""
        return self._occurrences(parsed, self.origin_keys)

    def origins(self, parsed: Parsed, matches: list[Match]) -> set[Match]:
        """The structures a question names as where a cancer started, when it says the cancer has spread
        ('mets from the breast', '?mets, known lung primary'): an origin word just before or right after."""
        if not self.spread_cues(parsed):
            return set()
        before = {end for _, end, _ in self.origin_cues(parsed)}
        after = {start for start, _, _ in self._occurrences(parsed, self.origin_after_keys)}
        return {m for m in matches if m.kind == NAME and (any(o <= m.start <= o + 2 for o in before) or m.end in after)}
