"""The one rule `ask` and `eval --model` use to turn a question into targets to outline."""

from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.io.volume import Volume
from medsee_cli.services.plan import TargetRule, choose_targets, plan_targets


def test_a_named_target_is_outlined_alone():
    keep, why = choose_targets(["liver", "gallbladder", "bile_duct"], ("liver",), TargetRule())
    assert keep == ["liver"] and set(why) == {"gallbladder", "bile_duct"}
    keep, _ = choose_targets(["liver", "gallbladder", "bile_duct"], ("liver",), TargetRule(related=1))
    assert keep == ["liver", "gallbladder"]


def test_a_question_that_only_points_gets_the_best_three():
    keep, why = choose_targets(["a", "b", "c", "d"], (), TargetRule())
    assert keep == ["a", "b", "c"] and "3 best-ranked" in why["d"]


def test_what_the_model_cannot_outline_is_never_replaced_by_another_target():
    """"the lesion" names a target the model was not trained on: nothing else is outlined in its place."""
    keep, why = choose_targets(["brain_tumor", "aorta"], ("lesion",), TargetRule())
    assert keep == [] and "the question names generic lesion" in why["aorta"]


@pytest.fixture(scope="module")
def reasoner():
    from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver

    return Resolver.from_options(ReasonerOptions())


def test_plan_reports_the_named_target_it_cannot_outline(reasoner):
    volume = Volume(np.full((16, 16, 4), -50, np.int16), np.eye(4))
    trained = ("liver", "spleen", "aorta", "brain_tumor")
    plan = plan_targets("where is the mass on this scan?", volume, reasoner, lambda: trained)
    assert plan.names == () and not plan.abstained
    assert plan.skipped["lesion"] == "this model was not trained to outline it"
    plan = plan_targets("where is the liver?", volume, reasoner, lambda: trained)
    assert plan.names == ("liver",)


def test_an_abstention_never_loads_the_model(reasoner):
    volume = Volume(np.zeros((8, 8, 2), np.int16), np.eye(4))

    def model_targets():
        raise AssertionError("the model was loaded for a question with no target")

    assert plan_targets("what is the capital of France?", volume, reasoner, model_targets).abstained
