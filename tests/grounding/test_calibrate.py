"""Per-target presence thresholds: Youden's J, ties to the highest bar, clamped."""

from __future__ import annotations

import math

import pytest

from medsee_cli.model.grounding.config import GroundingConfig
from medsee_cli.training.calibrate import LIMITS, choose_threshold


def test_separable_scores_get_a_threshold_between_the_classes() -> None:
    samples = [(2.5, True), (0.9, True), (0.4, False), (-1.0, False)]
    threshold, recall, false_alarms = choose_threshold(samples)
    assert threshold == pytest.approx((0.9 + 0.4) / 2)  # halfway to the next lower logit
    assert (recall, false_alarms) == (1.0, 0.0)


def test_overlapping_scores_maximise_recall_minus_false_alarms() -> None:
    # Bars: > 1.9 keeps 1/3 present, 0/3 absent (J 0.33); > 0.45 keeps 3/3 and 1/3 (J 0.67);
    # > -0.1 keeps 3/3 and 2/3 (J 0.33). The best is between 0.5 and 0.4.
    samples = [(3.0, True), (0.6, True), (0.5, True), (0.8, False), (0.4, False), (-0.6, False)]
    threshold, recall, false_alarms = choose_threshold(samples)
    assert threshold == pytest.approx(0.45)
    assert recall == 1.0 and false_alarms == pytest.approx(1 / 3)


def test_ties_keep_the_highest_bar_and_limits_hold() -> None:
    # Bars 0.75 and 0.15 both reach J = 0.5: the higher one is kept.
    threshold, recall, false_alarms = choose_threshold([(0.9, True), (0.6, False), (0.3, True), (0.0, False)])
    assert threshold == pytest.approx(0.75) and (recall, false_alarms) == (0.5, 0.0)
    # The best bar (9.5) is above the ceiling: clamped.
    threshold, _, _ = choose_threshold([(10.0, True), (9.0, False), (8.0, False)])
    assert threshold == LIMITS[1]
    threshold, recall, _ = choose_threshold([(-5.0, True), (-9.0, False)])
    # The best bar (-7.0) is below the floor: the floor wins even though it now misses the positive.
    assert threshold == LIMITS[0] and recall == 0.0


def test_one_sided_samples_keep_the_default() -> None:
    threshold, recall, _ = choose_threshold([(1.0, True), (2.0, True)], default=0.25)
    assert threshold == 0.25 and math.isnan(recall)


def test_config_round_trip_keeps_per_target_thresholds(tmp_path) -> None:
    config = GroundingConfig(presence_thresholds={"pancreatic_lesion": 1.75})
    config.save(tmp_path)
    loaded = GroundingConfig.load(tmp_path)
    assert loaded.presence_logit("pancreatic_lesion") == 1.75
    assert loaded.presence_logit("liver") == loaded.presence_threshold == 0.0
