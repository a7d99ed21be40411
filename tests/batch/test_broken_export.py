"""A nightly job over an export that holds everything real exports hold: ingest, then segment.

The export is the whole ../shared/data/dicom tree (every broken and odd file in it: a bad
sequence, a too-short JPEG 2000, files without preamble, non-uniform slices, SEGs, SRs,
multi-frame and 4D series) plus what the test breaks: a truncated DICOM file, a zero-byte
``.dcm``, a ``.dcm`` that is text, an unreadable file, a symlink loop and a folder link back to
its parent, and a series with a slice taken out. Every good series must be done, every bad
item named with its reason, and nothing may hang (the CLI runs with a hang guard).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from medsee_cli.services.catalog import Catalog
from medsee_cli.services.segment_batch import BatchOptions, run_batch
from tests.batch.toy import toy_options

FRAG = Path("dcm_qa_frag") / "In"


def broken_export(shared_data: Path, root: Path) -> Path:
    export = root / "export"
    shutil.copytree(shared_data / "dicom", export, symlinks=True)
    for path in [export, *export.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    series = export / FRAG / "5001_anat-T1w_acq-tfl"
    made = export / "made"
    made.mkdir()
    (made / "truncated.dcm").write_bytes((series / "5001010.dcm").read_bytes()[:3000])
    (made / "zero.dcm").write_bytes(b"")
    (made / "notes.dcm").write_text("export log: 12 studies\n")
    unreadable = made / "unreadable.dcm"
    unreadable.write_bytes((series / "5001011.dcm").read_bytes())
    unreadable.chmod(0)
    (made / "loop_a").symlink_to("loop_b")
    (made / "loop_b").symlink_to("loop_a")
    (made / "up").symlink_to("..")
    gap = export / "missing_slice"
    (export / FRAG / "6001_anat-T1w_acq-tfl").rename(gap)
    for lost in gap.glob("6001050_*.dcm"):
        lost.unlink()
    return export


def test_a_broken_export_gives_every_good_series_and_names_every_bad_item(shared_data, tmp_path):
    export = broken_export(shared_data, tmp_path)
    ingest_dir = tmp_path / "ingest"
    done = subprocess.run([sys.executable, "-m", "medsee_cli", "ingest", str(export), "--out", str(ingest_dir),
                           "--verbose"], capture_output=True, text=True, timeout=3600,
                          env=dict(os.environ, COLUMNS="400"))
    assert done.returncode == 1, done.stderr  # some items failed, the others were done
    errors = [line for line in done.stderr.splitlines() if line.startswith("medsee: error:")]
    assert all(": " in line[len("medsee: error: "):] for line in errors)  # ITEM: REASON, one line each
    said = done.stderr + done.stdout

    def reported(name: str, reason: str) -> bool:
        return any(name in line and reason in line for line in said.splitlines())

    assert reported("loop_a", "Too many levels of symbolic links")
    assert reported("loop_b", "Too many levels of symbolic links")
    assert reported("series 6001", "missing slice")
    # named .dcm yet not DICOM: damaged files, so error lines (a file of another kind is only a skip)
    assert any("zero.dcm" in line and "not a DICOM file" in line for line in errors)
    assert any("notes.dcm" in line and "not a DICOM file" in line for line in errors)
    assert any("truncated.dcm" in line and "damaged: an image (MR Image Storage)" in line for line in errors)

    with Catalog(ingest_dir / "catalog.sqlite") as catalog:
        series = catalog.all_series()
    assert any(rec.key.startswith("mr_5001_") and rec.shape == (128, 128, 96) for rec in series)
    assert not any(rec.key.startswith("mr_6001_") for rec in series)  # the series with a gap is not a volume

    summary = run_batch([ingest_dir], BatchOptions(toy_options(tmp_path / "results")))
    assert len(summary.items) == len(series)
    for item in summary.items:
        assert item.status in ("done", "failed")
        assert item.status == "done" or (item.reason and "\n" not in item.reason), item
    assert {i.case for i in summary.items if i.status == "done"} >= {r.key for r in series if r.key.startswith("mr_5001_")}
    assert (tmp_path / "results" / "run.json").is_file()
