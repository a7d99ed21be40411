"""Make `sample_data/`: the phantom abdomen with a jaundice finding and a normal one.

``python -m medsee_cli.synth.sample sample_data`` writes, deterministically (fixed seed and UIDs):
- ``abdomen_jaundice.nii.gz`` + ``abdomen_jaundice_labels.nii.gz`` (label ids in labels.json)
- ``abdomen_jaundice_dicom/`` the same volume as a CT series, JPEG-LS lossless
- ``abdomen_normal.nii.gz`` + labels: the same anatomy without the mass and dilated ducts
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

from medsee_cli.synth.dicom_series import SeriesOptions, write_ct_series
from medsee_cli.synth.phantom import LABELS, PhantomOptions, make_phantom

JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"


def _save(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
    img = nib.Nifti1Image(array, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    img.header.set_xyzt_units("mm", "sec")
    nib.save(img, str(path))


def write_sample_data(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case in ("jaundice", "normal"):
        phantom = make_phantom(PhantomOptions(case=case, seed=7))
        for suffix, array in (("", phantom.hu), ("_labels", phantom.labels)):
            path = folder / f"abdomen_{case}{suffix}.nii.gz"
            _save(array, phantom.affine, path)
            written.append(path)
        if case == "jaundice":
            options = SeriesOptions(
                transfer_syntax=JPEG_LS_LOSSLESS,
                seed_uids="medsee-sample-abdomen-jaundice",
                series_description="medsee synthetic abdomen (jaundice case)",
            )
            written += write_ct_series(phantom.hu, phantom.affine, folder / "abdomen_jaundice_dicom", options)
    labels = folder / "labels.json"
    labels.write_text(json.dumps({str(k): v for k, v in LABELS.items()}, indent=1) + "\n")
    written.append(labels)
    return written


if __name__ == "__main__":
    paths = write_sample_data(Path(sys.argv[1] if len(sys.argv) > 1 else "sample_data"))
    print(f"wrote {len(paths)} files")
