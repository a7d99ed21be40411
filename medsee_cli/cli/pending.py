"""Commands whose implementation has not landed yet: they exist in --help and say so clearly."""

from __future__ import annotations

from medsee_cli.errors import NotYetAvailable


def not_yet(command: str, issue: str) -> None:
    raise NotYetAvailable(f"'medsee {command}' is not yet available in this version ({issue})")
