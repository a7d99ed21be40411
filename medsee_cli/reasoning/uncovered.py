"""Body parts medsee has no target for ('a sprained ankle', 'is my knee cartilage torn'): the
question is about the body, but not about anything medsee can look for, so it abstains and says why.

The words are data (``data/out_of_scope.yaml``'s ``uncovered_parts`` and ``uncovered_idioms``). A part
after a relation phrase or a kind word ('the bone above the knee', 'the organ lying on the diaphragm') is
a landmark: it says where to look, not what to look for, and does not count; nor does a part inside an
idiom ('keep an eye on'). Long stories name many parts in passing and are not read this way (the resolver's
call). Words of the part that name a target's phrase on their own ('gland' in 'salivary gland', 'cord' in
'vocal cords') are part of the part (`Part.holds`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

from medsee_cli.reasoning import data
from medsee_cli.reasoning.text import Parsed, occurrences, phrase_key

RESOURCE = "out_of_scope.yaml"


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


def named_part(parsed: Parsed, context_starts: set[int]) -> Optional[Part]:
    """The first part without a target that the question asks about (None when none): not negated, not in an
    idiom ('keeping an eye on it'), and with no relation phrase or kind word before it in its clause ('the
    bone between the shoulder and the elbow', 'the organ lying on the diaphragm'); ``context_starts``: where
    each relation phrase and kind word in the question starts."""
    parts, idioms = _data()
    in_idiom = {i for start, end, _ in occurrences(parsed.stems, dict.fromkeys(idioms, "")) for i in range(start, end)}
    for key, word in sorted(parts.items(), key=lambda item: -len(item[0])):  # 'vocal cord' before 'cord'
        n = len(key)
        for start in range(len(parsed.stems) - n + 1):
            if parsed.stems[start:start + n] != key or parsed.negated[start] or start in in_idiom:
                continue
            clause_start, _ = parsed.clause_of(start)
            if not any(clause_start <= at < start for at in context_starts):
                return Part(word, key)
    return None
