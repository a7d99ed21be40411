"""Which of a tool's classes make up a medsee target: the rule of ``targets.yaml``, applied.

The data (aliases and unions per tool) lives in ``targets.yaml``; this module only reads it and
picks, for one target and the class names one output offers, the classes whose union is the
target's mask. The YAML's header states the rule.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import yaml

from medsee_cli.errors import InputError

Alternative = tuple[str, ...]  # class names (globs allowed) whose union is the target
_SEPARATORS = re.compile(r"[\s\-]+")
_GLOB = re.compile(r"[*?\[]")
SHOWN = 8  # class names quoted in an error before "..."


def normalise(name: str) -> str:
    """The form class and target names compare in: lower case, spaces and '-' as '_'."""
    return _SEPARATORS.sub("_", name.strip()).lower()


def _alternatives(value: Any, where: str) -> tuple[Alternative, ...]:
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return (tuple(normalise(v) for v in value),)
    if isinstance(value, list) and value and all(isinstance(v, list) and v and all(isinstance(n, str) for n in v) for v in value):
        return tuple(tuple(normalise(n) for n in v) for v in value)
    raise ValueError(f"targets.yaml: {where} must be a list of class names or a list of such lists")


@functools.lru_cache(maxsize=1)
def mapping() -> dict[str, dict[str, tuple[Alternative, ...]]]:
    """``{section: {target: alternatives}}`` from ``targets.yaml`` (sections: shared and tools)."""
    text = resources.files("medsee_cli.eval.adapters").joinpath("targets.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("targets.yaml must hold a mapping of sections")
    sections: dict[str, dict[str, tuple[Alternative, ...]]] = {}
    for section, entries in data.items():
        if not isinstance(entries, dict):
            raise ValueError(f"targets.yaml: section {section!r} must be a mapping")
        sections[str(section)] = {normalise(str(t)): _alternatives(v, f"{section}.{t}") for t, v in entries.items()}
    return sections


def alternatives_for(tool: str, target: str) -> tuple[Alternative, ...]:
    """The alternatives listed for ``target``: the tool's own first, then the shared ones."""
    sections = mapping()
    key = normalise(target)
    return sections.get(tool, {}).get(key, ()) + sections.get("shared", {}).get(key, ())


def _expand(alternative: Alternative, classes: Mapping[str, str]) -> tuple[str, ...] | None:
    """The tool's class names an alternative stands for, or None when the output lacks one."""
    chosen: list[str] = []
    for name in alternative:
        matches = sorted(c for c in classes if fnmatch.fnmatchcase(c, name)) if _GLOB.search(name) else \
            ([name] if name in classes else [])
        if not matches:
            return None
        chosen.extend(classes[m] for m in matches if classes[m] not in chosen)
    return tuple(chosen)


def _listing(names: Iterable[str]) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:SHOWN])
    return shown + (f", ... ({len(ordered)} in all)" if len(ordered) > SHOWN else "")


def classes_for(tool: str, target: str, classes: Iterable[str], where: str) -> tuple[str, ...]:
    """The class names (as the output spells them) whose union is ``target``'s mask.

    ``classes`` are the names the output offers; ``where`` names the output in the error that a
    target without classes raises (`InputError`, one line)."""
    offered = {normalise(c): c for c in classes}
    key = normalise(target)
    if key in offered:
        return (offered[key],)
    listed = alternatives_for(tool, target)
    for alternative in listed:
        chosen = _expand(alternative, offered)
        if chosen is not None:
            return chosen
    has = _listing(offered.values()) or "none"
    if not listed:
        raise InputError(where, f"target {target!r} has no {tool} class of that name and no mapping in "
                                f"eval/adapters/targets.yaml (the output's classes: {has})")
    wanted = " or ".join(" + ".join(a) for a in listed)
    raise InputError(where, f"target {target!r} needs the classes {wanted}, which this output lacks "
                            f"(its classes: {has})")
