"""A coded concept: the one type for a SNOMED CT (or other scheme's) code in medsee.

The knowledge base codes each target with it (`knowledge.Entry`); label tables, DICOM-SEG and
RTSTRUCT carry the same objects (`medsee_cli.writers.labels`), so a code read from the knowledge
base is written out as it is, with no conversion in between.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """Coding scheme designator, code value and code meaning, e.g. SCT 10200004 Liver."""

    code: str
    meaning: str
    scheme: str = "SCT"

    def to_json(self) -> dict[str, str]:
        return {"scheme": self.scheme, "code": self.code, "meaning": self.meaning}

