"""`medsee train`: train the grounding head on your own labelled volumes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary


@boundary
def train(
    manifest: Annotated[Optional[Path], typer.Argument(help="Training manifest (YAML/JSON: targets + sources). Default: the recipe of the shipped checkpoint.", show_default=False)] = None,
    *,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the trained model into (config.json + model.safetensors + training.json).")],
    data: Annotated[Optional[Path], typer.Option("--data", help="Folder that ${data} in the manifest stands for (default: $MEDSEE_DATA, else ../shared/data beside the project).", show_default=False)] = None,
    cache: Annotated[Path, typer.Option("--cache", help="Folder for cached encoder features (reused across runs).")] = Path(".medsee-cache/grounding"),
    init: Annotated[Optional[str], typer.Option("--init", help="Start from this grounding model (name or folder) instead of random weights.", show_default=False)] = None,
    minutes: Annotated[float, typer.Option("--minutes", help="Time budget for optimising the head.")] = 12.0,
    steps: Annotated[int, typer.Option("--steps", help="Maximum optimisation steps.")] = 3000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="(slice, target) pairs per step.")] = 12,
    learning_rate: Annotated[float, typer.Option("--learning-rate", help="Peak learning rate (warm-up, then cosine decay); lower it to fine-tune with --init.")] = 2e-3,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    threads: Annotated[Optional[int], typer.Option("--threads", help="CPU threads for torch.", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing model folder.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the training summary as JSON.")] = False,
) -> None:
    """Train a grounding model (frozen LiteMedSAM + text-conditioned head) and save it for --model PATH."""
    from medsee_cli.errors import OutputExistsError
    from medsee_cli.training.loop import TrainOptions
    from medsee_cli.training.recipe import shipped_recipe
    from medsee_cli.training.run import RunOptions, run_training

    if (out / "model.safetensors").exists() and not overwrite:
        raise OutputExistsError(str(out))
    from medsee_cli.io.data_root import data_root

    data = data_root(data)
    options = RunOptions(
        manifest=manifest or shipped_recipe(), out=out, data_root=data, cache=cache, init=init,
        train=TrainOptions(minutes=minutes, max_steps=steps, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                           threads=threads),
    )
    log = (lambda line: print(line, file=sys.stderr, flush=True))
    result = run_training(options, log)
    summary = json.loads((result.folder / "training.json").read_text(encoding="utf-8"))
    if json_output:
        print(json.dumps(summary, indent=1))
        return
    print(f"saved {result.folder} ({result.report.steps} steps, {result.report.seconds:.0f} s training, {result.encode_seconds:.0f} s encoding)")
    for row in result.scores:
        print(f"  {row['target']:<20} presence P={row['presence_precision']} R={row['presence_recall']}  Dice={row['dice']}  box IoU={row['box_iou']}")
