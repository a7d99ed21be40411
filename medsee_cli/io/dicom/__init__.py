"""DICOM input: discovery of series in trees and zips, sorting, geometry, pixel decoding.

Every 2D frame (a classic single-frame file, or one frame of an enhanced multi-frame object)
becomes one `FrameHeader`; series assembly works on those records alone, and pixels are
decoded only once a series is known to be consistent.
"""
