"""The label table: what each value of a label map means (name, SNOMED CT codes, colour).

It travels next to every label map as ``labels.json`` (schema ``medsee.labels/1``)::

    {"schema": "medsee.labels/1",
     "labels": [{"value": 1, "name": "liver",
                 "type": {"scheme": "SCT", "code": "10200004", "meaning": "Liver"},
                 "category": {"scheme": "SCT", "code": "91723000", "meaning": "Anatomical Structure"},
                 "colour": [230, 25, 75], "score": 0.93, "volume_ml": 1530.2}]}

``confidence`` (optional) is how often findings with that score were right on real CT the model
never saw (`model.grounding.confidence`; only where it was measured). ``volume_ml`` (optional) is
the finding's own measured volume; it can exceed what the label map shows for that value where a
smaller finding was painted over it.

Codes are optional in the table (a plain label map may only have names); writers that need
them (DICOM-SEG, RTSTRUCT) say which label lacks one. They are `medsee_cli.reasoning.codes.Code`,
the type the knowledge base codes its targets with.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

from medsee_cli.errors import InputError
from medsee_cli.reasoning.codes import Code

LABELS_SCHEMA = "medsee.labels/1"

ANATOMICAL_STRUCTURE = Code("91723000", "Anatomical Structure")


@dataclass(frozen=True)
class Label:
    """One non-zero value of a label map and what it shows."""

    value: int
    name: str
    type: Optional[Code] = None  # segmented property type, e.g. SCT 10200004 Liver
    category: Optional[Code] = None  # segmented property category
    modifier: Optional[Code] = None  # e.g. SCT 7771000 Left
    colour: Optional[tuple[int, int, int]] = None
    score: Optional[float] = None
    confidence: Optional[float] = None  # how often findings with this score were right on real CT (if measured)
    volume_ml: Optional[float] = None  # the finding's own volume (overlaps included)
    drawn: tuple[int, ...] = ()  # slices (k) whose outline medsee drew from the slices around them, not run (boxes.json)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "name": self.name}
        for key in ("type", "category", "modifier"):
            code = getattr(self, key)
            if code is not None:
                out[key] = code.to_json()
        if self.colour is not None:
            out["colour"] = list(self.colour)
        if self.score is not None:
            out["score"] = self.score
        if self.confidence is not None:
            out["confidence"] = self.confidence
        if self.volume_ml is not None:
            out["volume_ml"] = self.volume_ml
        return out


@dataclass(frozen=True)
class LabelTable:
    """The labels of one label map, sorted by value; value 0 is always background."""

    labels: tuple[Label, ...]

    def __post_init__(self) -> None:
        values = [label.value for label in self.labels]
        if any(v <= 0 or v > 65535 for v in values):
            raise ValueError(f"label values must lie in 1..65535, got {values}")
        if len(set(values)) != len(values):
            raise ValueError(f"label values repeat: {values}")
        ordered = tuple(sorted(self.labels, key=lambda label: label.value))
        object.__setattr__(self, "labels", ordered)

    def __iter__(self) -> Iterator[Label]:
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(label.value for label in self.labels)

    def get(self, value: int) -> Label:
        for label in self.labels:
            if label.value == value:
                return label
        raise KeyError(value)

    def with_colours(self) -> "LabelTable":
        """The same table with a default colour filled in wherever one is missing."""
        palette = default_palette()
        return LabelTable(
            tuple(
                label if label.colour else replace(label, colour=palette[n % len(palette)])
                for n, label in enumerate(self.labels)
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {"schema": LABELS_SCHEMA, "labels": [label.to_json() for label in self.labels]}

    @classmethod
    def from_names(cls, names: dict[int, str]) -> "LabelTable":
        return cls(tuple(Label(value=int(v), name=n) for v, n in names.items()))


@functools.lru_cache(maxsize=1)
def default_palette() -> tuple[tuple[int, int, int], ...]:
    text = resources.files("medsee_cli.writers").joinpath("data/palette.yaml").read_text()
    return tuple((int(r), int(g), int(b)) for r, g, b in yaml.safe_load(text)["colours"])


def _code(raw: Any, where: str) -> Optional[Code]:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("code") or not raw.get("meaning"):
        raise ValueError(f"{where}: a code needs 'code' and 'meaning' (and optionally 'scheme')")
    return Code(str(raw["code"]), str(raw["meaning"]), str(raw.get("scheme", "SCT")))


def _label(raw: Any, where: str) -> Label:
    if not isinstance(raw, dict) or "value" not in raw or "name" not in raw:
        raise ValueError(f"{where}: each label needs 'value' and 'name'")
    colour = raw.get("colour")
    if colour is not None:
        if len(colour) != 3 or not all(0 <= int(c) <= 255 for c in colour):
            raise ValueError(f"{where}: colour must be three integers 0-255")
        colour = tuple(int(c) for c in colour)
    score, confidence, volume_ml = raw.get("score"), raw.get("confidence"), raw.get("volume_ml")
    return Label(
        value=int(raw["value"]),
        name=str(raw["name"]),
        type=_code(raw.get("type"), f"{where} type"),
        category=_code(raw.get("category"), f"{where} category"),
        modifier=_code(raw.get("modifier"), f"{where} modifier"),
        colour=colour,
        score=None if score is None else float(score),
        confidence=None if confidence is None else float(confidence),
        volume_ml=None if volume_ml is None else float(volume_ml),
    )


def parse_label_table(data: Any, source: str = "labels.json") -> LabelTable:
    """A `LabelTable` from parsed JSON: our schema, or a plain ``{"1": "liver", ...}`` map."""
    try:
        if isinstance(data, dict) and "labels" in data:
            schema = data.get("schema", LABELS_SCHEMA)
            if schema != LABELS_SCHEMA:
                raise ValueError(f"unknown schema {schema!r} (expected {LABELS_SCHEMA})")
            return LabelTable(
                tuple(_label(raw, f"label {n}") for n, raw in enumerate(data["labels"]))
            )
        if isinstance(data, dict):
            names = {int(k): str(v) for k, v in data.items() if int(k) != 0}
            return LabelTable.from_names(names)
        raise ValueError("expected a JSON object")
    except (ValueError, TypeError) as exc:
        raise InputError(source, f"not a valid label table ({exc})") from exc


def read_label_table(path: str | Path) -> LabelTable:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(str(path), f"cannot read the label table ({exc.strerror})") from exc
    except ValueError as exc:
        raise InputError(str(path), f"not valid JSON ({exc})") from exc
    return parse_label_table(data, str(path))


def dumps_label_table(table: LabelTable) -> str:
    return json.dumps(table.to_json(), indent=2) + "\n"
