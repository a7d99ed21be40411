"""Shared fixtures: where the real data lives, and tools that must exist in CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _data_root() -> Path:
    from medsee_cli.io.data_root import data_root as medsee_data_root

    return medsee_data_root() or (REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder (``MEDSEE_DATA``, default ``../shared/data``).

    In CI a missing folder is a failure; on a user's fresh clone the test is skipped with the reason.
    """
    root = _data_root()
    if not (root / "README.md").is_file():
        message = f"real test data not found at {root} (set MEDSEE_DATA)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return root


def require_tool(name: str) -> str:
    """Path of an external program; fails in CI when missing, skips elsewhere."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: see 'make system-deps')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path
