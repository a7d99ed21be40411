"""The knowledge base: every target medsee can reason about, loaded from YAML and validated.

The data lives in ``data/knowledge.yaml`` (structures, unions, lesions, structures outside the
TotalSegmentator "total" set). This module only reads and checks it; it holds no medical facts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import yaml

from medsee_cli.errors import InputError
from medsee_cli.reasoning import data
from medsee_cli.reasoning.codes import Code

KB_RESOURCE = "knowledge.yaml"
KINDS = ("structure", "union", "lesion", "other")
RELATIONS = ("above", "below", "behind", "in_front_of", "next_to", "inside", "under", "around", "from", "to")


class UnknownTarget(InputError):
    """A name that is not a target in the knowledge base (the knowledge base itself is fine)."""


@dataclass(frozen=True)
class Entry:
    """One target: what it is called, how it is coded, and what points to it."""

    name: str
    kind: str
    description: str
    property_type: Code
    category: Code
    segmentable: bool
    in_total: bool = False
    code_certain: bool = True
    code_note: str = ""
    modifier: Optional[Code] = None
    region: Optional[Code] = None
    part_of: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    lateral: tuple[tuple[str, str], ...] = ()
    organ: str = ""
    lesion_words: tuple[str, ...] = ()
    lay_names: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    clues: tuple[str, ...] = ()
    weak_clues: tuple[str, ...] = ()
    relations: tuple[tuple[str, str], ...] = ()
    why: str = ""
    types: tuple[str, ...] = ()  # what kind of thing it is: organ, bone, vessel, gland, lesion, duct, muscle ...

    @property
    def code(self) -> str:
        """The SNOMED CT code of the segmented property type (what the mask shows)."""
        return self.property_type.code

    @property
    def display(self) -> str:
        """A plain-language name, e.g. 'left kidney'."""
        return self.lay_names[0] if self.lay_names else self.name.replace("_", " ")

    def side(self) -> str:
        meaning = self.modifier.meaning.lower() if self.modifier else ""
        return meaning if meaning in ("left", "right") else ""

    def lateral_member(self, side: str) -> str:
        return dict(self.lateral).get(side, "")

    def names(self) -> tuple[str, ...]:
        """Every phrase that names this target directly."""
        return (self.name.replace("_", " "),) + self.lay_names + self.synonyms + self.abbreviations


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    lesion_words: tuple[str, ...] = ()
    generic_names: tuple[str, ...] = ()
    source: str = ""
    type_words: tuple[tuple[str, tuple[str, ...]], ...] = ()  # kind -> the words that ask for it
    spread_words: tuple[str, ...] = ()
    origin_words: tuple[str, ...] = ()
    origin_after_words: tuple[str, ...] = ()
    test_words: tuple[str, ...] = ()  # 'his liver tests are abnormal': a lesion word about a test is no lesion
    _index: dict[str, Entry] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({e.name: e for e in self.entries})

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> Entry:
        try:
            return self._index[name]
        except KeyError:
            raise UnknownTarget(name, "not a target in the medsee knowledge base") from None

    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)

    def prompt(self, text: str) -> str:
        """What the grounding head is told to look for: a canonical name becomes its name plus
        its description (the prompt the head was trained with); free text stays as written."""
        key = text.strip()
        entry = self._index.get(key)
        return f"{entry.name.replace('_', ' ')}: {entry.description}" if entry is not None else key

    def ancestors(self, name: str) -> tuple[str, ...]:
        """The entry itself, then what it is part of, nearest first (no repeats)."""
        seen: list[str] = []
        queue = [name]
        while queue:
            current = queue.pop(0)
            if current in seen or current not in self._index:
                continue
            seen.append(current)
            queue.extend(self._index[current].part_of)
        return tuple(seen)

    def lesion_of(self, name: str, word: str = "") -> Optional[Entry]:
        """The lesion entry for an organ (or the nearest organ it is part of), if any."""
        for ancestor in self.ancestors(name):
            for entry in self.entries:
                if entry.kind != "lesion" or entry.organ != ancestor:
                    continue
                if entry.lesion_words and word and word not in entry.lesion_words:
                    continue
                if entry.lesion_words and not word:
                    continue
                return entry
        return self.lesion_of_type(self.get(name).types) if name in self._index else None

    def lesion_of_type(self, types: tuple[str, ...]) -> Optional[Entry]:
        """The lesion entry of a kind of tissue with no organ of its own ('bone' -> bone_lesion)."""
        for entry in self.entries:
            if entry.kind == "lesion" and not entry.organ and any(t in entry.types for t in types if t != "lesion"):
                return entry
        return None


def _coded(raw: Any, where: str) -> Code:
    if not isinstance(raw, dict) or "code" not in raw or "meaning" not in raw:
        raise InputError(where, "needs a mapping with 'code' and 'meaning'")
    code = str(raw["code"]).strip()
    if not code.isdigit():
        raise InputError(where, f"SNOMED CT code {code!r} is not numeric")
    meaning = "" if raw["meaning"] is None else str(raw["meaning"])
    if not meaning.strip():
        raise InputError(where, f"code {code} has no meaning")
    return Code(code=code, meaning=meaning, scheme=str(raw.get("scheme", "SCT")))


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, (str, int)) for x in raw):
        raise InputError(where, "must be a list of strings")
    return tuple(str(x).strip().lower() for x in raw if str(x).strip())


def _entry(raw: dict[str, Any], shared: dict[str, Any], where: str) -> Entry:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(where, "an entry has no name")
    where = f"{where}: {name}"
    kind = raw.get("kind", "structure")
    if kind not in KINDS:
        raise InputError(where, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if "code" not in raw:
        raise InputError(where, "has no SNOMED CT code")
    categories, modifiers = shared["categories"], shared["modifiers"]
    category = raw.get("category", "altered" if kind == "lesion" else "structure")
    if category not in categories:
        raise InputError(where, f"unknown category {category!r}")
    modifier = raw.get("side")
    if modifier is not None and modifier not in modifiers:
        raise InputError(where, f"unknown side {modifier!r}")
    relations = []
    for rel in raw.get("relations") or []:
        if not isinstance(rel, dict) or len(rel) != 1:
            raise InputError(where, "each relation is one 'relation: target' pair")
        (rel_name, target), = rel.items()
        if rel_name not in RELATIONS:
            raise InputError(where, f"unknown relation {rel_name!r}")
        relations.append((str(rel_name), str(target)))
    lateral = raw.get("lateral") or {}
    return Entry(
        name=name,
        kind=kind,
        description=str(raw.get("description", "")).strip(),
        property_type=_coded({"code": raw["code"], "meaning": raw.get("meaning", "")}, where),
        category=categories[category],
        segmentable=bool(raw.get("segmentable", False)),
        in_total=bool(raw.get("in_total", False)),
        code_certain=bool(raw.get("code_certain", True)),
        code_note=str(raw.get("code_note", "")),
        modifier=modifiers[modifier] if modifier else None,
        region=_coded(raw["region"], f"{where} region") if raw.get("region") else None,
        part_of=_strings(raw.get("part_of"), f"{where} part_of"),
        members=tuple(str(m) for m in raw.get("members") or ()),
        lateral=tuple((str(k), str(v)) for k, v in lateral.items()),
        organ=str(raw.get("organ", "")),
        lesion_words=_strings(raw.get("lesion_words"), f"{where} lesion_words"),
        lay_names=_strings(raw.get("lay"), f"{where} lay"),
        synonyms=_strings(raw.get("synonyms"), f"{where} synonyms"),
        abbreviations=_strings(raw.get("abbreviations"), f"{where} abbreviations"),
        clues=_strings(raw.get("clues"), f"{where} clues"),
        weak_clues=_strings(raw.get("weak_clues"), f"{where} weak_clues"),
        relations=tuple(relations),
        why=str(raw.get("why", "")).strip(),
        types=_strings([raw["type"]] if isinstance(raw.get("type"), str) else raw.get("type"), f"{where} type"),
    )


def _check_references(kb: KnowledgeBase, where: str) -> None:
    for entry in kb.entries:
        refs = list(entry.part_of) + list(entry.members) + [v for _, v in entry.lateral]
        refs += [target for _, target in entry.relations] + ([entry.organ] if entry.organ else [])
        for ref in refs:
            if ref not in kb:
                raise InputError(where, f"entry {entry.name} refers to unknown target {ref!r}")
        if not entry.description:
            raise InputError(where, f"entry {entry.name} has no description")


def parse_knowledge(text: str, source: str = "knowledge.yaml") -> KnowledgeBase:
    """Build and validate a knowledge base from YAML text."""
    try:
        raw = data.parse(text)
    except yaml.YAMLError as exc:
        raise InputError(source, f"is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
        raise InputError(source, "needs a top-level 'entries' list")
    shared = {
        "categories": {k: _coded(v, f"{source} category {k}") for k, v in (raw.get("categories") or {}).items()},
        "modifiers": {k: _coded(v, f"{source} side {k}") for k, v in (raw.get("sides") or {}).items()},
    }
    entries = []
    seen: set[str] = set()
    for position, item in enumerate(raw["entries"], start=1):
        if not isinstance(item, dict):
            raise InputError(source, f"entry {position} is not a mapping")
        entry = _entry(item, shared, source)
        if entry.name in seen:
            raise InputError(source, f"entry name {entry.name!r} appears twice")
        seen.add(entry.name)
        entries.append(entry)
    kb = KnowledgeBase(
        entries=tuple(entries),
        lesion_words=_strings(raw.get("lesion_words"), f"{source} lesion_words"),
        generic_names=_strings(raw.get("generic_names"), f"{source} generic_names"),
        source=source,
        type_words=tuple((str(kind), _strings(words, f"{source} type_words {kind}"))
                         for kind, words in (raw.get("type_words") or {}).items()),
        spread_words=_strings(raw.get("spread_words"), f"{source} spread_words"),
        origin_words=_strings(raw.get("origin_words"), f"{source} origin_words"),
        origin_after_words=_strings(raw.get("origin_after_words"), f"{source} origin_after_words"),
        test_words=_strings(raw.get("test_words"), f"{source} test_words"),
    )
    _check_references(kb, source)
    return kb


def load_knowledge(path: Optional[Path] = None) -> KnowledgeBase:
    """Load the packaged knowledge base, or the one at ``path``."""
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(str(path), f"cannot be read ({exc.strerror or exc})") from None
        return parse_knowledge(text, str(path))
    return _packaged()


@functools.lru_cache(maxsize=1)
def _packaged() -> KnowledgeBase:
    text = resources.files("medsee_cli.reasoning").joinpath("data").joinpath(KB_RESOURCE).read_text(encoding="utf-8")
    return parse_knowledge(text, KB_RESOURCE)


def lookup(name: str) -> Entry:
    """The packaged entry for a canonical target name (raises `UnknownTarget` for unknown names)."""
    return _packaged().get(name)
