"""Best-effort control of NumPy's OpenBLAS thread count, for small matrix products.

One short sentence is a few dozen small products; spreading each over several threads costs more
in hand-offs than it saves, and on a busy machine it can be several times slower. When the
OpenBLAS that NumPy bundles cannot be found, ``blas_threads`` does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from pathlib import Path
from typing import Iterator, Optional

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


@functools.lru_cache(maxsize=1)
def _openblas() -> Optional[tuple]:
    import numpy

    folder = Path(numpy.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(folder.glob("*openblas*.so*")) if folder.is_dir() else ():
        try:
            lib = ctypes.CDLL(str(path))  # already loaded by numpy: this returns the same handle
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
            return setter, getter
    return None


@contextlib.contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` OpenBLAS threads, then restore the previous count."""
    found = _openblas()
    if found is None:
        yield
        return
    setter, getter = found
    previous = getter()
    setter(count)
    try:
        yield
    finally:
        setter(previous)
