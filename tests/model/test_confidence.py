"""The printed confidence: a model score turned into how often findings like it were right on real CT."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from medsee_cli.engine.describe import describe
from medsee_cli.engine.findings import with_confidence
from medsee_cli.model.grounding.confidence import ConfidenceMap, fit, logit
from medsee_cli.model.grounding.config import GroundingConfig
from tests.engine.conftest import measured
from tests.engine.test_describe import blob, volume_with
from tests.engine.test_findings import track_from

MAP = ConfidenceMap(slope=0.5, intercept=-1.5, findings=40, right=17, measured_on="test findings")


def test_platt_scaling_recovers_the_curve_that_made_the_outcomes() -> None:
    rng = np.random.default_rng(3)
    scores = rng.uniform(0.3, 0.9999, size=4000)
    truth = rng.uniform(size=scores.size) < np.array([MAP(s) for s in scores])
    got = fit(scores, truth, "simulated")
    assert got.slope == pytest.approx(MAP.slope, abs=0.08) and got.intercept == pytest.approx(MAP.intercept, abs=0.2)
    assert (got.findings, got.right, got.measured_on) == (4000, int(truth.sum()), "simulated")


def test_the_map_is_a_probability_rising_with_the_score_and_finite_on_separable_data() -> None:
    values = [MAP(s) for s in (0.0, 0.5, 0.9, 0.99, 1.0)]
    assert all(0.0 < v < 1.0 for v in values) and values == sorted(values)
    assert logit(1.0) == pytest.approx(-logit(0.0)) and np.isfinite(logit(1.0))
    separable = fit([0.6, 0.7, 0.97, 0.99], [False, False, True, True], "four")
    assert np.isfinite(separable.slope) and separable(0.6) < 0.5 < separable(0.99)
    never_right = fit([0.8, 0.9, 0.99], [False, False, False], "three wrong")
    assert never_right(0.99) < 0.3


def test_the_map_travels_in_config_json(tmp_path) -> None:
    config = replace(GroundingConfig(), confidence_map=MAP.to_dict())
    config.save(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["confidence_map"]["measured_on"] == "test findings"
    assert GroundingConfig.load(tmp_path).confidence == MAP
    assert GroundingConfig().confidence is None  # a model nobody measured has none


def test_ct_findings_say_how_often_such_scores_were_right_and_others_say_they_are_uncalibrated() -> None:
    found = measured(volume_with(None), track_from(blob(), score=0.99))
    absent = replace(found, present=False)
    (ct, gone) = with_confidence([found, absent], MAP, "CT")
    assert ct.confidence == pytest.approx(MAP(found.score)) and gone.confidence is None
    assert ct.measurements()["confidence"] == round(MAP(found.score), 3)
    assert describe(ct, "liver").endswith(f"(model score {found.score:.2f}: findings scored like this were right about "
                                          f"{100 * MAP(found.score):.0f}% of the time on real CT it never saw).")
    (mr,) = with_confidence([found], MAP, "MR")
    (unmeasured,) = with_confidence([found], None, "CT")
    for finding in (mr, unmeasured):
        assert finding.confidence is None and finding.measurements()["confidence"] is None
        assert describe(finding, "liver").endswith(f"(model score {found.score:.2f}, not calibrated for this kind of scan).")


def test_a_finding_the_guard_doubts_gets_the_share_of_doubted_findings_that_were_right() -> None:
    measured_apart = replace(MAP, doubted=7, doubted_right=0)
    assert measured_apart.doubted_share() == pytest.approx(1 / 9)  # none of 7: about 11%, not never
    assert MAP.doubted_share() is None  # a map that measured no doubted finding
    assert ConfidenceMap.from_dict(measured_apart.to_dict()) == measured_apart
    older = {k: v for k, v in MAP.to_dict().items() if not k.startswith("doubted")}
    assert ConfidenceMap.from_dict(older) == MAP  # config.json written before the split still loads
    found = replace(measured(volume_with(None), track_from(blob(), score=0.99)), concerns=("its mean -188 HU ...",))
    (doubted,) = with_confidence([found], measured_apart, "CT")
    assert doubted.confidence == pytest.approx(1 / 9) and 1 / 9 < MAP(found.score)
    assert (f"(model score {found.score:.2f}: findings the anatomy guard doubted were right about 11% of the time "
            "on real CT it never saw; but doubtful: its mean -188 HU ...)") in describe(doubted, "liver")
    (unmeasured,) = with_confidence([found], MAP, "CT")
    assert unmeasured.confidence is None
    assert f"(model score {found.score:.2f}, not calibrated for this kind of finding; but doubtful" in describe(unmeasured, "liver")
