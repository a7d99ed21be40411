"""Where the shared real-data folder is: one rule for `eval --dataset builtin`, `train --data` and the tests.

In order: the folder the command was given; ``$MEDSEE_DATA``; in a source checkout of medsee,
``../shared/data`` beside the project folder (the folder holding pyproject.toml), whatever the
working directory. An installed medsee without a checkout has no default: the folder must be given.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "MEDSEE_DATA"


def project_folder() -> Path | None:
    """The source checkout medsee runs from (``None`` for an installed wheel)."""
    folder = Path(__file__).resolve().parents[2]
    return folder if (folder / "pyproject.toml").is_file() else None


def data_root(given: Path | None = None) -> Path | None:
    """The shared data folder by the rule above (``None``: nothing given and no default)."""
    if given is not None:
        return Path(given)
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    project = project_folder()
    return project.parent / "shared" / "data" if project is not None else None
