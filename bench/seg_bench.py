"""How much time medsee's DICOM-SEG writer adds over highdicom's own construction.

A 512x512x300 CT geometry with 5 segments (label map, ~15% of voxels labelled). Both sides get
the same source headers; highdicom gets the frame stack directly, medsee the ``[i, j, k]`` label
map it holds in memory. Run: ``.venv/bin/python bench/seg_bench.py [repeats]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, generate_uid

from medsee_cli.io.volume import LPS_FROM_RAS, DicomRefs, SliceSource, Volume
from medsee_cli.reasoning.codes import Code
from medsee_cli.writers.dicom_seg import build_seg
from medsee_cli.writers.dicom_source import SourceSeries
from medsee_cli.writers.labels import ANATOMICAL_STRUCTURE, Label, LabelTable
from medsee_cli.writers.options import WriterOptions

NI, NJ, NK, SPACING = 512, 512, 300, (0.7, 0.7, 1.5)
CODES = [("10200004", "Liver"), ("78961009", "Spleen"), ("64033007", "Kidney"), ("15776009", "Pancreas"),
         ("15825003", "Aorta")]


def headers() -> list[Dataset]:
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    out = []
    for k in range(NK):
        ds = Dataset()
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Bench^Phantom", "B1", "", "O"
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = "20240101", "1200", "1", "", ""
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-180.0, -180.0, k * SPACING[2]]
        ds.PixelSpacing, ds.SliceThickness = [SPACING[1], SPACING[0]], SPACING[2]
        ds.Rows, ds.Columns = NJ, NI
        out.append(ds)
    return out


def labelmap() -> np.ndarray:
    lm = np.zeros((NI, NJ, NK), np.uint8)
    ii, jj = np.mgrid[:NI, :NJ]
    for n, (ci, cj, r) in enumerate([(180, 250, 110), (360, 260, 50), (300, 340, 30), (240, 320, 35), (256, 300, 12)]):
        disk = (ii - ci) ** 2 + (jj - cj) ** 2 < r * r
        lm[:, :, 40 + 20 * n: 260 - 10 * n][disk] = n + 1
    return lm


def main(repeats: int = 1) -> None:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    sources = headers()
    lm = labelmap()
    lps = np.diag([SPACING[0], SPACING[1], SPACING[2], 1.0])
    lps[:3, 3] = (-180.0, -180.0, 0.0)
    refs = DicomRefs(sources[0].StudyInstanceUID, sources[0].SeriesInstanceUID, sources[0].FrameOfReferenceUID,
                     CTImageStorage, "1.2.840.10008.1.2.1",
                     tuple(SliceSource(str(ds.SOPInstanceUID), f"mem{k}") for k, ds in enumerate(sources)))
    volume = Volume(dataobj=lm, affine=LPS_FROM_RAS @ lps, modality="CT", refs=refs)
    table = LabelTable(tuple(Label(n + 1, m.lower(), Code(c, m), ANATOMICAL_STRUCTURE) for n, (c, m) in enumerate(CODES)))
    source = SourceSeries(tuple(sources), None, NJ, NI)
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=n + 1, segment_label=m, segmented_property_category=codes.SCT.AnatomicalStructure,
            segmented_property_type=hd.sr.CodedConcept(c, "SCT", m), algorithm_type="AUTOMATIC",
            algorithm_identification=hd.AlgorithmIdentificationSequence("bench", codes.cid7162.ArtificialIntelligence, "1"))
        for n, (c, m) in enumerate(CODES)
    ]
    frames = np.ascontiguousarray(lm.transpose(2, 1, 0))  # what a highdicom user would hand over
    for seg_type in ("BINARY", "LABELMAP"):
        syntax = "1.2.840.10008.1.2.5" if seg_type == "LABELMAP" else "1.2.840.10008.1.2.1"
        t_hd, t_ms = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            hd.seg.Segmentation(source_images=sources, pixel_array=frames, segmentation_type=seg_type,
                                segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=900,
                                sop_instance_uid=hd.UID(), instance_number=1, manufacturer="bench",
                                manufacturer_model_name="bench", software_versions="1", device_serial_number="0",
                                transfer_syntax_uid=syntax, omit_empty_frames=True)
            t_hd.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            build_seg(volume, lm, table, WriterOptions(seg_type=seg_type), source)
            t_ms.append(time.perf_counter() - t0)
        a, b = min(t_hd), min(t_ms)
        print(f"{seg_type:8s} highdicom {a:6.2f} s   medsee {b:6.2f} s   ratio {b / a:4.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
