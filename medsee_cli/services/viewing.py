"""How to open a result folder in common viewers: two lines the answer of `ask` ends with.

Only what those viewers document is said (README "Looking at the result"):

- **ITK-SNAP** opens an image with a label map from the command line: ``itksnap -g IMAGE -s
  mask.nii.gz`` (NIfTI/NRRD/MetaImage sources).
- **3D Slicer** loads a NIfTI label map as a segmentation when, in ``File > Add Data``, its
  ``Description`` is set to ``Segmentation``; DICOM goes through the DICOM module (import, then
  load), and a DICOM-SEG needs the QuantitativeReporting extension.
- **OHIF with Orthanc** (or any DICOMweb PACS): ``seg.dcm`` stored next to its series is one more
  series (modality SEG) of the same study, which OHIF draws over the images it references.
"""

from __future__ import annotations

import shlex
from typing import Optional


def how_to_view(image: str, outputs: dict[str, Optional[str]], *, dicom: bool) -> tuple[str, ...]:
    """One line per viewer for the files in ``outputs`` (none when no mask was written).
    ``image``: the input as the user gave it; ``dicom``: whether it is a DICOM series."""
    mask, seg = outputs.get("mask"), outputs.get("dicom_seg")
    if seg:
        return (f"View in 3D Slicer: import {image} and {seg} in the DICOM module, then load them "
                "(a DICOM-SEG needs the QuantitativeReporting extension).",
                f"View in OHIF/Orthanc: store {seg} in the PACS that holds the series (Orthanc: upload it in "
                "Orthanc Explorer or POST it to /instances); the study then shows it as a SEG series.")
    if not mask:
        return ()
    slicer = f"View in 3D Slicer: File > Add Data with {mask}, its Description set to Segmentation"
    if dicom:
        return (f"{slicer}, after loading {image} in the DICOM module.",)
    return (f"View in ITK-SNAP: itksnap -g {shlex.quote(image)} -s {shlex.quote(mask)}",
            f"{slicer}, together with {image}.")
