"""A `segment` batch on the toy engine (tests/engine/toy.py): the real services, no real model.

`ToyLoader` is the `ModelLoader` seam of `SegmentOptions`; "liver" is whatever is brighter than
1500. Run as a module it is a batch job a test can kill: ``python -m tests.batch.toy [--ray] OUT INPUT...``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.io import write_nifti
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.services.segment import SegmentOptions
from medsee_cli.services.segment_batch import BatchOptions, run_batch
from tests.engine.toy import BrightModel, vectors

TOY_ENGINE = EngineOptions(device="cpu", precision="fp32", skip_stride=1, presence_threshold=0.5,
                           plausible_threshold=0.25, min_component_voxels=1, min_component_slices=1, refine=False)


class ToyTexts(TargetTexts):
    def __init__(self) -> None:  # no sentence encoder: the toy's "vectors" are levels
        self._cache = {}

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        return vectors(list(texts))


@dataclass(frozen=True)
class ToyLoader:
    identity: str = "toy-bright@1"
    trained_targets: tuple[str, ...] = ()

    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]:
        return SliceEngine(BrightModel(), options), ToyTexts()


def toy_options(out: Path, **changes: object) -> SegmentOptions:
    values: dict[str, object] = dict(out=out, targets=("liver",), engine=TOY_ENGINE, loader=ToyLoader())
    values.update(changes)
    return SegmentOptions(**values)  # type: ignore[arg-type]


def comparable(folder: Path) -> dict[str, object]:
    """A case folder's content: every file's bytes, but provenance.json without its time and
    done.json without provenance.json's digest (the only things a later run writes anew)."""
    seen: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.name == "provenance.json":
            doc = json.loads(path.read_text())
            doc.pop("created_utc")
            seen[path.name] = doc
        elif path.name == "done.json":
            doc = json.loads(path.read_text())
            doc["files"].pop("provenance.json")
            seen[path.name] = doc
        else:
            seen[path.name] = path.read_bytes()
    return seen


def ball_ct(path: Path, centre: tuple[int, int, int], shape: tuple[int, int, int] = (48, 40, 16)) -> Path:
    """A small CT-like NIfTI holding one bright (2000) ball."""
    from medsee_cli.io.volume import Volume

    data = np.full(shape, -1000, dtype=np.int16)
    data[4:-4, 4:-4, :] = 40
    ii, jj, kk = np.ogrid[:shape[0], :shape[1], :shape[2]]
    data[(ii - centre[0]) ** 2 + (jj - centre[1]) ** 2 + (kk - centre[2]) ** 2 <= 36] = 2000
    write_nifti(Volume(data, np.diag([0.8, 0.8, 2.5, 1.0]), modality="CT"), path)
    return path


if __name__ == "__main__":
    from medsee_cli.services.execution import Execution

    arguments = sys.argv[1:]
    execution = Execution()
    if arguments[0] == "--ray":  # python -m tests.batch.toy --ray OUT INPUT...: two Ray workers
        arguments, execution = arguments[1:], Execution(executor="ray", workers=2)
    out, *inputs = arguments
    summary = run_batch(inputs, BatchOptions(toy_options(Path(out), execution=execution), log=Path(out) / "log.jsonl"))
    sys.exit(int(summary.exit_code))
