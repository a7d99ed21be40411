"""Question text handling: normalising, stemming, typo tolerance, negation scope and sides."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from medsee_cli.reasoning import data
from medsee_cli.reasoning.shorthand import expand

_APOSTROPHE = re.compile(r"[\u2019'`]")
_NON_WORD = re.compile(r"[^a-z0-9,;.?!:]+")
_SPLIT = re.compile(r"[a-z0-9]+|[,;.?!:]")
BOUNDARIES = frozenset({",", ";", ".", "?", "!", ":", "but", "however", "though", "although", "rather", "instead"})
NEGATION_CUES = frozenset({"not", "no", "isnt", "arent", "wasnt", "without", "except", "excluding", "besides", "nor"})
HEDGES = frozenset({"sure", "certain", "know", "clear", "idea", "only", "just", "too"})
SIDES = frozenset({"left", "right"})
NEGATION_REACH = 6
# a result that says 'nothing there' negates what its clause named before it ('her pregnancy test was negative')
RESULT_NEGATIONS = frozenset({"negative", "normal", "fine", "clear", "unremarkable", "okay", "ok", "alright"})
RESULT_VERBS = frozenset({"was", "were", "is", "are", "been", "back", "looked", "look", "looks", "seemed"})
# words that may stand between the verb and the result ('my womb is a normal shape', 'looked completely fine')
RESULT_FILLERS = frozenset({"a", "all", "completely", "totally", "perfectly", "entirely", "quite"})
# 'does it look okay?' asks whether it is normal: a question, not a result that says nothing is there (so does a
# clause that ends with a question mark)
QUESTION_AUXILIARIES = frozenset({"does", "do", "did", "will", "would", "could", "can"})


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped (can't -> cant), other symbols to spaces."""
    text = _APOSTROPHE.sub("", text.lower())
    return _NON_WORD.sub(" ", text).strip()


DETERMINERS = frozenset({"the", "a", "an", "his", "her", "my", "their", "your", "our"})


def _consonant(word: str, i: int) -> bool:
    if word[i] in "aeiou":
        return False
    return word[i] != "y" or i == 0 or not _consonant(word, i - 1)


def _measure(word: str) -> int:
    """Porter's m: how many vowel-then-consonant runs the word has."""
    pattern = "".join("c" if _consonant(word, i) else "v" for i in range(len(word)))
    return pattern.count("vc")


def _has_vowel(word: str) -> bool:
    return any(not _consonant(word, i) for i in range(len(word)))


def _ends_cvc(word: str) -> bool:
    return (len(word) >= 3 and _consonant(word, -3 % len(word)) and not _consonant(word, len(word) - 2)
            and _consonant(word, len(word) - 1) and word[-1] not in "wxy")


def _strip_verb_ending(word: str) -> str:
    """Porter's step 1b: peeing -> pee, burned -> burn, swelling -> swell, hopping -> hop."""
    if word.endswith("eed"):
        return word[:-1] if _measure(word[:-3]) > 0 else word
    for ending in ("ed", "ing"):
        base = word[: -len(ending)]
        if word.endswith(ending) and _has_vowel(base):
            if base.endswith(("at", "bl", "iz")):
                return base + "e"
            if len(base) >= 2 and base[-1] == base[-2] and _consonant(base, len(base) - 1) and base[-1] not in "lsz":
                return base[:-1]
            if _measure(base) == 1 and _ends_cvc(base):
                return base + "e"
            return base
    return word


def american_spelling(word: str) -> str:
    """British medical spellings folded to American ones: haemorrhage, oesophagus, diarrhoea,
    coeliac, foetal, tumour -> hemorrhage, esophagus, diarrhea, celiac, fetal, tumor."""
    if len(word) >= 6 and "ae" in word:
        word = word.replace("ae", "e")
    if word.startswith("oe"):
        word = word[1:]
    word = word.replace("oea", "ea").replace("coel", "cel").replace("foet", "fet")
    if len(word) >= 6 and word.endswith("our"):
        word = word[:-3] + "or"
    return word


