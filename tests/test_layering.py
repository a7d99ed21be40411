"""Every import in medsee_cli follows tests/layers.yaml: which part may import which.

Reads the source (no module is imported), so lazy imports inside functions, imports under
``if TYPE_CHECKING:`` and ``importlib.import_module("...")`` strings are checked like the rest.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SPEC_FILE = Path(__file__).with_name("layers.yaml")
PACKAGE = "medsee_cli"
# calls whose first argument names a module: importlib.import_module, __import__, and
# importlib.resources.files (only counted when the string names one of ours)
NAMING_CALLS = ("import_module", "__import__")
RESOURCE_CALLS = ("files",)


@dataclass(frozen=True)
class Imported:
    line: int
    module: str | None  # absolute dotted name; None when the name is computed at run time


def load_spec(path: Path = SPEC_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def module_of(path: Path, root: Path) -> tuple[str, bool]:
    """(dotted module name, is a package ``__init__``) of a file under ``root`` (the repo)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _on_disk(root: Path, name: str) -> bool:
    """Whether ``medsee_cli.<name>`` is a module or subpackage (not a name in ``__init__.py``)."""
    return (root / PACKAGE / name).is_dir() or (root / PACKAGE / f"{name}.py").is_file()


def imports_in(path: Path, root: Path) -> list[Imported]:
    module, is_package = module_of(path, root)
    found: list[Imported] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Imported(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, module, is_package)
            # `from medsee_cli import io` imports the part io; `from medsee_cli import __version__` the package
            found += [Imported(node.lineno, f"{target}.{alias.name}" if target == PACKAGE and _on_disk(root, alias.name)
                               else target) for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            name = _call_name(node.func)
            first = node.args[0]
            literal = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            if name in NAMING_CALLS:
                found.append(Imported(node.lineno, literal))
            elif name in RESOURCE_CALLS and literal and literal.split(".")[0] == PACKAGE:
                found.append(Imported(node.lineno, literal))
    return sorted(found, key=lambda item: item.line)


def part_of(module: str, parts: dict[str, Any]) -> str | None:
    """The spec part a module of ours belongs to (``medsee_cli.io.dicom.header`` -> ``io``)."""
    names = module.split(".")
    if names == [PACKAGE]:
        return "__init__"
    return names[1] if names[1] in parts else None


def check(spec: dict[str, Any], root: Path = REPO) -> list[str]:
    """One line per violation (``file:line: rule``), stale exceptions included."""
    parts: dict[str, Any] = spec["parts"]
    everyone = set(spec.get("everyone_may_import") or [])
    excused = {(e["file"], e["imports"]) for e in spec.get("exceptions") or []}
    used: set[tuple[str, str]] = set()
    problems: list[str] = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        module, _ = module_of(path, root)
        own = part_of(module, parts)
        if own is None:
            problems.append(f"{rel}:1: {module} belongs to no part of {SPEC_FILE.name}: add it there")
            continue
        rule = parts[own]
        allowed = set(rule.get("may_import") or []) | everyone | {own}
        forbidden = set(rule.get("forbidden_third_party") or [])
        for item in imports_in(path, root):
            if item.module is None:
                problems.append(f"{rel}:{item.line}: a module name computed at run time cannot be checked; "
                                f"import it by name")
                continue
            top = item.module.split(".")[0]
            if top == PACKAGE:
                target = part_of(item.module, parts)
                if target is None:
                    problems.append(f"{rel}:{item.line}: {item.module} belongs to no part of {SPEC_FILE.name}")
                    continue
                if target in allowed:
                    continue
                why = f"{own} may not import {target} (may import: {', '.join(sorted(allowed - {own})) or 'nothing'})"
            elif top in forbidden:
                target, why = top, f"{own} may not import third-party {top}"
            else:
                continue
            if (rel, target) in excused:
                used.add((rel, target))
                continue
            problems.append(f"{rel}:{item.line}: {why} [{item.module}]")
    problems += [f"{file}: stale exception for {target} in {SPEC_FILE.name}: nothing imports it any more"
                 for file, target in sorted(excused - used)]
    return problems


def test_every_import_follows_the_layer_spec() -> None:
    problems = check(load_spec())
    assert not problems, "\n" + "\n".join(problems)


def test_spec_names_each_part_once_and_only_real_ones() -> None:
    spec = load_spec()
    parts = spec["parts"]
    package = REPO / PACKAGE
    on_disk = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    on_disk |= {p.stem for p in package.glob("*.py")}
    assert set(parts) == on_disk
    for name, rule in parts.items():
        assert set(rule) == {"may_import", "forbidden_third_party"}, name
        assert set(rule["may_import"]) <= set(parts) - {name, "__main__"}, name
    for exception in spec["exceptions"]:
        assert (REPO / exception["file"]).is_file(), exception
        assert exception.get("why", "").strip(), f"an exception needs its reason: {exception}"


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _toy_package(root: Path) -> None:
    for rel in ("medsee_cli/__init__.py", "medsee_cli/errors.py", "medsee_cli/io/__init__.py",
                "medsee_cli/io/dicom/__init__.py", "medsee_cli/engine/__init__.py"):
        _write(root, rel, "")


TOY_SPEC: dict[str, Any] = {
    "everyone_may_import": ["__init__"],
    "parts": {
        "__init__": {"may_import": [], "forbidden_third_party": []},
        "errors": {"may_import": [], "forbidden_third_party": []},
        "io": {"may_import": ["errors"], "forbidden_third_party": ["torch"]},
        "engine": {"may_import": ["errors", "io"], "forbidden_third_party": []},
    },
    "exceptions": [],
}


def test_lazy_relative_and_string_imports_are_caught(tmp_path: Path) -> None:
    _toy_package(tmp_path)
    _write(tmp_path, "medsee_cli/io/dicom/reader.py", "\n".join([
        "import numpy",                                          # 1: allowed third party
        "from medsee_cli import __version__",                    # 2: the package: allowed
        "from ...errors import InputError",                      # 3: relative, allowed
        "def read():",                                           # 4
        "    import torch.nn",                                   # 5: lazy, forbidden third party
        "    from ...engine import stream",                      # 6: relative, upward
        "    importlib.import_module('medsee_cli.engine.x')",    # 7: by string
        "    importlib.import_module(name)",                     # 8: computed
        "    from medsee_cli import engine",                     # 9: part named as a name
        "    resources.files('medsee_cli.engine')",              # 10: package data of another part
        "    resources.files(__package__)",                      # 11: own data, not a name
        "",
    ]))
    _write(tmp_path, "medsee_cli/engine/stream.py", "from medsee_cli.io.dicom import reader\nimport torch\n")
    problems = check(TOY_SPEC, root=tmp_path)
    where = [line.split(": ", 1)[0] for line in problems]
    assert where == [f"medsee_cli/io/dicom/reader.py:{n}" for n in (5, 6, 7, 8, 9, 10)]
    assert problems[0].endswith("io may not import third-party torch [torch.nn]")
    assert "io may not import engine (may import: __init__, errors)" in problems[1]


def test_an_exception_excuses_one_file_and_goes_stale_when_unused(tmp_path: Path) -> None:
    _toy_package(tmp_path)
    _write(tmp_path, "medsee_cli/io/probe.py", "def f():\n    import torch\n")
    spec = {**TOY_SPEC, "exceptions": [
        {"file": "medsee_cli/io/probe.py", "imports": "torch", "why": "toy"},
        {"file": "medsee_cli/io/__init__.py", "imports": "engine", "why": "toy"},
    ]}
    assert check(spec, root=tmp_path) == [
        "medsee_cli/io/__init__.py: stale exception for engine in layers.yaml: nothing imports it any more"
    ]


def test_a_file_outside_every_part_is_reported(tmp_path: Path) -> None:
    _toy_package(tmp_path)
    _write(tmp_path, "medsee_cli/plugins/__init__.py", "")
    assert check(TOY_SPEC, root=tmp_path) == [
        "medsee_cli/plugins/__init__.py:1: medsee_cli.plugins belongs to no part of layers.yaml: add it there"
    ]
