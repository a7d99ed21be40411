"""Evaluation datasets by name: each loader validates its layout and returns a `Dataset`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medsee_cli.errors import UsageError
from medsee_cli.eval.items import Dataset
from medsee_cli.eval.options import EvalOptions

SEGMENTATION_DATASETS = ("refhl-seg", "mlmr-sd", "manifest", "builtin")
ALL_DATASETS = (*SEGMENTATION_DATASETS, "reasoning")


def _loader(name: str) -> Callable[[Path, EvalOptions], Dataset]:
    if name == "refhl-seg":
        from medsee_cli.eval.datasets.refhl_seg import load_refhl_seg

        return load_refhl_seg
    if name == "mlmr-sd":
        from medsee_cli.eval.datasets.mlmr_sd import load_mlmr_sd

        return load_mlmr_sd
    if name == "manifest":
        from medsee_cli.eval.datasets.manifest import load_manifest

        return load_manifest
    raise UsageError(f"--dataset {name}", f"unknown dataset (choose one of {', '.join(ALL_DATASETS)})")


def load_dataset(name: str, root: Path | None, options: EvalOptions) -> Dataset:
    """Open dataset ``name`` at ``root`` (``builtin`` finds the shared data folder itself)."""
    if name == "builtin":
        from medsee_cli.eval.datasets.builtin import load_builtin

        return load_builtin(root, options)
    if name == "reasoning":
        raise UsageError(f"--dataset {name}", "question sets are scored by `medsee eval --dataset reasoning --root FILE.jsonl`")
    loader = _loader(name)
    if root is None:
        raise UsageError("--root", f"--dataset {name} needs --root (its folder or annotation file)")
    return loader(root, options)
