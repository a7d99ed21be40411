"""Clinician shorthand written out in plain words ('R renal colic, ?calculus' -> 'right renal colic ...').

The table is data (``data/shorthand.yaml``): single words and symbols with what they stand for. It
is applied to the text of questions and of knowledge-base phrases alike (`text.tokens`), and to the
question the sentence encoder reads, so both the phrase matcher and the encoder see plain words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

SHORTHAND_RESOURCE = "shorthand.yaml"
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Shorthand:
    """What one shorthand word means, and the next words that keep it as written."""

    means: str
    unless_next: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=1)
def table() -> tuple[dict[str, Shorthand], dict[str, str]]:
    """(word -> Shorthand, symbol -> words), from the packaged data file."""
    text = resources.files("medsee_cli.reasoning").joinpath("data").joinpath(SHORTHAND_RESOURCE).read_text("utf-8")
    raw = yaml.safe_load(text)
    words = {str(word).lower(): Shorthand(str(spec["means"]), frozenset(str(w) for w in spec.get("unless_next") or ()))
             for word, spec in (raw.get("words") or {}).items()}
    symbols = {str(symbol): str(means) for symbol, means in (raw.get("symbols") or {}).items()}
    return words, symbols


def expand(text: str) -> str:
    """``text`` with each shorthand word (a whole word, any case) and symbol written out; the rest as is."""
    words, symbols = table()
    for symbol, means in symbols.items():
        text = text.replace(symbol, f" {means} ")
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
