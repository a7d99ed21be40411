"""`segment` batch throughput: one case after another vs. the local pipeline's settings.

Inputs (all real, from ../shared/data): the two Siemens JPEG-lossless / JPEG 2000 DICOM series
of dcm_qa_frag (96 files each: DICOM decoding is real I/O work) and two of the DeepLesion CT
slabs. The model is the shipped one, target ``liver``, the CLI's engine defaults. Settings:

- ``serial``: every case read, run and written on one thread (medsee before ``--workers``),
- ``workers=2``: the pipeline (`services.pipeline`): two threads read and write,
- ``workers=2, cases_at_once=2``: two cases on the model at once, shared encoder batches.

Each setting runs the batch ``--repeats`` times into fresh folders in one process after a
warm-up case (the model loaded once); the median wall time per batch is printed, with the
ratio to ``serial``. Results of every setting are checked equal to ``serial``'s (masks).

    .venv/bin/python bench/segment_workers.py [--repeats 3] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from medsee_cli.io.data_root import data_root
from medsee_cli.services.batch_inputs import list_cases
from medsee_cli.services.execution import Execution
from medsee_cli.services.segment import SegmentOptions, segment

SETTINGS = {"serial": None, "workers=2": Execution(workers=2),
            "workers=2, cases_at_once=2": Execution(workers=2, cases_at_once=2)}


def inputs(data: Path) -> list[Path]:
    frag = data / "dicom" / "dcm_qa_frag" / "In"
    slabs = sorted((data / "ct" / "lesions_deeplesion").glob("case_*_image.nii.gz"))[:2]
    return [p for p in sorted(frag.iterdir()) if p.is_dir()] + slabs


@dataclass(frozen=True)
class Opened:
    """The shipped checkpoint, opened once for every setting (its identity as `segment`'s)."""

    identity: str
    trained_targets: tuple[str, ...]
    opened: tuple[Any, Any]

    def open(self, options: object) -> tuple[Any, Any]:
        return self.opened


def run_serial(images: list[Path], options: SegmentOptions) -> None:
    """The old way: each case's three stages on this thread."""
    from medsee_cli.engine.progress import silent
    from medsee_cli.services.case_key import result_options
    from medsee_cli.services.segment import check_segment
    from medsee_cli.services.segment_case import CaseRunner

    names, texts, loader = check_segment(options)
    runner = CaseRunner(options, loader, names, texts,
                        result_options(options.targets, options.prompts, options.formats, options.engine), silent)
    for case in list_cases(images):
        assert runner.case(case).ok


def run_setting(images: list[Path], out: Path, execution: Execution | None, loader: Opened) -> float:
    options = SegmentOptions(out=out, targets=("liver",), execution=execution or Execution(), loader=loader)
    out.mkdir(parents=True)
    started = time.perf_counter()
    if execution is None:
        run_serial(images, options)
    else:
        for result in segment(images, options):
            assert result.ok, result.error
    return time.perf_counter() - started


def masks(out: Path) -> dict[str, bytes]:
    return {p.parent.name: np.asarray(nib.load(p).dataobj).tobytes() for p in sorted(out.glob("*/mask.nii.gz"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    images = inputs(data_root(args.data))
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.services.segment_model import checkpoint_loader

    checkpoint = checkpoint_loader("medsee-grounding-v1")
    loader = Opened(checkpoint.identity, checkpoint.trained_targets, checkpoint.open(EngineOptions()))
    work = Path(tempfile.mkdtemp(prefix="medsee-bench-workers-"))
    try:
        run_setting(images[-1:], work / "warm-up", None, loader)
        times: dict[str, list[float]] = {name: [] for name in SETTINGS}
        reference: dict[str, bytes] = {}
        for repeat in range(args.repeats):
            for name, execution in SETTINGS.items():  # interleaved: machine load hits every setting alike
                out = work / f"{name.replace(', ', '_')}-{repeat}"
                times[name].append(run_setting(images, out, execution, loader))
                print(f"run {repeat + 1} {name}: {times[name][-1]:.1f} s", flush=True)
                got = masks(out)
                reference = reference or got
                assert got == reference, f"{name}: masks differ from the first run's"
                shutil.rmtree(out)
        base = statistics.median(times["serial"])
        print(f"{len(images)} cases (2 JPEG DICOM series x 96 files, 2 CT slabs), target liver, {args.repeats} repeats")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:28s} median {median:7.1f} s  (runs {', '.join(f'{v:.1f}' for v in values)})  "
                  f"x{base / median:.2f} vs serial")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
