"""How often each DICOM source file is read in one run, and how long the run takes (issue 13).

One run is what ``ask``/``segment`` do with a DICOM series around the model: `read_input` (header
scan, pixel decoding) and `write_result` with DICOM-SEG and RTSTRUCT (two labels on the source
grid). The first run counts, per source file, the opens (``open()``) and the pydicom parses
(``pydicom.dcmread``); three more runs, uncounted, give the median wall time of reading, writing
and both. Run it on the tree to measure, e.g. the one before a change with
``PYTHONPATH=/tmp/before .venv/bin/python bench/dicom_reads.py`` (it prints which medsee it ran).

Usage: ``python bench/dicom_reads.py [SERIES_FOLDER] [--repeats 3]`` (default: the GE MR 3D T1,
130 native files, from the shared data folder).
"""

from __future__ import annotations

import argparse
import builtins
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

import medsee_cli
from medsee_cli.io.data_root import data_root
from medsee_cli.services.inputs import read_input
from medsee_cli.writers import LabelTable, WriterOptions, write_result

DEFAULT_SERIES = "dicom/dcm_qa_ge/In/05_3D_Ax_T1_MP_RAGE_R22"
FORMATS = ("dicom-seg", "rtstruct")


def one_run(series: Path, out: Path) -> tuple[float, float]:
    """(seconds reading, seconds writing) of one read + SEG/RTSTRUCT write."""
    start = time.perf_counter()
    volume = read_input(series)
    read = time.perf_counter() - start
    labelmap = np.zeros(volume.spatial_shape, np.uint8)
    ni, nj, nk = volume.spatial_shape
    labelmap[ni // 8: ni // 2, nj // 4: nj // 2, 1: max(2, nk - 1)] = 1
    labelmap[ni // 2: ni - ni // 8, nj // 2: nj - nj // 8, nk // 2: nk // 2 + 1] = 2
    start = time.perf_counter()
    result = write_result(volume, labelmap, LabelTable.from_names({1: "liver", 2: "spleen"}), out,
                          WriterOptions(formats=FORMATS, overwrite=True))
    write = time.perf_counter() - start
    if result.skipped:
        raise SystemExit(f"not written: {result.skipped}")
    return read, write


def counted_run(series: Path, out: Path) -> tuple[Counter[str], Counter[str]]:
    """(opens, parses) per source file during one run."""
    root = os.path.realpath(series) + os.sep
    opens: Counter[str] = Counter()
    parses: Counter[str] = Counter()
    lock = threading.Lock()
    real_open, real_io_open, real_dcmread = builtins.open, io.open, pydicom.dcmread

    def count(counter: Counter[str], name: Any) -> None:
        if isinstance(name, (str, os.PathLike)) and os.path.realpath(os.fspath(name)).startswith(root):
            with lock:
                counter[os.path.realpath(os.fspath(name))] += 1

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, *args, **kwargs)
        count(opens, file)
        return handle

    def counting_dcmread(fp: Any, *args: Any, **kwargs: Any) -> Any:
        count(parses, fp if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", None))
        return real_dcmread(fp, *args, **kwargs)

    builtins.open = io.open = counting_open  # type: ignore[assignment]
    pydicom.dcmread = counting_dcmread
    try:
        one_run(series, out)
    finally:
        builtins.open, io.open, pydicom.dcmread = real_open, real_io_open, real_dcmread
    return opens, parses


def per_file(counter: Counter[str], files: list[str]) -> str:
    spread = Counter(counter[f] for f in files)
    return ", ".join(f"{n} file(s) x{times}" for times, n in sorted(spread.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("series", nargs="?", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    series = args.series or (data_root() or Path("../shared/data")) / DEFAULT_SERIES
    files = sorted(os.path.realpath(p) for p in series.iterdir() if p.is_file())
    print(f"medsee: {Path(medsee_cli.__file__).parent}")
    print(f"series: {series} ({len(files)} files)")
    with tempfile.TemporaryDirectory() as tmp:
        opens, parses = counted_run(series, Path(tmp) / "counted")
        print(f"opens per file:  {per_file(opens, files)}")
        print(f"parses per file: {per_file(parses, files)} (pydicom.dcmread)")
        times = [one_run(series, Path(tmp) / f"run{n}") for n in range(args.repeats)]
    reads, writes = [t[0] for t in times], [t[1] for t in times]
    totals = [r + w for r, w in times]
    print(f"wall time, median of {args.repeats}: read {statistics.median(reads):.3f} s, "
          f"write SEG+RTSTRUCT {statistics.median(writes):.3f} s, total {statistics.median(totals):.3f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
