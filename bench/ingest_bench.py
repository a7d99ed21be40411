"""Ingest speed: medsee vs dcm2niix (+gzip -1, the floor), dcm2niix -z y and dicom2nifti.

Makes a 512x512x400 uncompressed CT series (200 MB) from the phantom, then times each
converter in interleaved rounds on the same warm page cache and reports medians and the
ratio to the floor. Usage: ``python bench/ingest_bench.py [--slices 400] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from medsee_cli.synth.dicom_series import SeriesOptions, write_ct_series
from medsee_cli.synth.phantom import PhantomOptions, grid_affine, make_phantom


def make_series(folder: Path, size: int, slices: int) -> None:
    marker = folder / ".complete"
    if marker.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    spacing = (350.0 / size, 350.0 / size, 1.0)
    full = grid_affine((size, size, slices), spacing)
    chunk = 50
    hu = np.empty((size, size, slices), dtype=np.int16)
    for k0 in range(0, slices, chunk):
        n = min(chunk, slices - k0)
        affine = full.copy()
        affine[:3, 3] = (full @ np.array([0, 0, k0, 1.0]))[:3]
        hu[:, :, k0 : k0 + n] = make_phantom(PhantomOptions(shape=(size, size, n), spacing=spacing, seed=k0), affine).hu
    write_ct_series(hu, full, folder, SeriesOptions(seed_uids="medsee-bench", series_description="bench"))
    marker.write_text("ok")


def timed(command: list[str] | str, *, shell: bool = False) -> float:
    start = time.perf_counter()
    subprocess.run(command, shell=shell, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "medsee-bench-ct")
    parser.add_argument("--out", type=Path, default=Path("bench/results/ingest.json"))
    args = parser.parse_args()
    source = args.data / f"ct{args.size}x{args.slices}"
    make_series(source, args.size, args.slices)
    work = Path(tempfile.mkdtemp(prefix="medsee-bench-"))
    medsee = [sys.executable, "-m", "medsee_cli", "ingest", str(source), "--json"]
    tools: dict[str, object] = {
        "dcm2niix -z n + gzip -1 (floor)": f"dcm2niix -z n -b n -f x -o {{d}} {source} && gzip -1 {{d}}/x.nii",
        "dcm2niix -z y": f"dcm2niix -z y -b n -f x -o {{d}} {source}",
        "medsee ingest": medsee,
    }
    try:
        import dicom2nifti  # noqa: F401

        tools["dicom2nifti"] = [
            sys.executable, "-c",
            "import sys, dicom2nifti; dicom2nifti.dicom_series_to_nifti(sys.argv[1], sys.argv[2], reorient_nifti=False)",
            str(source),
        ]
    except ImportError:
        print("dicom2nifti not installed: skipped (make bench installs it)")
    times: dict[str, list[float]] = {name: [] for name in tools}
    for round_index in range(args.repeats + 1):  # round 0 warms the page cache and is dropped
        for name, command in tools.items():
            out = work / f"{round_index}-{abs(hash(name))}"
            out.mkdir()
            if isinstance(command, str):
                seconds = timed(command.format(d=out), shell=True)
            elif name == "dicom2nifti":
                seconds = timed([*command, str(out / "x.nii.gz")])  # type: ignore[list-item]
            else:
                seconds = timed([*command, "--out", str(out)])  # type: ignore[list-item]
            if round_index:
                times[name].append(seconds)
            shutil.rmtree(out)
    shutil.rmtree(work)
    floor = statistics.median(times["dcm2niix -z n + gzip -1 (floor)"])
    rows = {name: {"median_s": statistics.median(t), "runs_s": t, "ratio_to_floor": statistics.median(t) / floor}
            for name, t in times.items()}
    result = {"series": f"{args.size}x{args.size}x{args.slices} int16 uncompressed", "repeats": args.repeats, "tools": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"| converter ({args.size}x{args.size}x{args.slices} CT) | median s | x floor |")
    print("|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['median_s']:.2f} | {row['ratio_to_floor']:.2f} |")


if __name__ == "__main__":
    main()
