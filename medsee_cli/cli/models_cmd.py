"""`medsee models`: the named model checkpoints, where they are, and whether they are intact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import MedseeGroup, boundary

app = typer.Typer(cls=MedseeGroup, help="List, describe, verify and convert the model checkpoints installed here.", no_args_is_help=True)

ModelDir = Annotated[
    Optional[Path],
    typer.Option(
        "--model-dir",
        envvar="MEDSEE_MODEL_DIR",
        help="Folder of converted checkpoints (default: PREFIX/share/medsee/models in the active environment).",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command("list")
@boundary
def list_models(*, model_dir: ModelDir = None, json_output: AsJson = False) -> None:
    """List the named checkpoints and which file each would load from."""
    from medsee_cli.model.catalog import describe_all

    rows = describe_all(model_dir)
    if json_output:
        print(json.dumps(rows, indent=1))
        return
    for row in rows:
        where = row["source"] or "MISSING"
        print(f"{row['name']:<20} {row['parameters'] / 1e6:5.1f} M  {where:<12} {row['summary']}")


@app.command("info")
@boundary
def info(
    name: Annotated[str, typer.Argument(help="Checkpoint name, e.g. litemedsam-base.")],
    *,
    model_dir: ModelDir = None,
    json_output: AsJson = False,
) -> None:
    """Describe one checkpoint: task, size, licence, provenance, and its files."""
    from medsee_cli.model.catalog import describe

    row = describe(name, model_dir)
    if json_output:
        print(json.dumps(row, indent=1))
        return
    for key in ("name", "architecture", "task", "parameters", "license", "provenance", "model_home", "source"):
        print(f"{key:<13} {row[key] if row[key] is not None else 'none present'}")
    for source in row["sources"]:
        state = "present" if source["present"] else "absent"
        print(f"  {source['kind']:<12} {state:<8} sha256 {source['sha256'][:16]}...  {source['path']}")


@app.command("verify")
@boundary
def verify(
    name: Annotated[str, typer.Argument(help="Checkpoint name, e.g. litemedsam-base.")],
    *,
    model_dir: ModelDir = None,
) -> None:
    """Check every present file of a checkpoint: SHA-256, and a strict load into the architecture.

    Exit code 0 when at least one source is present and all present sources are intact.
    """
    from medsee_cli.model.errors import CheckpointError
    from medsee_cli.model.pretrained import verify_sources

    rows = verify_sources(name, model_dir)
    for kind, path, status in rows:
        print(f"{kind:<12} {status:<8} {path}")
    bad = [status for _, _, status in rows if status not in ("ok", "absent")]
    if bad:
        raise CheckpointError(name, f"{len(bad)} damaged file(s)")
    if all(status == "absent" for _, _, status in rows):
        raise CheckpointError(name, "no file of this checkpoint is present")


@app.command("convert")
@boundary
def convert(
    name: Annotated[str, typer.Argument(help="Checkpoint name, e.g. litemedsam-base.")],
    *,
    model_dir: ModelDir = None,
) -> None:
    """Convert a checkpoint shipped as a PyTorch .pth into a safetensors folder (run once at install).

    Later loads then read safetensors only (no pickle). The result is byte-identical on every
    machine and checked against the SHA-256 in the registry.
    """
    from medsee_cli.model.pretrained import convert_checkpoint

    print(convert_checkpoint(name, model_dir))
