"""Image input/output: the `Volume` model and readers/writers for NIfTI, NRRD/MHA and DICOM."""

from medsee_cli.io.load import load_volume
from medsee_cli.io.nifti import read_nifti, write_nifti
from medsee_cli.io.volume import DicomRefs, SliceSource, Volume

__all__ = ["DicomRefs", "SliceSource", "Volume", "load_volume", "read_nifti", "write_nifti"]
