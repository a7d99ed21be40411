"""The engine runs only the slices where the guard could keep something of a target: on a real CT
a pelvic target never costs the upper abdomen, a target the scan cannot show costs nothing, and
what is found is what the guard would have kept anyway."""

from __future__ import annotations

import numpy as np

from medsee_cli.anatomy.placement import ANYWHERE, Placement
from medsee_cli.anatomy.scan_anatomy import scan_anatomy
from medsee_cli.engine.findings import find, worth_running
from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from tests.engine.toy import BrightModel, vectors

PELVIC = Placement(regions=frozenset({"pelvis"}), in_trunk=True)
IN_HEAD = Placement(regions=frozenset({"head"}), in_trunk=True)


def engine() -> SliceEngine:
    return SliceEngine(BrightModel(), EngineOptions(device="cpu", precision="fp32", skip_stride=1, fill_gaps=0))


def test_a_pelvic_target_runs_only_pelvic_slices(patient_a) -> None:
    volume = patient_a[0]
    anatomy = scan_anatomy(volume)
    wanted = worth_running([PELVIC], anatomy)
    assert wanted is not None
    pelvis = np.flatnonzero(np.array(anatomy.levels) == "pelvis")
    assert wanted[pelvis].all() and 0.3 < wanted.mean() < 0.7  # the pelvis and 20 mm beyond, not the abdomen
    found, run = find(engine(), volume, ["bright"], vectors(["bright"]), placements=[PELVIC])
    assert run.slices_run == int(wanted.sum())
    everywhere, full = find(engine(), volume, ["bright"], vectors(["bright"]), placements=[ANYWHERE])
    assert full.slices_run == volume.spatial_shape[2]
    ks = {s["index"] for s in found[0].slices}
    assert found[0].present and ks <= set(np.flatnonzero(wanted))
    # what the restricted run finds is what the full run finds on those slices
    assert ks == {s["index"] for s in everywhere[0].slices} & set(np.flatnonzero(wanted))


def test_a_target_the_scan_cannot_show_costs_nothing(patient_a) -> None:
    volume = patient_a[0]
    found, run = find(engine(), volume, ["bright"], vectors(["bright"]), placements=[IN_HEAD])
    assert run.slices_run == 0 and not found[0].present
    # with another target that may lie anywhere, every slice runs again
    _, both = find(engine(), volume, ["bright", "bright"], vectors(["bright", "bright"]), placements=[IN_HEAD, ANYWHERE])
    assert both.slices_run == volume.spatial_shape[2]


def test_no_levels_no_restriction(patient_a) -> None:
    from medsee_cli.io.volume import Volume

    volume = patient_a[0]
    windowed = Volume(np.clip((np.asarray(volume.array()) + 160) * 255 / 400, 0, 255).astype(np.uint8), volume.affine)
    assert worth_running([PELVIC], scan_anatomy(windowed)) is None  # 0-255 windowed: no HU levels
