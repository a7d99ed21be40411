"""`medsee models`: the named model checkpoints installed on this machine."""

from __future__ import annotations

import typer

from medsee_cli.cli.boundary import boundary
from medsee_cli.cli.pending import not_yet

app = typer.Typer(help="List, describe and verify the model checkpoints installed here.", no_args_is_help=True)


@app.command("list")
@boundary
def list_models() -> None:
    """List the named checkpoints."""
    not_yet("models list", "it arrives with the model work")
