"""Synthetic data the project makes itself: an abdominal CT phantom and DICOM series writers."""
