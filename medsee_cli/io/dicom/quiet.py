"""Keep pydicom from printing warnings and tracebacks for every odd file in a PACS export.

medsee reports each problem as one line of its own; pydicom's own messages (which may quote
attribute values) are only shown with ``--debug``.
"""

from __future__ import annotations

import logging
import warnings

_done = {"quiet": False}


def quiet_pydicom() -> None:
    if _done["quiet"]:
        return
    import pydicom.config

    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    logger = logging.getLogger("pydicom")
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module=r"pydicom(\..*)?")
    _done["quiet"] = True
