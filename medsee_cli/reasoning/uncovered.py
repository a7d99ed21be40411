"""Body parts medsee has no target for ('a sprained ankle', 'is my knee cartilage torn'): the
question is about the body, but not about anything medsee can look for, so it abstains and says why.

The words are data (``data/out_of_scope.yaml``'s ``uncovered_parts`` and ``uncovered_idioms``). A part
after a relation phrase or a kind word ('the bone above the knee', 'the organ lying on the diaphragm') is
a landmark: it says where to look, not what to look for, and does not count; nor does a part inside an
idiom ('keep an eye on'). A kind word followed by 'of' or 'in' and the part names the part's own bones,
muscles or vessels ('the bones of the forearm', 'the small bones in my wrist'): the part is what is asked,
unless a target of that kind is said to lie there (its names, clues or everyday views hold the part's words:
'the glands in the armpit' are lymph nodes; `kind_vocabulary`). Long stories name many parts in passing and are
not read this way (the resolver's call). Words of the part that name a target's phrase on their own ('gland' in
'salivary gland', 'cord' in 'vocal cords') are part of the part (`Part.holds`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional

from medsee_cli.reasoning import data
from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.semantic import index_texts
from medsee_cli.reasoning.text import DETERMINERS, Parsed, occurrences, phrase_key, stem, tokens

RESOURCE = "out_of_scope.yaml"
OWNING = frozenset({"of", "in", "inside", "within"})  # 'the bones of the forearm', 'the small bones in my wrist'


@dataclass(frozen=True)
class Part:
    """A part without a target, as the data file writes it, and its phrase key."""

    word: str
    key: tuple[str, ...]

    def holds(self, phrase: str) -> bool:
        """Whether a knowledge-base phrase found in the question is only words of this part ('gland')."""
        key = phrase_key(phrase)
        return bool(key) and set(key) <= set(self.key)


@functools.lru_cache(maxsize=1)
def _data() -> tuple[dict[tuple[str, ...], str], tuple[tuple[str, ...], ...]]:
    """(phrase key -> the part as written in the data file, phrase keys of idioms that hold a part)."""
    raw = data.read(RESOURCE)
    parts = [str(word) for region in (raw.get("uncovered_parts") or {}).values() for word in region]
    return ({phrase_key(word): word for word in parts},
            tuple(phrase_key(str(idiom)) for idiom in raw.get("uncovered_idioms") or ()))


def uncovered_parts() -> dict[tuple[str, ...], str]:
    return _data()[0]


def part_words() -> frozenset[str]:
    """Every word of the parts, for the speller: a part is read as written, not as the nearest target's word
    ('scaphoid' is no typo of 'scapula')."""
    return frozenset(word for part in _data()[0].values() for word in tokens(part))


def kind_vocabulary(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """Kind (bone, gland ...) -> the stems of every text the targets of that kind are known by (names, clues,
    description and everyday views: `semantic.index_texts`)."""
    words: dict[str, set[str]] = {}
    for item in index_texts(kb):
        if item.owner in kb:
            stems = {stem(word) for word in tokens(item.text)}
            for kind in kb.get(item.owner).types:
                words.setdefault(kind, set()).update(stems)
    return {kind: frozenset(found) for kind, found in words.items()}


def _owned(parsed: Parsed, kinds: list[tuple[int, int, str]]) -> dict[int, tuple[set[int], str]]:
    """Where a part would start right after a kind word and 'of'/'in' ('the bones of the forearm', 'the small bones
    inside my wrist') -> (where that kind word and that 'in' start, the kind): the kind word may name what is in
    the part."""
    owned = {}
    for start, end, kind in kinds:
        if end < len(parsed.raw) and parsed.raw[end] in OWNING:
            after = end + 1 + (end + 1 < len(parsed.raw) and parsed.raw[end + 1] in DETERMINERS)
            owned[after] = ({start, end}, kind)
    return owned


def named_part(parsed: Parsed, relation_starts: set[int], kinds: Sequence[tuple[int, int, str]] = (),
               lies_in: Callable[[str, tuple[str, ...]], bool] = lambda kind, key: True) -> Optional[Part]:
    """The first part without a target that the question asks about (None when none): not negated, not in an
    idiom ('keeping an eye on it'), and with no relation phrase or kind word before it in its clause ('the
    bone between the shoulder and the elbow', 'the organ lying on the diaphragm'), unless the kind word owns it
    ('the bones of the forearm': `_owned`) and no target of its kind lies in it (``lies_in(kind, part's key)``);
    ``relation_starts``: where each relation phrase starts; ``kinds``: (start, end, kind) of each kind word."""
    owned = _owned(parsed, list(kinds))
    parts, idioms = _data()
    in_idiom = {i for start, end, _ in occurrences(parsed.stems, dict.fromkeys(idioms, "")) for i in range(start, end)}
    for key, word in sorted(parts.items(), key=lambda item: -len(item[0])):  # 'vocal cord' before 'cord'
        n = len(key)
        for start in range(len(parsed.stems) - n + 1):
            if parsed.stems[start:start + n] != key or parsed.negated[start] or start in in_idiom:
                continue
            clause_start, _ = parsed.clause_of(start)
            owner, kind = owned.get(start, (set(), ""))
            if kind and lies_in(kind, key):
                owner = set()  # 'the glands in the armpit': lymph nodes lie there
            context = (relation_starts | {at for at, _, _ in kinds}) - owner
            if not any(clause_start <= at < start for at in context):
                return Part(word, key)
    return None
