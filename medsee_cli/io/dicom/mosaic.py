"""Siemens MOSAIC frames (many slices tiled in one image), through nibabel's DICOM wrappers."""

from __future__ import annotations

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.dicom.access import Location, read_dataset
from medsee_cli.io.dicom.series import SeriesPlan


def decode_mosaic(plan: SeriesPlan) -> tuple[np.ndarray, np.ndarray]:
    """(array ``[i, j, k(, t)]``, LPS affine) of a mosaic series, one file per volume."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from nibabel.nicom import dicomwrappers

    volumes = []
    affine = None
    for frame in plan.frames:
        try:
            ds = read_dataset(Location.parse(frame.location))
            wrapper = dicomwrappers.wrapper_from_data(ds)
            data = np.asarray(wrapper.get_data())
            this_affine = np.asarray(wrapper.affine, dtype=np.float64)
        except Exception as exc:
            raise InputError(frame.location, f"mosaic cannot be decoded ({exc})") from exc
        if affine is None:
            affine = this_affine
        volumes.append(data)
    assert affine is not None
    shapes = {v.shape for v in volumes}
    if len(shapes) != 1:
        raise InputError(plan.label, "mosaic volumes differ in size")
    array = volumes[0] if len(volumes) == 1 else np.stack(volumes, axis=-1)
    if np.all(array == np.round(array)) and array.min() >= -32768 and array.max() <= 32767:
        array = array.astype(np.int16)
    else:
        array = array.astype(np.float32)
    return np.asfortranarray(array), affine
