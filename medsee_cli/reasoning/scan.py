"""The scan in view, as the resolver sees it: its modality and the body regions it covers.

``ScanContext`` is what ``Reasoner.resolve(question, scan=...)`` takes; ``scan_context(volume)``
computes one from the image alone, cheaply and without any model (see `medsee_cli.anatomy.levels`).
``BodyRegions`` reads ``data/body_regions.yaml``: in which regions each target can be seen.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Optional

from medsee_cli.reasoning import data
from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.text import holds, phrase_key

REGIONS = ("head", "neck", "chest", "abdomen", "pelvis")
REGIONS_RESOURCE = "body_regions.yaml"
PLACING = frozenset({"in", "inside", "within"})
SYMPTOMS = frozenset({"pain", "ache", "swelling", "feeling", "pressure", "tightness", "discomfort", "cramp"})


@dataclass(frozen=True)
class ScanContext:
    """Modality ('CT', 'MR', ... or 'unknown') and the body regions the scan covers (empty: not known)."""

    modality: str = "unknown"
    regions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = set(self.regions) - set(REGIONS)
        if unknown:
            raise ValueError(f"unknown body region(s) {sorted(unknown)}; known: {', '.join(REGIONS)}")
        object.__setattr__(self, "regions", frozenset(self.regions))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ScanContext":
        """From {"modality": "CT", "regions": ["abdomen", "pelvis"]} (or "region": "abdomen")."""
        regions = raw.get("regions", [raw["region"]] if raw.get("region") else [])
        return cls(str(raw.get("modality") or "unknown"), frozenset(str(r) for r in regions))

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, "regions": sorted(self.regions, key=REGIONS.index)}

    def describe(self) -> str:
        """'this CT covers the abdomen and pelvis' (or '' when the regions are not known)."""
        if not self.regions:
            return ""
        names = sorted(self.regions, key=REGIONS.index)
        where = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        what = self.modality if self.modality != "unknown" else "scan"
        return f"this {what} covers the {where}"


class BodyRegions:
    """Where each knowledge-base target can be seen, and the likely lesion of a one-region scan."""

    def __init__(self, kb: KnowledgeBase, raw: dict[str, Any]) -> None:
        self.kb = kb
        listed: dict[str, set[str]] = {}
        for region, names in (raw.get("regions") or {}).items():
            if region not in REGIONS:
                raise ValueError(f"{REGIONS_RESOURCE}: unknown region {region!r}")
            for name in names:
                if name in kb:  # a smaller knowledge base of one's own may lack some
                    listed.setdefault(name, set()).add(region)
        self._listed = listed
        self.lesion_by_region = {str(k): str(v) for k, v in (raw.get("lesion_by_region") or {}).items() if str(v) in kb}
        self._region_keys = {phrase_key(str(word)): str(region)
                             for region, words in (raw.get("region_words") or {}).items() for word in words}

    def said(self, stems: tuple[str, ...]) -> frozenset[str]:
        """The regions a question names by a region word ('inside his head', 'in the belly')."""
        return frozenset(region for key, region in self._region_keys.items() if holds(stems, key))

    def placed(self, stems: tuple[str, ...]) -> frozenset[str]:
        """The regions a question puts its target in: a region word right after 'in' or 'inside' ('the
        vein in the pelvis'), not one that only says where a symptom is felt ('pain in the chest')."""
        found = set()
        for key, region in self._region_keys.items():
            for i in range(1, len(stems) - len(key) + 1):
                at = i - (stems[i - 1] == "the")
                if (stems[i:i + len(key)] == key and at >= 1 and stems[at - 1] in PLACING
                        and not (at >= 2 and stems[at - 2] in SYMPTOMS)):
                    found.add(region)
        return frozenset(found)

    @functools.lru_cache(maxsize=None)
    def of(self, name: str) -> frozenset[str]:
        """The regions a target can be in; empty means anywhere."""
        if name in self._listed:
            return frozenset(self._listed[name])
        entry = self.kb.get(name)
        for whole in self.kb.ancestors(name)[1:]:
            if whole in self._listed:
                return frozenset(self._listed[whole])
        found: set[str] = set()
        for member in entry.members:
            found |= self.of(member)
        return frozenset(found)

    def outside(self, name: str, scan: Optional[ScanContext]) -> bool:
        """True when the scan's regions are known and the target cannot be in any of them."""
        if scan is None or not scan.regions:
            return False
        regions = self.of(name)
        return bool(regions) and not regions & scan.regions

    def lesion_for(self, scan: Optional[ScanContext]) -> str:
        """The lesion a lump most likely is on this scan ('' when the scan does not say)."""
        if scan is None or not scan.regions:
            return ""
        picks = {self.lesion_by_region.get(region, "") for region in scan.regions}
        return picks.pop() if len(picks) == 1 else ""


def load_body_regions(kb: KnowledgeBase) -> BodyRegions:
    return BodyRegions(kb, data.read(REGIONS_RESOURCE))


def scan_context(volume: Any, modality: str = "") -> ScanContext:
    """The scan in view, from the image alone: its modality (the volume's, or ``modality`` when the
    caller knows better; an image without one whose values are Hounsfield units is taken as CT) and,
    for CT in HU, the body regions it covers (`medsee_cli.anatomy.levels.ct_regions`). MR and anything else get
    their modality only, and no regions: ranking then ignores the body region."""
    from medsee_cli.anatomy.levels import ct_regions, hu_sample, looks_like_hu

    name = (modality or getattr(volume, "modality", "") or "").upper()
    if name in ("", "OT", "UNKNOWN"):
        name = "CT" if looks_like_hu(hu_sample(volume)) else "unknown"
    regions = ct_regions(volume) if name == "CT" else frozenset()
    return ScanContext(name, regions)
