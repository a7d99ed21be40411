"""One target's mask from a named label map: target -> classes -> label values -> mask on the item's grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsee_cli.eval.adapters.grid import CaseGrid, on_item_grid
from medsee_cli.eval.adapters.label_names import LabelNames
from medsee_cli.eval.adapters.targets import classes_for
from medsee_cli.eval.items import EvalItem, Sample


def values_for(tool: str, target: str, names: LabelNames, where: Path) -> tuple[int, ...]:
    """The label values whose union is ``target`` (`targets.yaml`'s rule over ``names``)."""
    classes = classes_for(tool, target, names, str(where))
    return tuple(sorted({value for name in classes for value in names[name]}))


def mask_of(grid: CaseGrid, values: tuple[int, ...], item: EvalItem, sample: Sample) -> np.ndarray:
    """Where the label map equals one of ``values``, on the item's grid (a plane is cut first)."""
    placed = on_item_grid(grid, item, sample)
    if len(values) == 1:
        return np.asarray(placed == values[0])
    return np.isin(placed, values)