def stem(token: str) -> str:
    """A light stem (plurals and -ed/-ing, after Porter's step 1), applied alike to questions and
    knowledge-base phrases, so 'she pees a lot and it burns' meets 'peeing a lot' and 'burning'.

    Determiners and possessives all become 'the', so 'pain under her ribs' matches 'pain under the ribs'.
    """
    if token in DETERMINERS:
        return "the"
    if not token.isalpha() or len(token) <= 3:
        return word_forms()[0].get(token, token)
    if token.endswith("sses"):
        token = token[:-2]
    elif token.endswith("ies"):
        token = token[:-3] + "y"
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    token = american_spelling(token)
    token = _strip_verb_ending(token) if len(token) > 4 else token
    return word_forms()[0].get(token, token)


def tokens(text: str) -> list[str]:
    """Word and punctuation tokens of normalised text, clinician shorthand written out (`shorthand.expand`)."""
    return _SPLIT.findall(normalise(expand(text)))


def with_corrections(text: str, corrected: Sequence[tuple[str, str]]) -> str:
    """``text`` with each misspelt word the speller read (`Parsed.corrected`) written as it was read, so the
    encoder sees 'prostate' where the question wrote 'prostata'."""
    for word, fixed in corrected:
        text = re.sub(rf"\b{re.escape(word)}\b", fixed, text, flags=re.IGNORECASE)
    return text


def phrase_key(text: str) -> tuple[str, ...]:
    """The lookup key of a knowledge-base phrase: stemmed words, punctuation dropped."""
    return tuple(stem(t) for t in tokens(text) if t not in BOUNDARIES or t in ("but",))


def holds(stems: tuple[str, ...], key: tuple[str, ...]) -> bool:
    """Whether the phrase ``key`` (a `phrase_key`) occurs in the stemmed words ``stems``."""
    return any(stems[i:i + len(key)] == key for i in range(len(stems) - len(key) + 1))


def occurrences(stems: tuple[str, ...], keys: Mapping[tuple[str, ...], str]) -> list[tuple[int, int, str]]:
    """(start, end, value) of every place a phrase key of ``keys`` occurs in ``stems``, sorted."""
    return sorted((start, start + len(key), value) for key, value in keys.items()
                  for start in range(len(stems) - len(key) + 1) if stems[start:start + len(key)] == key)


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Our list of everyday words plus the whole words of the encoder's word-piece vocabulary
    (when the packaged encoder is installed): what counts as a real word, not a typo or noise."""
    words = set(str(data.read("common_words.yaml")["words"]).split())
    from medsee_cli.reasoning.encoder import packaged_encoder_path

    folder = packaged_encoder_path()
    vocab = folder / "vocab.txt" if folder is not None else None
    if vocab is not None and vocab.is_file():
        words.update(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha())
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Real words the speller leaves alone ('book' is not a typo of 'boob')."""
    return frozenset(w for w in english_words() if len(w) >= 4)


@functools.lru_cache(maxsize=1)
def word_forms() -> tuple[dict[str, str], tuple[str, ...]]:
    """(stem -> canonical stem for words that mean the same, medical word beginnings)."""
    raw = data.read("word_forms.yaml")
    same = {str(other): str(canonical) for canonical, others in raw["same_as"].items() for other in others}
    return same, tuple(str(p) for p in raw.get("prefixes") or ())


KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_AT = {key: (row, col) for row, keys in enumerate(KEYBOARD_ROWS) for col, key in enumerate(keys)}


def keyboard_slip(word: str, candidate: str) -> bool:
    """Whether ``word`` is ``candidate`` with one letter swapped for a key next to it ('lumgs' for 'lungs')."""
    if len(word) != len(candidate):
        return False
    diffs = [(a, b) for a, b in zip(word, candidate) if a != b]
    if len(diffs) != 1 or not all(c in _KEY_AT for c in diffs[0]):
        return False
    (r1, c1), (r2, c2) = (_KEY_AT[c] for c in diffs[0])
    return abs(r1 - r2) <= 1 and abs(c1 + 0.5 * r1 - c2 - 0.5 * r2) <= 1  # rows are offset by half a key


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours counts once), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


_SOUNDS = (("ph", "f"), ("ck", "k"), ("ce", "se"), ("ci", "si"), ("cy", "sy"), ("c", "k"), ("q", "k"), ("z", "s"))


def sound_key(word: str) -> str:
    """A word's consonants as they sound, repeats merged: 'cyst' and 'sist' -> 'st', 'nodule' and 'noodle' -> 'ndl';
    a last '-er' sounds as '-a' ('aorter': 'aorta')."""
    word = word[:-2] + "a" if word.endswith("er") else word
    for letters, sound in _SOUNDS:
        word = word.replace(letters, sound)
    consonants = [c for c in word if c not in "aeiouyhw"]
    return "".join(c for i, c in enumerate(consonants) if i == 0 or c != consonants[i - 1])


