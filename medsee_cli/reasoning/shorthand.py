"""Clinician shorthand and word-for-word translations written out in plain words ('R renal colic, ?calculus'
-> 'right renal colic ...', 'the blind gut' -> 'the appendix').

The tables are data: ``data/shorthand.yaml`` (single words and symbols with what they stand for) and
``data/calques.yaml`` (phrases people who think in another language use for a body part: 'twelve-finger
gut', 'shield gland'). They are applied to the text of questions and of knowledge-base phrases alike
(`text.tokens`), and to the question the sentence encoder reads, so both the phrase matcher and the encoder
see plain words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from medsee_cli.reasoning import data

SHORTHAND_RESOURCE = "shorthand.yaml"
CALQUES_RESOURCE = "calques.yaml"
_WORD = re.compile(r"[A-Za-z0-9]+")
_JOIN = re.compile(r"[\s-]+")  # a space or hyphen inside a calque: a space, a hyphen or nothing in the text


@dataclass(frozen=True)
class Shorthand:
    """What one shorthand word means, and the next words that keep it as written."""

    means: str
    unless_next: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=1)
def table() -> tuple[dict[str, Shorthand], dict[str, str]]:
    """(word -> Shorthand, symbol -> words), from the packaged data file."""
    raw = data.read(SHORTHAND_RESOURCE)
    words = {str(word).lower(): Shorthand(str(spec["means"]), frozenset(str(w) for w in spec.get("unless_next") or ()))
             for word, spec in (raw.get("words") or {}).items()}
    symbols = {str(symbol): str(means) for symbol, means in (raw.get("symbols") or {}).items()}
    return words, symbols


@functools.lru_cache(maxsize=1)
def calques() -> dict[str, str]:
    """Calque (lower case, single spaces) -> the English it stands for, from both groups of the data file."""
    raw = data.read(CALQUES_RESOURCE)
    return {" ".join(_JOIN.split(str(calque).lower())): str(means)
            for group in ("means", "plain") for means, found in (raw.get(group) or {}).items() for calque in found}


@functools.lru_cache(maxsize=1)
def _calque_pattern() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """A quick pattern for the first words of the calques (most texts have none), one pattern for every calque,
    longest first, and the English keyed by a calque without its separators."""
    known = calques()
    ordered = sorted(known, key=lambda calque: (-len(calque), calque))
    pattern = "|".join(r"[\s-]*".join(re.escape(word) for word in calque.split()) for calque in ordered)
    firsts = "|".join(sorted({re.escape(calque.split()[0]) for calque in known}))
    return (re.compile(rf"\b(?:{firsts})", re.IGNORECASE), re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE),
            {calque.replace(" ", ""): means for calque, means in known.items()})


def _translated(text: str) -> str:
    first, pattern, means = _calque_pattern()
    if first.search(text) is None:
        return text
    return pattern.sub(lambda found: means[_JOIN.sub("", found.group().lower())], text)


def expand(text: str) -> str:
    """``text`` with each shorthand word (a whole word, any case), symbol and calque written out; the rest as
    is."""
    words, symbols = table()
    lowered = text.lower()
    for symbol, means in symbols.items():
        if symbol in lowered:
            text = re.sub(re.escape(symbol), f" {means} ", text, flags=re.IGNORECASE)
    text = _translated(text)
    found = list(_WORD.finditer(text))
    if not any(m.group().lower() in words for m in found):
        return text
    parts, at = [], 0
    for i, match in enumerate(found):
        entry = words.get(match.group().lower())
        if entry is None:
            continue
        following = found[i + 1].group().lower() if i + 1 < len(found) else ""
        if following.isdigit() or following in entry.unless_next:
            continue
        parts += [text[at:match.start()], entry.means]
        at = match.end()
    return "".join(parts + [text[at:]])
