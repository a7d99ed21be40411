"""Reading one input for a service: its volume, or that item's one-line `InputError`.

Shared by `ask` and `segment`: a reader's failure on one file becomes an `InputError` naming the
file (exit 1), so one bad file never ends a batch or reads as an internal error; the engine
segments 3D volumes, so a 4D image fails here, before the model runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from medsee_cli.errors import InputError, MedseeError
from medsee_cli.io.volume import Volume


def read_input(image: str | Path, series: Optional[str] = None) -> Volume:
    """The input's volume; whatever a reader raises on it becomes that item's `InputError`."""
    from medsee_cli.io import load_volume

    try:
        return load_volume(image, series=series)
    except MedseeError:
        raise
    except MemoryError:
        raise InputError(str(image), "cannot be read (its header asks for more memory than there is)") from None
    except Exception as exc:  # a reader's failure on one file
        reason = " ".join(str(exc).split())[:200]
        raise InputError(str(image), f"cannot be read ({exc.__class__.__name__}: {reason})") from exc


def require_3d(volume: Volume, item: str) -> None:
    """A 4D (time series, multi-echo) image fails before the model runs."""
    if volume.n_volumes > 1:
        raise InputError(item, f"is 4D ({volume.n_volumes} volumes of {'x'.join(map(str, volume.spatial_shape))}); "
                               "medsee segments 3D images (pick one volume first)")
