"""What a short question asks for: a place, an outline or whether something is there (medsee answers), or
advice, a time, the outlook, a treatment or an explanation (it does not, whatever organ the question names).

The words are data (``data/out_of_scope.yaml``'s ``other_requests`` and ``looking_words``), matched on stemmed
words (`text.phrase_key`). A question that asks to be shown something as well ('where is the tumour they want
to treat?') is answered; a looking word inside a request phrase ('which painkiller ...') does not count. Long
stories tell their history with these words ('she was treated with surgery'): the resolver does not read them
this way.
"""

from __future__ import annotations

import functools

from medsee_cli.reasoning import data
from medsee_cli.reasoning.text import Parsed, occurrences, phrase_key

RESOURCE = "out_of_scope.yaml"


Phrases = dict[tuple[str, ...], str]


@functools.lru_cache(maxsize=1)
def _data() -> tuple[Phrases, Phrases]:
    """(request phrases, looking words): phrase key -> what the request is about ('' for looking words)."""
    raw = data.read(RESOURCE)
    requests = {phrase_key(str(word)): str(kind["about"]) for kind in raw["other_requests"] for word in kind["words"]}
    return requests, {phrase_key(str(word)): "" for word in raw["looking_words"]}


def other_request(parsed: Parsed) -> str:
    """What the question asks about when it asks for something medsee does not answer ('the outlook or the
    chances of getting better'), or '' when it asks for nothing of the kind or also asks to be shown something."""
    requests, looking = _data()
    found = [hit for hit in occurrences(parsed.stems, requests) if not parsed.negated[hit[0]]]
    if not found:
        return ""
    inside = {i for start, end, _ in found for i in range(start, end)}
    if any(not inside & set(range(start, end)) for start, end, _ in occurrences(parsed.stems, looking)):
        return ""
    return max(found, key=lambda hit: (hit[1] - hit[0], -hit[0]))[2]  # the longest phrase says it best