BY_EAR_MIN_CHARS = 5  # a word read by its sound alone, with no phrase around it, is at least this long


def _first_sound(word: str) -> str:
    for letters, sound in _SOUNDS:
        word = word.replace(letters, sound)
    return word[:1]


def sounds_like(word: str, candidate: str) -> bool:
    """Whether ``word`` is a slip for ``candidate`` that keeps its sound ('sist' for 'cyst', 'noodle' for
    'nodule', as autocorrect and spelling by ear make them): the same consonant sounds, at most two edits."""
    return (len(word) >= 4 and len(candidate) >= 4 and word != candidate
            and sound_key(word) == sound_key(candidate) and edit_distance(word, candidate, 2) <= 2)


class Speller:
    """Maps a misspelt word to the closest knowledge-base word (conservatively); with ``pairs`` (the knowledge
    base's phrases of two words), also a word that sounds like the one such a phrase has next to its neighbour
    ('lung noodle': 'lung nodule'), even when it is a real word."""

    def __init__(self, vocabulary: set[str], pairs: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
                 known: frozenset[str] = frozenset()) -> None:
        self._vocab = vocabulary
        self._known = known  # words read as written but never offered as a correction ('scaphoid', not 'scapula')
        self._by_sound: dict[str, list[str]] = {}
        for word in sorted(vocabulary):
            if len(word) >= 4 and word.isalpha():
                self._by_sound.setdefault(sound_key(word), []).append(word)
        self._after: dict[str, list[str]] = {}
        self._before: dict[str, list[str]] = {}
        for first, second in sorted(pairs):
            self._after.setdefault(first, []).append(second)
            self._before.setdefault(second, []).append(first)
        self._by_first: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) >= 4 and word.isalpha():
                self._by_first.setdefault(word[0], []).append(word)
        self._cache: dict[str, str] = {}

    def correct(self, word: str) -> str:
        if word in self._vocab or word in self._known or len(word) < 4 or not word.isalpha() or word in common_words():
            return word
        if word.endswith("s") and (word[:-1] in common_words() or word.endswith("es") and word[:-2] in common_words()):
            return word  # a real word's plural or verb form ('blames', 'bloods') is no typo
        if word in self._cache:
            return self._cache[word]
        limit = 1 if len(word) < 8 else 2
        best, best_key = word, (limit + 1, 0, False, "")
        for candidate in self._by_first.get(word[0], ()):
            if len(candidate) < 5 and limit == 1 and len(word) < 5 and candidate[:2] != word[:2]:
                continue
            distance = edit_distance(word, candidate, limit)
            # nearest first; then the longer word, a slip to a neighbouring key, and the alphabet, so that
            # a tie never depends on the order of a set ('lumgs': 'lungs', not 'lumps')
            key = (distance, -len(candidate), not keyboard_slip(word, candidate), candidate)
            if key < best_key:
                best, best_key = candidate, key
        result = best if best_key[0] <= limit else self._by_ear(word)
        self._cache[word] = result
        return result

    def _by_ear(self, word: str) -> str:
        """The nearest knowledge-base word that sounds like ``word`` and begins with its sound ('aorter': 'aorta'),
        or ``word``; short words ('wees', 'mums') are left alone: too many words sound like them."""
        key = sound_key(word)
        if len(word) < BY_EAR_MIN_CHARS or len(key) < 2:
            return word
        heard = [c for c in self._by_sound.get(key, ())
                 if sounds_like(word, c) and _first_sound(c) == _first_sound(word)]
        return min(heard, key=lambda c: (edit_distance(word, c, 2), -len(c), c), default=word)


    def in_context(self, raw: list[str], words: list[str]) -> list[str]:
        """``words`` (``raw`` read one by one, `correct`) with each word written as no knowledge-base word,
        next to one that is, read as the word that sounds like it in a two-word phrase with that neighbour
        ('lung noodle' -> 'lung nodule', 'kidny sist' -> 'kidney cyst', before 'sist' is read as 'sits')."""
        out = list(words)
        for i, word in enumerate(raw):
            if word in self._vocab or word in self._known or not word.isalpha():
                continue
            before = self._after.get(out[i - 1], []) if i > 0 else []
            after = self._before.get(words[i + 1], []) if i + 1 < len(words) else []
            out[i] = next((c for c in before + after if sounds_like(word, c)), out[i])
        return out

    def known_fraction(self, words: tuple[str, ...], stems: tuple[str, ...]) -> float:
        """How many of the words are real words or knowledge-base words (keyboard mash scores low)."""
        pairs = [(w, s) for w, s in zip(words, stems) if w.isalpha()]
        if not pairs:
            return 1.0
        english = english_words()
        return sum(1 for w, s in pairs if w in english or w in self._vocab or s in self._vocab or w in self._known
                   ) / len(pairs)

    def split(self, word: str) -> tuple[str, ...]:
        """Two known words run together ('shoulderblade') come apart; anything else stays whole."""
        if word in self._vocab or word in self._known or len(word) < 8 or not word.isalpha() or word in common_words():
            return (word,)
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            if head in self._vocab and tail in self._vocab:
                return head, tail
        return (word,)


