"""Findings in plain words: where, how big, which slices; "not found in this scan" otherwise.

Only what was measured is said: no diagnosis, no certainty the model does not have: the model's
score is given with how often findings scored like it were right on real CT (`Finding.confidence`),
or said to be uncalibrated; a finding the anatomy guard doubts (`Finding.concerns`) says why. Slices are
named as a viewer numbers them (InstanceNumber for DICOM, else 1-based) with their table
position in mm where the stack is axial: "slices 42-59 (table -123.5 to -98.0 mm)".
"""

from __future__ import annotations

from medsee_cli.engine.findings import Finding


def _size(values: list[float]) -> str:
    return " x ".join(f"{v:.0f}" for v in sorted(values, reverse=True)) + " mm"


def where(finding: Finding) -> str:
    if finding.side == "midline":
        return "near the midline"
    if finding.side:
        return f"on the patient's {finding.side} side"
    return ""


def slice_range(finding: Finding) -> str:
    """The slices a finding spans as a viewer numbers them, with the table positions when known."""
    numbers = [s["number"] for s in finding.slices]
    tables = [s["table_mm"] for s in finding.slices if s["table_mm"] is not None]
    first, last = min(numbers), max(numbers)
    text = f"slice {first}" if first == last else f"slices {first}-{last}"
    if tables:
        low, high = min(tables), max(tables)
        text += f" (table {low:.1f} mm)" if low == high else f" (table {low:.1f} to {high:.1f} mm)"
    return text


def describe(finding: Finding, display: str) -> str:
    """One sentence about one target."""
    if not finding.present:
        if not finding.dropped:
            return f"{display.capitalize()}: not found in this scan."
        # something was outlined and did not hold up: say so, a clinician should not read this as "absent"
        outlined = sum(d.volume_ml for d in finding.dropped)
        reasons = "; ".join(dict.fromkeys(d.reason for d in finding.dropped))
        return (f"{display.capitalize()}: not found in this scan (what the model outlined, {outlined:.1f} mL, "
                f"was set aside: {reasons}; it may have missed it).")
    parts = [f"{display.capitalize()}: found"]
    place = where(finding)
    if place:
        parts.append(place)
    parts.append(f"on {slice_range(finding)}")
    text = " ".join(parts) + "; "
    text += f"about {_size(finding.size_mm or [])}, {finding.volume_ml:.1f} mL"
    if finding.pieces > 1:
        text += f" in {finding.pieces} separate pieces"
    if finding.intensity and finding.intensity.get("unit") == "HU":
        text += f", mean {finding.intensity['mean']:.0f} HU"
    if finding.concerns:  # implausible for its target: never said as if nothing were wrong
        return text + f" ({trust(finding)}; but doubtful: {'; '.join(finding.concerns)})."
    return text + f" ({trust(finding)})."


def trust(finding: Finding) -> str:
    """The model's score and, where it was measured, how often findings like it were right (scored
    like it, or, for one the anatomy guard doubts, doubted like it)."""
    if finding.confidence is None:
        return f"model score {finding.score:.2f}, not calibrated for this kind of {'finding' if finding.concerns else 'scan'}"
    alike = "findings the anatomy guard doubted" if finding.concerns else "findings scored like this"
    return (f"model score {finding.score:.2f}: {alike} were right about "
            f"{100 * finding.confidence:.0f}% of the time on real CT it never saw")


def reading(step: int, spacing_mm: float, bridged: int = 0) -> str:
    """How the slices were read, when not every slice was (`engine.between`); else ""."""
    if step <= 1:
        return ""
    nth = {2: "second", 3: "third"}.get(step, f"{step}th")
    skipped = (f"; {bridged} of those skipped where the outlines on either side agreed, --bridge 0 outlines them"
               if bridged else "")
    return (f"Outlined on every {nth} slice ({step * spacing_mm:.1f} mm apart{skipped}); the slices between were "
            f"drawn from their neighbours (--read-spacing 0 outlines every slice).")
