"""The `medsee` typer application: global options and the list of subcommands.

Each subcommand lives in its own ``*_cmd`` module and is one library call plus rendering.
Heavy libraries (torch, pydicom, nibabel) are imported inside the commands so that
``medsee --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from medsee_cli import __version__
from medsee_cli.cli import ask_cmd, eval_cmd, export_cmd, ingest_cmd, models_cmd, segment_cmd, train_cmd
from medsee_cli.cli.boundary import MedseeGroup, set_debug

app = typer.Typer(
    name="medsee",
    cls=MedseeGroup,
    help=(
        "Ask a CT or MR scan a question in plain words and get pixels back: masks, boxes, "
        "measurements and files radiology software opens."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"medsee {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="MEDSEE_DEBUG", help="Show tracebacks and debug logs."),
    ] = False,
) -> None:
    """Ask a CT or MR scan a question in plain words and get pixels back."""
    set_debug(debug)


app.command("ingest")(ingest_cmd.ingest)
app.command("ask")(ask_cmd.ask)
app.command("segment")(segment_cmd.segment)
app.command("eval")(eval_cmd.eval_command)
app.command("export")(export_cmd.export)
app.command("convert-refhl")(eval_cmd.convert_refhl_command)
app.add_typer(models_cmd.app, name="models")
app.command("train")(train_cmd.train)


def main() -> None:
    app(prog_name="medsee")