@dataclass(frozen=True)
class Parsed:
    """A question as stemmed tokens with the facts the resolver needs about each position."""

    raw: tuple[str, ...]
    stems: tuple[str, ...]
    negated: tuple[bool, ...]
    corrected: tuple[tuple[str, str], ...]

    def clause_of(self, index: int) -> tuple[int, int]:
        start = index
        while start > 0 and self.raw[start - 1] not in BOUNDARIES:
            start -= 1
        end = index
        while end < len(self.raw) and self.raw[end] not in BOUNDARIES:
            end += 1
        return start, end

    def side_near(self, start: int, end: int) -> str:
        """'left'/'right' written just before a mention or just after it ('on the left')."""
        lo, _ = self.clause_of(start)
        for i in range(start - 1, max(lo, start - 4) - 1, -1):
            if self.is_side(i):
                return self.raw[i]
        _, hi = self.clause_of(max(start, end - 1))
        for i in range(end, min(hi, end + 4)):
            if self.is_side(i):
                return self.raw[i]
        return ""

    def sides(self) -> set[str]:
        return {self.raw[i] for i in range(len(self.raw)) if self.is_side(i)}

    def is_side(self, i: int) -> bool:
        word = self.raw[i]
        if word not in SIDES:
            return False
        before = self.raw[i - 1] if i > 0 else ""
        after = self.raw[i + 1] if i + 1 < len(self.raw) else ""
        if word == "right" and (after in ("now", "away", "there", "here") or before in ("all", "thats", "is", "that")):
            return False
        if word == "left" and before in ("has", "have", "had", "just", "was", "it", "he", "she", "they", "pain", "i", "we"):
            return False
        # 'crossing from left to right': a direction, not a side
        return not (before == "from" and after == "to" or before == "to" and i >= 2 and self.raw[i - 2] in SIDES)


def parse(question: str, speller: Speller | None = None) -> Parsed:
    raw = [part for word in tokens(question) for part in (speller.split(word) if speller else (word,))]
    words = speller.in_context(raw, [speller.correct(word) for word in raw]) if speller else list(raw)
    corrected = [(word, fixed) for word, fixed in zip(raw, words) if fixed != word]
    negated = [False] * len(words)
    i = 0
    while i < len(words):
        word = words[i]
        follower = words[i + 1] if i + 1 < len(words) else ""
        if word in NEGATION_CUES and follower not in HEDGES:
            j = i + 1
            while j < len(words) and j <= i + NEGATION_REACH and words[j] not in BOUNDARIES:
                negated[j] = True
                j += 1
            i = j
        else:
            i += 1
    for i, word in enumerate(words):
        verb = i - 1 - (i >= 3 and words[i - 1] in RESULT_FILLERS)
        # 'does it look okay?', 'the uterus of my wife is normal size?': asked, not said
        after = next((w for w in words[i + 1:] if w in BOUNDARIES), "")
        asked = any(w in QUESTION_AUXILIARIES for w in words[max(0, verb - 2):verb]) or after == "?"
        if word in RESULT_NEGATIONS and verb >= 1 and words[verb] in RESULT_VERBS and not asked:
            j = verb - 1
            while j >= 0 and j >= verb - NEGATION_REACH and words[j] not in BOUNDARIES:
                negated[j] = True
                j -= 1
    return Parsed(tuple(words), tuple(stem(w) for w in words), tuple(negated), tuple(corrected))
