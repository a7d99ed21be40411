"""The resolver: question -> ranked target hypotheses, from phrases, clues, relations and meaning.

Lexical evidence (names, symptoms, spatial relations and landmarks (``landmarks``), lesion words,
sides, negation, a part inside a named whole, clinician shorthand (``shorthand``), what each clause
does (``clause_roles``)) is read from the knowledge base; an optional offline sentence encoder
re-ranks it and fills in when no phrase matched (``semantic.SemanticIndex``, read as ``reading``
says). The resolver abstains, and says so, when nothing reaches the threshold, when the question is
closer to the out-of-scope examples than to any target, or when it is mostly not words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from medsee_cli.reasoning.answer import compose_answer, declined, rationale, uncovered
from medsee_cli.reasoning.clause_roles import ClauseRoles
from medsee_cli.reasoning.clauses import ClauseOptions, is_long
from medsee_cli.reasoning.intent import other_request
from medsee_cli.reasoning.knowledge import Entry, KnowledgeBase, load_knowledge
from medsee_cli.reasoning.landmarks import (NEAR, asked_wholes, asks_for_one, descendants, find_anchors, masked,
                                            named_levels, on_surfaces, related)
from medsee_cli.reasoning.lexicon import CLUE, NAME, WEAK, WEIGHTS, Lexicon, Match
from medsee_cli.reasoning.neighbours import by_neighbours, said_out, step_words
from medsee_cli.reasoning.reading import Reading, read
from medsee_cli.reasoning.rerank import RERANKED, Reranker, load_reranker
from medsee_cli.reasoning.rerank_features import Candidate, Candidates
from medsee_cli.reasoning.rerank_views import ViewIndex
from medsee_cli.reasoning.resolution import Hypothesis, Resolution, ranked, reported_score
from medsee_cli.reasoning.scan import ScanContext, load_body_regions
from medsee_cli.reasoning.semantic import BROAD_TYPES, SemanticIndex, index_texts
from medsee_cli.reasoning.series import Said, ends_said, in_series, one_said_out
from medsee_cli.reasoning.shorthand import expand
from medsee_cli.reasoning.sides import hold_to_pair, lend_to_side, off_side
from medsee_cli.reasoning.text import SIDES, Parsed, Speller, parse, phrase_key, with_corrections
from medsee_cli.reasoning.uncovered import kind_vocabulary, named_part, part_words


CONTEXT_WEIGHT = 0.6
GENERIC_LESION = "lesion"
LANDMARK = "landmark"  # a structure the question only uses to say where the target is
LANDMARK_WEIGHT = 0.25
NEAR_WEIGHT = 0.6  # a target of the asked kind with any stated relation to such a landmark
GAP_FACTOR = 0.85  # a phrase found with extra words inside it is a little less certain
PART_WEIGHT = 0.6  # each part of a whole the question asks 'which part of' ('which vertebra')
LUMP_REACH = 3  # a lesion word this close to an organ named in a cause makes the cause a lump in that organ
STRONG = (NAME, CLUE, "relation", "lesion", "spread", "scan_lesion")  # evidence that says what to look for
HEAD_REACH = 4  # the thing a question asks for starts within its first few words ('which of the bones ...')


@dataclass(frozen=True)
class ReasonerOptions:
    """How to build a reasoner. ``encoder``: "auto" (the packaged MiniLM if installed), "none",
    or a folder holding a sentence-transformers style model; ``encoder_runtime``: "numpy"
    (default, no torch) or "transformers".

    Scoring (calibrated on the development question sets, see the README): a target with phrase
    evidence scores ``(1 - semantic_weight) * lexical + semantic_weight * similarity``; one found
    by meaning only scores ``semantic_only_scale * similarity``, times ``semantic_discount`` when
    words named another target, unless it leads that target's similarity by ``semantic_lead``
    (and reaches ``semantic_lead_min``). Meaning alone below ``abstain_below``, an out-of-scope
    example within ``reject_margin`` of the best target (and, with clue words, at least
    ``reject_floor``), or fewer than ``min_known_words`` real words: abstain. A target with phrase
    evidence of its own never scores below its meaning-only score. A question that names a structure but
    asks something else about it ('do I need to fast before my gallbladder scan?') abstains too when it
    reads closer to an out-of-scope example than to any target (and at least ``request_floor``), and
    still does with every structure, kind and lesion word masked (by ``request_masked_margin``).

    ``clauses``: when a question is long enough to be read clause by clause (`clauses`);
    ``masked_share``: the weight of the reading with landmarks masked (`reading`); ``off_side``: the
    factor for an unpaired organ that usually lies on the other side than the one stated (`sides`);
    ``rerank``: let the learned re-ranker (`rerank`, with the encoder only) move one of the best few
    hypotheses first."""

    knowledge: Optional[Path] = None
    encoder: str = "auto"
    encoder_runtime: str = "numpy"
    max_targets: int = 5
    semantic_weight: float = 0.4
    semantic_only_scale: float = 0.9
    semantic_discount: float = 0.6
    semantic_lead: float = 0.1
    semantic_lead_min: float = 0.6
    abstain_below: float = 0.45
    reject_margin: float = 0.05
    reject_floor: float = 0.4
    request_floor: float = 0.38
    request_masked_margin: float = 0.03
    min_known_words: float = 0.5
    keep_ratio: float = 0.3
    type_mismatch: float = 0.6
    out_of_scan: float = 0.5
    placed_region: float = 0.85
    off_side: float = 0.7
    masked_share: float = 0.3
    spread_weight: float = 1.15
    origin_factor: float = 0.4
    clauses: ClauseOptions = ClauseOptions()
    rerank: bool = True
    threads: int = 0
    llm: str = ""
    llm_model: str = "default"
    llm_timeout_s: float = 60.0
    llm_max_new_tokens: int = 160


@dataclass(frozen=True)
class Evidence:
    entry: str
    weight: float
    kind: str
    phrase: str
    note: str = ""
    demoted: float = 1.0  # what its clause's role, or being named in a cause or as an origin, took off (re-ranker)
    start: int = -1  # the word it was found at, where one was (re-ranker)


@dataclass(frozen=True)
class _Ranking:
    """What `Resolver._ranking` found for one question: every target's score and the evidence, meaning and notes
    behind it, and what holds for the whole question."""

    scores: dict[str, float]
    by_entry: dict[str, list[Evidence]]
    lexical: dict[str, float]
    semantic: dict[str, float]
    reject: float
    notes: dict[str, list[str]]
    excluded: list[str]
    corrected: tuple[tuple[str, str], ...]
    said: set[str]
    asked: set[str]
    long: bool
    named: bool
    lump: bool  # a lesion word is in the question ('a lump', 'the tumour')
    vectors: Any = None  # the question's readings (`reading.Vectors`), for the re-ranker's features
    words: int = 0


class Resolver:
    def __init__(self, kb: KnowledgeBase, options: ReasonerOptions, encoder=None) -> None:
        self.kb = kb
        self.options = options
        self.lexicon = Lexicon(kb)
        # a part no target covers and a step along a series are read as written ('scaphoid' is no typo of
        # 'scapula', 'caudal' none of 'cauda'): `uncovered`, `neighbours`
        self.speller = Speller(self.lexicon.vocabulary, self.lexicon.pairs, part_words() | step_words())
        self.regions = load_body_regions(kb)
        self.encoder = encoder
        self.load_seconds = 0.0
        self.index: Optional[SemanticIndex] = None
        self._views: Optional[ViewIndex] = None  # built on first use (`_candidates`)
        self._kind_vocabulary: Optional[dict[str, frozenset[str]]] = None  # built on first use (`_lies_in`)
        # the learned re-ranker reads meaning features: it runs only with the encoder
        self.reranker: Optional[Reranker] = load_reranker(options.rerank) if encoder is not None else None
        if encoder is not None:
            started = time.perf_counter()
            items = index_texts(kb)
            self.index = SemanticIndex(items, self._vectors([item.text for item in items]))
            self.load_seconds = time.perf_counter() - started

    def embedding_texts(self) -> list[str]:
        """The sentences and phrases the semantic index embeds (see ``semantic.index_texts``)."""
        return [item.text for item in index_texts(self.kb)]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        from medsee_cli.reasoning.embedding_cache import load_cached

        folder = getattr(self.encoder, "folder", None)
        cached = load_cached(texts, folder) if folder is not None else None
        return cached if cached is not None else self.encoder.encode(texts)

    @classmethod
    def from_options(cls, options: ReasonerOptions = ReasonerOptions()) -> "Resolver":
        kb = load_knowledge(options.knowledge)
        from medsee_cli.reasoning.encoder import open_encoder

        return cls(kb, options, open_encoder(options.encoder, options.encoder_runtime, options.threads))

    # -- evidence ---------------------------------------------------------------------------
    def _sided(self, entry: Entry, side: str) -> list[str]:
        """The entry, moved to the stated side when it has sides (kidneys + left -> kidney_left)."""
        if side and entry.lateral_member(side):
            return [entry.lateral_member(side)]
        if entry.side() and side and entry.side() != side:
            other = self._counterpart(entry)
            return [other] if other else [entry.name]
        return [entry.name]

    def _counterpart(self, entry: Entry) -> str:
        for candidate in self.kb.entries:
            if (candidate.code == entry.code and candidate.region == entry.region and candidate.side()
                    and candidate.side() != entry.side() and candidate.kind == entry.kind
                    and len(candidate.part_of) == len(entry.part_of)):
                return candidate.name
        return ""

    def _side_for(self, parsed: Parsed, match: Match) -> str:
        if any(word in SIDES for word in match.phrase.split()):
            return ""
        near = parsed.side_near(match.start, match.end)
        if near:
            return near
        sides = parsed.sides()
        return next(iter(sides)) if len(sides) == 1 else ""

    def _evidence(self, parsed: Parsed, scan: Optional[ScanContext] = None, long: bool = False
                  ) -> tuple[list[Evidence], list[str], set[str], list[tuple[int, int]], tuple[Said, ...]]:
        """(evidence, excluded targets, kinds asked for, landmark and cause spans, the words that name a member of a
        series by counting with the member's name, for the encoder: `neighbours.said_out`). ``long``: the question
        is read clause by clause (`clauses.is_long`)."""
        phrases = self.lexicon.find(parsed)
        matches = in_series(self.kb, parsed, phrases)  # "the bottom vertebra", "the fifth rib"
        relations = on_surfaces(self.kb, parsed, matches, self.lexicon.relations(parsed))
        # "the vertebra just above L1": T12
        counted = by_neighbours(self.kb, parsed, matches, self.lexicon.type_words(parsed, matches), relations)
        matches = counted.matches
        negated = [m for m in matches if any(parsed.negated[m.start:m.end])]
        # the generic lesion is chosen below, when no organ says whose lesion it is
        active = [m for m in matches if m not in negated and m.entry != GENERIC_LESION]
        excluded = sorted({m.entry for m in negated if m.kind == NAME})
        landmarks: set[Match] = set()
        kind_landmarks: list[Match] = []
        evidence: list[Evidence] = []
        lesion_hits = self.lexicon.lesion_words(parsed, active)
        kind_words = self.lexicon.type_words(parsed, active)
        # 'his prostate cancer has spread ...': a lesion word inside a longer phrase still says it is a cancer
        origins = self.lexicon.origins(parsed, active)  # where a cancer came from is not where to look
        sites = self._spread_sites(parsed, [m for m in active if m not in origins], kind_words,
                                   lesion_hits or self.lexicon.lesion_words(parsed, []))
        lesion_organs = {self.kb.get(m.entry).organ for m in active if m.kind == NAME} - {""}
        causes = self.lexicon.cause_spans(parsed)
        span_of = lambda i: next(((s, e) for s, e in causes if s <= i < e), None)  # noqa: E731
        in_cause = lambda m: span_of(m.start) is not None  # noqa: E731
        outside_cause = any(not in_cause(m) for m in active)
        site_spans = {(s, e) for s, e, _, _ in sites}
        roles = ClauseRoles.of(parsed, long)
        # 'the fat above the muscles': a kind word right after a relation phrase is a landmark, not what is asked
        placed = {end + (end < len(parsed.raw) and parsed.stems[end] == "the") for _, end, _ in relations}
        asked = {kind for s, e, kind in kind_words if (s, e) not in site_spans and roles.asks_for_kind(s, long)
                 and not any(abs(s - at) <= 2 for at, _ in lesion_hits) and s not in placed}
        for _, _, lesion, phrase in sites:
            evidence.append(Evidence(lesion, self.options.spread_weight, "spread", phrase))
        heads = sorted([(s, e) for s, e, _ in kind_words] + [(m.start, m.end) for m in active if m.kind == NAME])
        heads = [(s, e) for s, e in heads if s <= HEAD_REACH and parsed.clause_of(s)[0] == 0]
        anchors = find_anchors(parsed, [m for m in matches if not in_cause(m)], relations, heads)
        anchors = named_levels(self.kb, anchors, [m for m in matches if m.kind == NAME])
        for whole in asked_wholes(self.kb, parsed, [m for m in active if m.kind == NAME]):
            landmarks.add(whole)  # 'which vertebra ...': one of the vertebrae, not all of them
            # the parts of the side stated ('the lung of right, the lower part': the right lung's lobes)
            parts = descendants(self.kb, self._sided(self.kb.get(whole.entry), self._side_for(parsed, whole))[0])
            parts = parts or descendants(self.kb, whole.entry)
            if asks_for_one(parsed, whole):  # one vertebra, not the neck ones as a group
                parts = [name for name in parts if not self.kb.get(name).members] or parts
            evidence += [Evidence(name, PART_WEIGHT, "context", whole.phrase) for name in parts]
        # 'fluid between the lungs and the chest wall' is the effusion's own phrase: its landmark places only that
        spelled = [m for m in active
                   if m.kind in (NAME, CLUE) and any(m.start <= s and e <= m.end for s, e, _ in relations)]
        for anchor in anchors:
            landmark = anchor.landmark
            landmarks.add(landmark)
            own = {m.entry for m in spelled if m.entry != landmark.entry and m.start < landmark.start < m.end}
            if anchor.relation == NEAR:
                kind_landmarks.append(landmark)  # how it relates is not said: targets of the asked kind near it
                continue
            side = self._side_for(parsed, landmark) or self.kb.get(landmark.entry).side()
            # 'below the collarbone on the left': the left collarbone's neighbours as well as the pair's
            sided = {landmark.entry, self._sided(self.kb.get(landmark.entry), side)[0]}
            found = {target: strength for name in sorted(sided)
                     for target, strength in related(self.kb, name, anchor.relation)}
            for target, strength in sorted(found.items()):
                # 'between the bladder and the back passage': one landmark does not place the other
                if own and target not in own or any(self._same(target, a.landmark.entry) for a in anchors
                                                    if a.landmark.entry != landmark.entry):
                    continue
                for name in self._sided(self.kb.get(target), side):
                    evidence.append(Evidence(name, strength * roles.weight[landmark.start], "relation", landmark.phrase,
                                             anchor.relation, roles.weight[landmark.start], landmark.start))
        for match in active:
            entry = self.kb.get(match.entry)
            side = self._side_for(parsed, match)
            weight = WEIGHTS[match.kind] + (0.02 * min(match.length - match.gaps, 5) if match.kind == NAME else 0.0)
            weight *= GAP_FACTOR if match.gaps else 1.0
            if match.kind == NAME and match.phrase in self.kb.generic_names:
                if any(s <= match.start < e for s, e, _ in kind_words):
                    continue  # 'the gland ...' asks for a kind of thing: it names no one gland
                weight = WEIGHTS[WEAK]  # 'gland' or 'organ' alone says little about which one
            kind = match.kind
            # a phrase that holds the relation as well as the landmark describes the target ('fluid between
            # the lung' for the effusion): it is no landmark itself
            spells = any(match.start <= s and e <= match.end for s, e, _ in relations)
            # ... and so is a phrase of the same structure overlapping it ('the right hip socket')
            if any(m.start <= match.start and match.end <= m.end
                   or match.start <= m.start and m.end <= match.end and not spells
                   or m.start < match.end and match.start < m.end and self._same(m.entry, match.entry)
                   for m in landmarks):
                weight, kind = LANDMARK_WEIGHT, LANDMARK  # the landmark ('in front of the windpipe') is not the answer
            elif self._kind_landmark(match, entry, asked, lesion_hits):
                # 'the bone that holds the brain': the question asks for a bone, so the brain is where to look from
                weight, kind = LANDMARK_WEIGHT, LANDMARK
                kind_landmarks.append(match)
            # 'she had breast cancer ten years ago': the history; in a long story, what is not the worry now
            before = weight
            weight *= roles.weight[match.start]
            if sites and (match.start, match.end) not in site_spans or match in origins:
                weight *= self.options.origin_factor  # where the cancer came from, not where it is now
            elif (outside_cause and in_cause(match) and entry.kind != "lesion"
                  and not any(abs(at - match.start) <= LUMP_REACH and span_of(at) == span_of(match.start)
                              for at, _ in lesion_hits)):
                # 'fluid round the lungs from her heart failure': the cause; but a lump named in the cause
                # ('headaches because of a growth on the brain') is what the question asks about
                weight *= self.options.origin_factor
            demoted = weight / before if before else 1.0
            if match.kind == NAME and lesion_hits and entry.kind != "lesion" and match not in origins:
                lesion = self._lesion_for(match, lesion_hits, side)
                if lesion:
                    evidence.append(Evidence(lesion, weight + 0.05, "lesion", match.phrase, lesion_hits[0][1], demoted,
                                             match.start))
                    weight *= 0.5
            elif entry.kind != "lesion" and lesion_organs & set(self.kb.ancestors(match.entry)):
                weight *= 0.5  # 'HCC in a cirrhotic liver': the liver is where the lesion named is
            names = self._sided(entry, side)
            if entry.side() and not side and not any(w in SIDES for w in match.phrase.split()):
                # the other side too, when the phrase names both ('lower lobe'); 'lll' names one
                other = self._counterpart(entry)
                names += [other] if other and match.phrase in self.kb.get(other).names() else []
            for name in names:
                evidence.append(Evidence(name, weight, kind, match.phrase, "", demoted, match.start))
        evidence += self._near_landmarks(parsed, kind_landmarks, asked)
        evidence += self._context(evidence)
        evidence += (self._placed_lesion(parsed, evidence, active, landmarks, lesion_hits)
                     or self._generic_lesion(parsed, evidence, active, landmarks | origins, lesion_hits, scan))
        blocked = self._blocked(excluded)
        masks = [(m.start, m.end) for m in landmarks | set(kind_landmarks)]
        if outside_cause:
            masks += causes  # 'fluid round the lungs from her heart failure': the failure is not the target
        said = counted.said + ends_said(self.kb, parsed, phrases, matches)  # 'the top of the spine' too
        return [e for e in evidence if e.entry not in blocked], excluded, asked, sorted(set(masks)), said

    def _lies_in(self, kind: str, part: tuple[str, ...]) -> bool:
        """Whether a target of ``kind`` is known by words that hold the part's ('the glands in the armpit')."""
        if self._kind_vocabulary is None:
            self._kind_vocabulary = kind_vocabulary(self.kb)
        return set(part) <= self._kind_vocabulary.get(kind, frozenset())

    def _kinds(self, name: str) -> set[str]:
        """What kind of thing a target is; a lump also takes the telling kind of the organ it is in ('the lump on
        the gland ...'; not 'organ')."""
        entry = self.kb.get(name)
        return set(entry.types) | (set(self.kb.get(entry.organ).types) - set(BROAD_TYPES) if entry.organ else set())

    def _same(self, one: str, other: str) -> bool:
        """Whether two entries name one structure, one of them the whole ('right hip' and 'hip socket')."""
        return one in self.kb.ancestors(other) or other in self.kb.ancestors(one)

    def _kind_landmark(self, match: Match, entry: Entry, asked: set[str], lesion_hits: list) -> bool:
        """A named structure of another kind than the one asked for ('which muscle bends the hip') is a
        landmark, unless the question is about a lump in it."""
        return (bool(asked) and match.kind == NAME and not lesion_hits and entry.kind != "lesion"
                and match.phrase not in self.kb.generic_names and not asked & set(entry.types))

    def _near_landmarks(self, parsed: Parsed, landmarks: list[Match], asked: set[str]) -> list[Evidence]:
        """Targets of the asked kind that the knowledge base relates to a landmark in any way, on the side
        stated for the landmark ('the bone whose head sits in the right hip socket': the right femur)."""
        extra = []
        for landmark in landmarks:
            reference = set(self.kb.ancestors(landmark.entry))
            near = {entry.name for entry in self.kb.entries
                    if any(target in reference for _, target in entry.relations)}
            near |= {target for whole in reference for _, target in self.kb.get(whole).relations}
            side = self._side_for(parsed, landmark) or self.kb.get(landmark.entry).side()
            for name in sorted(near - reference):
                if asked & set(self.kb.get(name).types):
                    extra += [Evidence(sided, NEAR_WEIGHT, "relation", landmark.phrase, "next_to")
                              for sided in self._sided(self.kb.get(name), side)]
        return extra

    def _spread_sites(self, parsed: Parsed, active: list[Match], kind_words: list[tuple[int, int, str]],
                      lesion_hits: list[tuple[int, str]]) -> list[tuple[int, int, str, str]]:
        """Where a cancer has spread to ('spread to his bones from the prostate' -> the bones), as
        (start, end, lesion entry, phrase). The organ it started in is only the origin."""
        cues = self.lexicon.spread_cues(parsed)
        if not cues or not lesion_hits:
            return []
        origins = {end for _, end, _ in self.lexicon.origin_cues(parsed)}
        places = [(m.start, m.end, self.kb.lesion_of(m.entry), m.phrase) for m in active if m.kind == NAME]
        places += [(s, e, self.kb.lesion_of_type((kind,)), " ".join(parsed.raw[s:e])) for s, e, kind in kind_words]
        places = [p for p in places if p[2] is not None and not any(o <= p[0] <= o + 2 for o in origins)]
        sites: list[tuple[int, int, Optional[Entry], str]] = []
        for start, end, _ in cues:
            after = [p for p in places if end <= p[0] <= end + 5]
            before = [p for p in places if start - 3 <= p[1] <= start]
            pick = min(after, key=lambda p: p[0]) if after else max(before, key=lambda p: p[1]) if before else None
            if pick is not None and all(pick[:2] != s[:2] for s in sites):
                sites.append(pick)
        return [(s, e, lesion.name, phrase) for s, e, lesion, phrase in sites if lesion is not None]

    def _placed_lesion(self, parsed: Parsed, evidence: list[Evidence], active: list[Match], landmarks: set[Match],
                       lesion_hits: list[tuple[int, str]]) -> list[Evidence]:
        """A lump on a structure the question places by a relation ('a tiny lump on the gland above the kidney'):
        that structure's own lesion, when no structure is named but landmarks and no lesion is named."""
        if not lesion_hits or any(e.kind == "spread" for e in evidence):
            return []
        named = [m for m in active if m.kind in (NAME, CLUE) and m not in landmarks
                 and m.phrase not in self.kb.generic_names]  # 'the gland' names none
        if named:
            return []
        placed: dict[str, float] = {}
        for item in evidence:
            lesion = self.kb.lesion_of(item.entry) if item.kind == "relation" else None
            if lesion is not None and lesion.organ:
                placed[lesion.name] = max(placed.get(lesion.name, 0.0), item.weight)
        start, word = lesion_hits[0]
        asked = " ".join(parsed.raw[start:start + len(phrase_key(word))])  # as the question wrote it
        return [Evidence(name, strength, "lesion", self.kb.get(self.kb.get(name).organ).display, asked)
                for name, strength in sorted(placed.items())]

    def _generic_lesion(self, parsed: Parsed, evidence: list[Evidence], active: list[Match], landmarks: set[Match],
                        lesion_hits: list[tuple[int, str]], scan: Optional[ScanContext]) -> list[Evidence]:
        """A lump or mass with no organ that has a lesion of its own: the generic lesion, or the lesion
        a scan of one region makes likely (a head scan: a brain tumour)."""
        if not lesion_hits or any(e.kind in ("lesion", "spread") for e in evidence):
            return []
        if any(self.kb.get(m.entry).kind == "lesion" for m in active if m.kind in (NAME, CLUE)):
            return []
        organ_named = any(m.kind == NAME and m not in landmarks for m in active)  # 'the cord' names one too
        weight = 0.3 if organ_named else 1.0  # an organ without lesions of its own stays first
        start, word = lesion_hits[0]
        asked = " ".join(parsed.raw[start:start + len(phrase_key(word))])  # as the question wrote it
        # no organ named, but a clue points to one organ that has lesions ('cirrhosis ... a tumour')
        pointed = {lesion.name: m for m in active if m.kind in (CLUE, WEAK)
                   for lesion in [self.kb.lesion_of(m.entry)] if lesion is not None and lesion.organ}
        strong = {name for name, m in pointed.items() if m.kind == CLUE}
        if not organ_named and (len(strong) == 1 or not strong and len(pointed) == 1):
            (lesion, clue), = ((k, v) for k, v in pointed.items() if k in strong or not strong)
            weight = 0.9 if clue.kind == CLUE else 0.75  # 'a smoker ... a shadow': a weaker pointer
            return [Evidence(lesion, weight, "lesion", self.kb.get(clue.entry).display, asked)]
        # 'anything suspicious in the bones': a kind of tissue with a lesion of its own says whose lesion it is
        kinds = tuple(kind for _, _, kind in self.lexicon.type_words(parsed, active))
        tissue = self.kb.lesion_of_type(kinds) if kinds and not organ_named else None
        if tissue is not None:
            return [Evidence(tissue.name, weight, "lesion", " ".join(sorted(set(kinds))), asked)]
        likely = self.regions.lesion_for(scan)
        if likely and scan is not None and not organ_named and likely in self.kb:
            return [Evidence(likely, weight, "scan_lesion", asked, scan.describe())]
        said = self.regions.said(parsed.stems)  # 'a growth inside his head': the question names the region
        likely = self.regions.lesion_for(ScanContext(regions=said)) if said and not organ_named else ""
        if likely:
            where = " and ".join(sorted(said))
            return [Evidence(likely, weight, "scan_lesion", asked, f"the question is about the {where}")]
        return [Evidence(GENERIC_LESION, weight, "lesion", "", asked)] if GENERIC_LESION in self.kb else []

    def _context(self, evidence: list[Evidence]) -> list[Evidence]:
        """A part and the whole it belongs to both in the question ('the atlas vertebra', 'kyphosis of
        the upper back'): the whole supports the part, the more specific answer. So does a whole named
        with a part placed by a relation ('the rib just below the collarbone': the first rib)."""
        named = {e.entry: e.phrase for e in sorted(evidence, key=lambda e: e.weight)
                 if e.kind in (NAME, CLUE)}
        placed = {e.entry: e.phrase for e in evidence if e.kind == "relation" and e.entry not in named}
        extra = []
        for name in {**named, **placed}:
            whole = next((a for a in self.kb.ancestors(name)[1:] if a in named), None)
            if whole is not None and named[whole] != named.get(name, placed.get(name)):
                extra.append(Evidence(name, CONTEXT_WEIGHT, "context", named[whole]))
        return extra

    def _lesion_for(self, match: Match, hits: list[tuple[int, str]], side: str) -> str:
        names = self._sided(self.kb.get(match.entry), side)
        near = sorted(hits, key=lambda hit: abs(hit[0] - match.start))
        # a word only one kind of lesion is called ('cyst', 'fluid-looking') says which, before a general
        # one nearer the organ does ('a fluid-looking blob on the kidney': the cyst)
        for _, word in near:
            lesion = self.kb.lesion_of(names[0], word)
            if lesion is not None and word in lesion.lesion_words:
                return self._sided(lesion, side)[0]
        for _, word in near:
            lesion = self.kb.lesion_of(names[0], word) or self.kb.lesion_of(names[0])
            if lesion is not None:
                return self._sided(lesion, side)[0]
        return ""

    def _blocked(self, excluded: list[str]) -> set[str]:
        if not excluded:
            return set()
        blocked = set(excluded)
        for entry in self.kb.entries:
            if any(a in blocked for a in self.kb.ancestors(entry.name)):
                blocked.add(entry.name)
        return blocked

    # -- scoring ----------------------------------------------------------------------------
    def _semantic(self, reading: Reading) -> tuple[dict[str, float], float, Any]:
        """(similarity per target, to the out-of-scope examples, the readings (`reading.Vectors`))."""
        if self.encoder is None or self.index is None:
            return {}, -1.0, None
        return read(self.index, self.encoder, reading)

    def resolve(self, question: str, scan: Optional[ScanContext] = None) -> Resolution:
        """Rank targets for ``question``; with ``scan`` (the image in view), targets that cannot be in it
        rank lower and the rationale says so. ``scan=None`` ranks without the image. Equal scores
        are ordered by name (`resolution.ranked`), unless the learned re-ranker (`rerank`) moves one
        hypothesis up, which its rationale then says."""
        found = self._ranking(question, scan)
        if isinstance(found, Resolution):
            return found
        order = ranked(found.scores)  # equal scores by name: the stated tie rule (`resolution.ranked`)
        top = max(found.scores.values())
        order = [(name, score) for name, score in order if score >= self.options.keep_ratio * top]
        moved = ""
        if self.reranker is not None:
            moved = self.reranker.first(self._candidates(found, order[: self.reranker.depth]))
            if moved:
                order = [item for item in order if item[0] == moved] + [item for item in order if item[0] != moved]
        hypotheses = tuple(
            Hypothesis(name, self.kb.get(name).code, reported_score(score),
                       rationale(self.kb.get(name), found.by_entry.get(name, []), found.semantic.get(name),
                                 tuple(found.notes.get(name, ())) + ((RERANKED,) if name == moved else ())))
            for name, score in order[: self.options.max_targets])
        backend = "lexical+encoder" if self.encoder is not None else "lexical"
        answer = compose_answer(self.kb, hypotheses, found.excluded, found.corrected)
        return Resolution(question, hypotheses, False, answer, tuple(found.excluded), backend,
                          tuple(h.name for h in hypotheses if h.name in found.said))

    def candidates(self, question: str, scan: Optional[ScanContext] = None, depth: int = 8) -> Optional[Candidates]:
        """The resolver's best ``depth`` hypotheses for ``question`` with what the re-ranker reads of them (None
        when the resolver abstains); for training and checking the re-ranker (`rerank`)."""
        found = self._ranking(question, scan)
        if isinstance(found, Resolution):
            return None
        order = ranked(found.scores)
        top = max(found.scores.values())
        return self._candidates(found, [item for item in order if item[1] >= self.options.keep_ratio * top][:depth])

    def _candidates(self, found: "_Ranking", order: list[tuple[str, float]]) -> Candidates:
        meanings: list[dict[str, float]] = [{} for _ in order]
        if found.vectors is not None and self.index is not None:
            if self._views is None:
                self._views = ViewIndex(self.index)
            meanings = self._views.meanings([name for name, _ in order], found.vectors)
        items = tuple(
            Candidate(name, score, found.lexical.get(name, 0.0), tuple(found.by_entry.get(name, ())),
                      found.semantic.get(name), tuple(found.notes.get(name, ())),
                      bool(found.asked & self._kinds(name)), self.kb.get(name).kind == "lesion",
                      bool(self.kb.get(name).members), tuple(self.kb.ancestors(name)), meaning,
                      self.kb.get(name).organ, frozenset(target for _, target in self.kb.get(name).relations),
                      bool(found.asked & set(self.kb.get(name).types)))
            for (name, score), meaning in zip(order, meanings))
        return Candidates(items, found.reject, frozenset(found.asked), found.long, found.named, frozenset(found.said),
                          found.lump, found.words)

    def _ranking(self, question: str, scan: Optional[ScanContext]) -> "_Ranking | Resolution":
        """Every target's score and what it rests on, or the abstention."""
        text = one_said_out(question)  # 'which rib is the top one': the top rib
        parsed = parse(text, self.speller)
        if not any(t.isalnum() for t in parsed.raw):
            return self._abstain(question, "The question is empty, so there is nothing to look for.")
        plain = expand(text)  # shorthand and calques written out, for the encoder
        long = is_long(plain, self.options.clauses)
        # 'is a fatty liver reversible if I change my diet?': an organ named, but no place asked for
        request = "" if long else other_request(parsed)
        if request:
            return self._abstain(question, declined(request))
        evidence, excluded, asked, masks, spoken = self._evidence(parsed, scan, long)
        # a typo read as a word of a phrase that matched ('prostata'): the encoder reads it that way too
        matched = {word for item in evidence if item.kind in (NAME, CLUE, WEAK) for word in item.phrase.split()}
        plain = with_corrections(plain, [(word, fixed) for word, fixed in parsed.corrected if fixed in matched])
        plain = said_out(plain, spoken)  # 'the vertebra just above L1': the encoder cannot count
        # 'a sprained ankle': a part no target covers, and nothing named, clued or placed
        relations = {start for start, _, _ in self.lexicon.relations(parsed)}
        part = None if long else named_part(parsed, relations, self.lexicon.type_words(parsed, []), self._lies_in)
        # ... nor a lump said to be nowhere else ('a lump on my knee': the generic lesion's evidence has no place)
        if part and not any(item.kind in STRONG and item.phrase and not part.holds(item.phrase) for item in evidence):
            return self._abstain(question, uncovered(part.word), excluded)
        by_entry: dict[str, list[Evidence]] = {}
        for item in evidence:
            by_entry.setdefault(item.entry, []).append(item)
        lexical = {name: 1.0 - float(np.prod([1.0 - 0.85 * min(e.weight, 1.1) / 1.1 for e in items]))
                   for name, items in by_entry.items()}
        semantic, reject, vectors = self._semantic(
            Reading(plain, long, masked(parsed, masks) if masks and not long else "", self.options.masked_share))
        blocked = self._blocked(excluded)
        named = any(item.kind in ("name", "relation", "lesion", "spread", "scan_lesion", LANDMARK) for item in evidence)
        if named and not long and self._asks_something_else(parsed, semantic, reject):
            return self._abstain(question, "", excluded)
        # in a long story a weak clue ('back pain', 'fell') is one detail among many: it does not hold back
        # what the whole story means
        loose = (LANDMARK, WEAK) if long else (LANDMARK,)
        anchored = {item.entry for item in evidence if item.kind not in loose}
        if not evidence and self.speller.known_fraction(parsed.raw, parsed.stems) < self.options.min_known_words:
            semantic = {}  # mostly not words: meaning alone is noise here
        sides = parsed.sides()
        side = next(iter(sides)) if len(sides) == 1 else ""
        if side:
            semantic = lend_to_side(self.kb, semantic, side)
        elif not sides:
            semantic = hold_to_pair(self.kb, semantic)
        # 'a mass in the belly': a lump in a region the question names
        lump = (any(item.kind in ("lesion", "scan_lesion") for item in evidence)
                and bool(self.regions.said(parsed.stems)))
        scores = self._combine(lexical, semantic, reject, named, blocked, anchored, lump)
        if side:
            scores = self._to_side(scores, side, set(lexical), blocked)
        if not scores:
            return self._abstain(question, "", excluded)
        notes: dict[str, list[str]] = {}
        if side:
            said = {item.entry for item in evidence if item.kind == NAME}
            scores = off_side(scores, side, said, self.options.off_side, notes)
        scores = self._prefer_kind(scores, asked, notes)
        scores = self._in_scan(scores, scan, notes)
        if (scan is None or not scan.regions) and not long:
            # 'the vein in the pelvis': the question places its target, as a scan of that region would (a
            # long story names places for other things: 'swollen glands in his neck ... the organ there')
            placed = self.regions.placed(parsed.stems)
            scores = self._in_scan(scores, ScanContext(regions=placed) if placed else None, notes,
                                   self.options.placed_region)
        said = {item.entry for item in evidence if item.kind in (NAME, "lesion", "spread")}  # named, not inferred
        return _Ranking(scores, by_entry, lexical, semantic, reject, notes, excluded, tuple(parsed.corrected), said,
                        asked, long, named, bool(self.lexicon.lesion_words(parsed, [])), vectors, len(parsed.raw))

    def _combine(self, lexical: dict[str, float], semantic: dict[str, float], reject: float, named: bool,
                 blocked: set[str], anchored: set[str], lump: bool = False) -> dict[str, float]:
        """``anchored``: the targets with evidence other than being a landmark; meaning-only candidates
        are discounted against those only. ``lump``: the words ask about a lesion ('a mass in the belly'),
        so a structure found by meaning alone does not lead past it."""
        opts = self.options
        if not semantic:
            return {k: v for k, v in lexical.items() if k not in blocked}
        best_sem = max((v for k, v in semantic.items() if k not in blocked), default=0.0)
        best_lex_sem = max((semantic.get(k, 0.0) for k in lexical if k not in blocked), default=0.0)
        # closer to the things medsee does not answer than to any target; a clue word ('sbo') with
        # little meaning for the encoder is only overruled by a clearly out-of-scope question
        if (not named and reject > max(best_sem, best_lex_sem) - opts.reject_margin
                and (not lexical or reject >= opts.reject_floor)):
            return {}
        if not lexical and best_sem < opts.abstain_below:
            return {}
        lexical_top = max((k for k in lexical if k not in blocked and k in anchored), key=lambda k: lexical[k],
                          default="")
        # a part of that target the words also point to ('the lobe between ... on the right lung') counts as
        # named too: a sibling found by meaning alone must lead it as well
        parts = [k for k in lexical if k in anchored and k not in blocked and lexical_top in self.kb.ancestors(k)[1:]]
        top_sem = max([semantic.get(lexical_top, 0.0)] + [semantic.get(k, 0.0) for k in parts])
        scores = {}
        for name, sim in semantic.items():
            if name in blocked:
                continue
            meaning = 0.0
            if sim >= opts.abstain_below * 0.9:
                # far closer in meaning than what the words named ('heart sac full of fluid' names the
                # heart, means the effusion): the named organ is only the place, so no discount
                leads = (sim >= opts.semantic_lead_min and sim - top_sem >= opts.semantic_lead
                         and not (lump and self.kb.get(name).kind != "lesion"))
                factor = 1.0 if not lexical_top or leads else opts.semantic_discount
                meaning = opts.semantic_only_scale * sim * factor
            if name in lexical:
                # a phrase found for a target never leaves it below what its meaning alone would score
                # (a landmark's does not count: it names where to look from)
                both = (1 - opts.semantic_weight) * lexical[name] + opts.semantic_weight * max(sim, 0.0)
                scores[name] = max(both, meaning) if name in anchored else both
            elif meaning:
                scores[name] = meaning
        return scores

    def _prefer_kind(self, scores: dict[str, float], asked: set[str], notes: dict[str, list[str]]) -> dict[str, float]:
        """'which bone ...', 'the vessel that ...': targets of another kind rank lower."""
        if not asked:
            return scores
        kinds = " or ".join(sorted(asked))
        moved = {}
        for name, score in scores.items():
            if asked & self._kinds(name):
                moved[name] = score
                notes.setdefault(name, []).append(f"the question asks for a {kinds}")
            else:
                moved[name] = score * self.options.type_mismatch
        return moved

    def _in_scan(self, scores: dict[str, float], scan: Optional[ScanContext],
                 notes: dict[str, list[str]], factor: float = 0.0) -> dict[str, float]:
        """Targets that cannot be in the scan in view rank lower ('this CT covers the abdomen, so ...');
        with ``factor``, the regions are the ones the question places its target in."""
        if scan is None or not scan.regions:
            return scores
        moved = {}
        where = scan.describe() if not factor else "the question places it in the " + " and ".join(sorted(scan.regions))
        for name, score in scores.items():
            if self.regions.outside(name, scan):
                moved[name] = score * (factor or self.options.out_of_scan)
                notes.setdefault(name, []).append(
                    f"{where}, so the {self.kb.get(name).display} is unlikely to be {'there' if factor else 'in it'}")
            else:
                moved[name] = score
        return moved

    def _to_side(self, scores: dict[str, float], side: str, lexical: set[str], blocked: set[str]) -> dict[str, float]:
        """One side stated ('his left leg'): meaning-only candidates move to that side's member."""
        moved: dict[str, float] = {}
        for name, score in scores.items():
            target = name if name in lexical else self._sided(self.kb.get(name), side)[0]
            if target not in blocked:
                moved[target] = max(moved.get(target, 0.0), score)
        return moved

    def _asks_something_else(self, parsed: Parsed, semantic: dict[str, float], reject: float) -> bool:
        """A structure is named, but the question asks something medsee does not answer ('what should I
        eat to look after my kidneys?', 'do I need to fast before my gallbladder scan?'): the whole reads
        at least as close to an out-of-scope example as to any target, and with every structure, kind and
        lesion word said as 'something' it reads clearly closer (`request_masked_margin`)."""
        opts = self.options
        if (self.encoder is None or self.index is None or not semantic or reject < opts.request_floor
                or reject < max(semantic.values())):
            return False
        found = self.lexicon.find(parsed)
        spans = sorted({(m.start, m.end) for m in found}
                       | {(s, e) for s, e, _ in self.lexicon.type_words(parsed, found)}
                       | {(at, at + 1) for at, _ in self.lexicon.lesion_words(parsed, found)})
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        scores, masked_reject = self.index.scores(self.encoder.encode([masked(parsed, merged)])[0])
        return masked_reject >= max(scores.values(), default=0.0) + opts.request_masked_margin

    def _abstain(self, question: str, reason: str, excluded: Sequence[str] = ()) -> Resolution:
        from medsee_cli.reasoning.answer import abstention

        backend = "lexical+encoder" if self.encoder is not None else "lexical"
        return Resolution(question, (), True, reason or abstention(), tuple(excluded), backend)
