"""`FolderSource`: what every adapter shares: its predictions folder and how it names itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsee_cli.errors import InputError


class FolderSource:
    """A prediction source reading one folder in the layout of the tool ``tool``."""

    tool = ""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise InputError(str(folder), "predictions folder not found")
        self.folder = folder

    def identity(self) -> dict[str, Any]:
        """The predictions scored, for the report's provenance: layout, folder, file count and hash."""
        from medsee_cli.eval.provenance import folder_sha256

        files, digest = folder_sha256(self.folder)
        return {"kind": "predictions", "adapter": self.tool, "folder": str(self.folder), "files": files, "sha256": digest}
