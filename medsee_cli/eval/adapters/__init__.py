"""Reading other tools' output folders as predictions, so they are scored on medsee's terms.

``open_adapter(name, folder)`` gives the `PredictionSource` for one layout (``ADAPTERS``; the
default ``medsee`` is `SavedPredictions`). The 3D tools predict whole cases: their adapters read
one output per case (``EvalItem.case_id``), keep the last one decoded, and give a 3D item the
case's mask and a 2D item cut from the case (``EvalItem.cut``) `plane_of` it. Which of a tool's
classes make a target is data: ``targets.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medsee_cli.errors import UsageError
from medsee_cli.eval.adapters.medsam import MedSAMOutput
from medsee_cli.eval.adapters.nnunet import NnUNetOutput
from medsee_cli.eval.adapters.totalsegmentator import TotalSegmentatorOutput
from medsee_cli.eval.predictions import SavedPredictions
from medsee_cli.eval.predictor import PredictionSource

_OPENERS: dict[str, tuple[Callable[[Path], PredictionSource], str]] = {
    "medsee": (SavedPredictions, "DIR/ITEM_ID.{png,nii.gz,nii,nrrd,mha,npy} or DIR/ITEM_ID/mask.* "
                                 "(+ ITEM_ID.json / boxes.json), as `medsee segment --out` writes"),
    "totalsegmentator": (TotalSegmentatorOutput, "DIR/CASE/<class>.nii.gz (its default output) or DIR/CASE.nii.gz "
                                                 "(--ml) named by CASE.json, labels.json or dataset.json"),
    "nnunet": (NnUNetOutput, "DIR/CASE.nii.gz label maps (dataset.json's file_ending) named by DIR/dataset.json"),
    "medsam": (MedSAMOutput, "DIR/ITEM_ID.npz (non-zero = target) or DIR/CASE.npz named by CASE.json or "
                             "labels.json; key 'segs', [z, y, x] or [row, col]"),
}

ADAPTERS: tuple[str, ...] = tuple(_OPENERS)
DEFAULT_ADAPTER = "medsee"
ADAPTER_DOCS = "\n".join(f"{name}: {doc}" for name, (_, doc) in _OPENERS.items())


def open_adapter(name: str, folder: Path) -> PredictionSource:
    """The prediction source reading ``folder`` in the layout ``name`` (one of `ADAPTERS`)."""
    opener = _OPENERS.get(name.strip().lower())
    if opener is None:
        raise UsageError("--adapter", f"unknown adapter {name!r}; one of: {', '.join(ADAPTERS)}")
    return opener[0](folder)


__all__ = ["ADAPTERS", "ADAPTER_DOCS", "DEFAULT_ADAPTER", "MedSAMOutput", "NnUNetOutput", "TotalSegmentatorOutput",
           "open_adapter"]
