"""What a grounding head is trained on: a recipe (YAML or JSON) of sources and targets.

The shipped checkpoint's recipe is ``recipes/grounding-v1.yaml``; a user's manifest has the
same shape (usually only ``volume`` sources). Paths may start with ``${data}`` (the data root
given on the command line) and are otherwise relative to the manifest's folder.

```yaml
schema: 1
targets: [liver, kidneys, liver_lesion]      # knowledge-base names (unions allowed)
sources:
  - name: case01                             # shown in reports
    kind: volume                             # volume | phantom
    image: case01/ct.nii.gz                  # anything medsee can read
    labels: case01/labels.nii.gz             # label map on the same grid
    label_names: {1: liver, 2: kidney_left}  # or {file: labelmap.json, key: total}
    modality: CT
    role: train                              # train | holdout | calibration
    slices: [[0, 120, 2]]                    # optional (start, stop, step) ranges
    absent: [brain_tumor]                    # targets known not to be anywhere in it
    lesions: [{target: liver_lesion, organ: liver, count: 3}]  # optional synthetic lesions
    contrast: arterial                       # optional: an unenhanced CT shown in this contrast phase
  - name: synthetic
    kind: phantom                            # medsee's phantom abdomen on random grids
    count: 40
    phases: [unenhanced, arterial]           # contrast phases drawn from (default: portal_venous)
    hu_jitter: 15                            # soft-tissue means moved by up to this many HU
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from medsee_cli.errors import InputError
from medsee_cli.synth.phantom import DEFAULT_PHASE, PHASES

ROLES = ("train", "holdout", "calibration")
KINDS = ("volume", "phantom")


@dataclass(frozen=True)
class LesionRequest:
    target: str
    organ: str
    count: int = 1


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: str
    role: str = "train"
    modality: str = "CT"
    image: Path | None = None
    labels: Path | None = None
    label_names: dict[int, str] = field(default_factory=dict)
    slices: tuple[tuple[int, int, int], ...] = ()
    absent: tuple[str, ...] = ()
    lesions: tuple[LesionRequest, ...] = ()
    seed: int = 0
    contrast: str = ""  # volume sources: a contrast phase (synth/phases.yaml) the unenhanced CT is shown in
    # phantom sources: how many random phantoms, which cases, slices sampled per phantom
    count: int = 0
    cases: tuple[str, ...] = ("jaundice", "normal")
    slices_per_volume: int = 16
    phases: tuple[str, ...] = (DEFAULT_PHASE,)  # each phantom is drawn in one of these contrast phases
    hu_jitter: float = 0.0  # ... with each soft tissue's mean moved by up to this many HU
    # Fields added after cache version 3 are left out of the repr and keyed only when set
    # (`training.cache.cache_key`), so the caches of recipes that do not use them stay valid.
    # volume sources: each picked slice cut to these square fields of view (training/fields.py)
    fields_mm: tuple[float, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Recipe:
    targets: tuple[str, ...]
    sources: tuple[SourceSpec, ...]
    seed: int = 0
    origin: str = ""
    # how often the sampler draws a source's pairs against others of the same target and kind
    # (``weight: N`` on a source; 1 when not given): a few real slices against many phantoms
    weights: dict[str, int] = field(default_factory=dict)

    def weight(self, source: str) -> int:
        return self.weights.get(source, 1)


def _path(raw: str, base: Path, data_root: Path | None, where: str) -> Path:
    if "${data}" in raw:
        if data_root is None:
            raise InputError(where, "uses ${data} but no data root was given (--data DIR)")
        raw = raw.replace("${data}", str(Path(data_root).expanduser().absolute()))  # as given: from where the command runs
    path = Path(raw).expanduser()
    return path if path.is_absolute() else base / path


def _label_names(raw: Any, base: Path, data_root: Path | None, where: str) -> dict[int, str]:
    if isinstance(raw, dict) and "file" in raw:
        table_path = _path(str(raw["file"]), base, data_root, where)
        try:
            table = json.loads(table_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(str(table_path), f"cannot read the label table ({exc})") from None
        if raw.get("key"):
            table = table[raw["key"]]
        raw = table
    if not isinstance(raw, dict):
        raise InputError(where, "label_names must map label ids to names")
    return {int(k): str(v) for k, v in raw.items()}


def _phases(raw: Any, where: str) -> tuple[str, ...]:
    """Contrast phase names as given, each one of `PHASES` (an InputError naming the source otherwise)."""
    phases = tuple(str(p) for p in raw)
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        raise InputError(where, f"contrast phases must be some of {', '.join(PHASES)} (got {', '.join(unknown) or 'none'})")
    return phases


def _source(raw: dict[str, Any], base: Path, data_root: Path | None, index: int) -> SourceSpec:
    where = f"source {raw.get('name', index)}"
    kind = raw.get("kind", "volume")
    role = raw.get("role", "train")
    if kind not in KINDS or role not in ROLES:
        raise InputError(where, f"kind must be one of {KINDS} and role one of {ROLES}")
    lesions = tuple(LesionRequest(str(item["target"]), str(item["organ"]), int(item.get("count", 1))) for item in raw.get("lesions", ()))
    common = dict(name=str(raw.get("name", f"source{index}")), kind=kind, role=role,
                  modality=str(raw.get("modality", "CT")).upper(), seed=int(raw.get("seed", index)),
                  absent=tuple(raw.get("absent", ())), lesions=lesions,
                  slices=tuple(tuple(int(v) for v in r) for r in raw.get("slices", ())))
    if kind == "phantom":
        phases = _phases(raw.get("phases", (DEFAULT_PHASE,)), where)
        return SourceSpec(**common, count=int(raw.get("count", 1)), cases=tuple(raw.get("cases", ("jaundice", "normal"))),
                          phases=phases, hu_jitter=float(raw.get("hu_jitter", 0.0)),
                          slices_per_volume=int(raw.get("slices_per_volume", 16)))
    if "image" not in raw or "labels" not in raw:
        raise InputError(where, "a volume source needs image and labels")
    (contrast,) = _phases([raw["contrast"]], where) if raw.get("contrast") else ("",)
    fields_mm = tuple(float(v) for v in raw.get("fields_mm", ()))
    if any(not 10.0 <= v <= 1000.0 for v in fields_mm):
        raise InputError(where, f"fields_mm must be fields of view between 10 and 1000 mm (got {list(fields_mm)})")
    return SourceSpec(**common, contrast=contrast, fields_mm=fields_mm, image=_path(str(raw["image"]), base, data_root, where),
                      labels=_path(str(raw["labels"]), base, data_root, where),
                      label_names=_label_names(raw.get("label_names", {}), base, data_root, where))


def load_recipe(path: Path, data_root: Path | None = None) -> Recipe:
    """A training manifest. ``extends: other.yaml`` (beside it) starts from that recipe: its
    sources come first, then this one's (names must differ); targets and seed default to its."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(str(path), f"cannot read the training manifest ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "a training manifest needs 'targets' and 'sources'")
    base = load_recipe(path.parent / str(data["extends"]), data_root) if data.get("extends") else None
    if not (data.get("sources") or base) or not (data.get("targets") or base):
        raise InputError(str(path), "a training manifest needs 'targets' and 'sources'")
    own = tuple(_source(raw, path.parent, data_root, i) for i, raw in enumerate(data.get("sources") or ()))
    sources = (base.sources if base else ()) + own
    names = [s.name for s in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(str(path), f"source names must differ ({', '.join(twice)} given twice)")
    targets = tuple(data["targets"]) if data.get("targets") else base.targets if base else ()
    seed = int(data["seed"]) if "seed" in data else base.seed if base else 0
    weights = dict(base.weights) if base else {}
    for spec, raw in zip(own, data.get("sources") or ()):
        weight = raw.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise InputError(f"source {spec.name}", f"weight must be a whole number of at least 1 (got {weight!r})")
        weights[spec.name] = weight
    return Recipe(targets, sources, seed, str(path), weights)


def shipped_recipe() -> Path:
    from importlib import resources

    return Path(str(resources.files("medsee_cli.training").joinpath("recipes", "grounding-v1.yaml")))
