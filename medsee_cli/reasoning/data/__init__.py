"""The reasoning step's data files (YAML), each parsed once and shared: callers must not change what they get.

libyaml's loader is used when PyYAML was built with it (several times faster on the knowledge base); the
pure-Python safe loader otherwise. Both read the same documents the same way.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str) -> Any:
    """YAML text as Python data (raises ``yaml.YAMLError`` when it is not YAML)."""
    return yaml.load(text, Loader=LOADER)  # noqa: S506 - a safe loader


@functools.lru_cache(maxsize=None)
def read(name: str) -> Any:
    """The packaged data file ``name`` ('knowledge.yaml'), parsed."""
    return parse(resources.files(__name__).joinpath(name).read_text("utf-8"))
