"""`medsee eval --dataset NAME`: score reasoning / referring segmentation the papers' way."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from medsee_cli.cli.boundary import boundary, error_line
from medsee_cli.errors import ExitCode

FAILED_ITEMS_EXIT = ExitCode.ITEMS_FAILED


@boundary
def eval_command(
    *,
    dataset: Annotated[str, typer.Option("--dataset", help="refhl-seg, mlmr-sd, manifest, builtin or reasoning.")],
    root: Annotated[Optional[Path], typer.Option("--root", help="Dataset folder or annotation file (builtin: the shared data folder).")] = None,
    split: Annotated[str, typer.Option("--split", help="Which split to score.")] = "test",
    model: Annotated[Optional[str], typer.Option("--model", help="Model name or checkpoint path to run on each item.")] = None,
    predictions: Annotated[Optional[Path], typer.Option("--predictions", help="Folder of another model's saved masks/boxes, named by item id.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write items.csv, summary.json, report.md/.html, overlays and plots here.")] = None,
    query: Annotated[str, typer.Option("--query", help="MLMR-SD: use the 'long' or 'short' query.")] = "long",
    nsd_tolerance: Annotated[float, typer.Option("--nsd-tolerance", help="Surface Dice tolerance in mm.")] = 2.0,
    surface: Annotated[bool, typer.Option("--surface/--no-surface", help="Compute HD95 and surface Dice.")] = True,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Score only the first N items.")] = None,
    worst: Annotated[int, typer.Option("--worst", help="How many worst cases to draw in the report.")] = 8,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the report of an earlier run in --out.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    export_dataset: Annotated[Optional[Path], typer.Option("--export-dataset", help="Write the dataset's items as a manifest (NIfTI + JSONL) here for other models, then stop.")] = None,
) -> None:
    """Evaluate on a benchmark and print the papers' metrics (gIoU, cIoU, Dice, box Acc@0.5, HD95, NSD)."""
    from medsee_cli.errors import UsageError

    if dataset == "reasoning":
        if root is None:
            raise UsageError("--root", "--dataset reasoning needs the question file: --root FILE.jsonl")
        _reasoning(root, json_output)
        return
    from medsee_cli.eval import EvalOptions, PredictorSource, SavedPredictions, evaluate, load_dataset, write_outputs

    if export_dataset is not None:
        from medsee_cli.eval.datasets.export import export_manifest

        data = load_dataset(dataset, root, EvalOptions(split=split, query=query))
        manifest = export_manifest(data, export_dataset, overwrite=overwrite)
        print(f"wrote {len(data.items)} items to {manifest}")
        return
    if (model is None) == (predictions is None):
        raise UsageError("medsee eval", "give exactly one of --predictions DIR (saved outputs) or --model NAME|PATH")
    try:
        options = EvalOptions(split=split, query=query, nsd_tolerance_mm=nsd_tolerance, surface=surface,
                              limit=limit, worst=worst, out=out, overwrite=overwrite)
    except ValueError as exc:
        raise UsageError("medsee eval", str(exc)) from None
    if out is not None and (out / "summary.json").exists() and not overwrite:
        from medsee_cli.errors import OutputExistsError

        raise OutputExistsError(str(out / "summary.json"))
    data = load_dataset(dataset, root, options)  # a wrong --dataset/--root stops before the model loads
    if predictions is not None:
        source: Any = SavedPredictions(predictions)
    else:
        from medsee_cli.eval.model_source import model_predictor

        source = PredictorSource(model_predictor(str(model)))
    result = evaluate(data, source, options, progress=_progress_bar(len(data.items) if not limit else min(limit, len(data.items))),
                      failure=error_line)
    if out is not None:
        write_outputs(result, out, options)
    if json_output:
        from medsee_cli.eval.report.tables import to_json

        sys.stdout.write(to_json(result.to_dict()))
    else:
        _print_result(result, out, nsd_tolerance)
    if result.failed:
        raise typer.Exit(FAILED_ITEMS_EXIT)


def _progress_bar(total: int):  # noqa: ANN202
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return None
    bar = Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console, transient=True)
    task = bar.add_task("scoring", total=total)

    def update(done: int, total_items: int, item_id: str) -> None:
        if done == 1:
            bar.start()
        bar.update(task, completed=done)
        if done >= total_items:
            bar.stop()

    return update


CONSOLE_COLUMNS = (
    ("n", "n"), ("giou", "gIoU"), ("ciou", "cIoU"), ("dice", "Dice"),
    ("box_iou", "boxIoU"), ("box_acc50", "Acc@.5"), ("hd95", "HD95"), ("nsd", "NSD"),
)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return "–" if value != value or value in (float("inf"), float("-inf")) else f"{value:.3f}"
    return str(value)


def _print_result(result: Any, out: Optional[Path], tolerance: float) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"medsee eval: {result.dataset}", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("target", no_wrap=True, min_width=max([6, *(len(t) for t in result.by_target)]))
    for _, label in CONSOLE_COLUMNS:
        table.add_column(label, justify="right", no_wrap=True)
    for name, summary in [*result.by_target.items(), ("ALL", result.summary)]:
        table.add_row(name, *(_short(summary[key]) for key, _ in CONSOLE_COLUMNS), style="bold" if name == "ALL" else None)
    console.print(table)
    s = result.summary
    console.print(
        f"NSD at {tolerance:g} mm; HD95 in mm (pixels where spacing is unknown). Presence per slice P/R "
        f"{_short(s['presence_slice']['precision'])}/{_short(s['presence_slice']['recall'])}, per case "
        f"{_short(s['presence_case']['precision'])}/{_short(s['presence_case']['recall'])}; "
        f"missing predictions {s['missing_predictions']}; failed items {len(result.failed)}"
    )
    for note in result.notes:
        console.print(f"note: {note}", style="dim")
    if out is not None:
        console.print(f"report: {out / 'report.html'}")


def _reasoning(path: Path, json_output: bool) -> None:
    from medsee_cli.reasoning.evaluate import evaluate_questions

    report = evaluate_questions(path).to_dict()
    if json_output:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    print_reasoning(report, path.name)


def print_reasoning(report: dict[str, Any], title: str) -> None:
    """Top-1 / top-3 / abstention and one row per question, as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"reasoning: {title}")
    for column in ("line", "query", "expected", "predicted", "hit", "top-3"):
        table.add_column(column)
    for item in report["items"]:
        expected = ", ".join(item["expected"]) or "(out of scope)"
        predicted = "(abstained)" if item["abstained"] else ", ".join(item["predicted"])
        table.add_row(str(item["line"]), item["query"], expected, predicted, "yes" if item["hit"] else "no",
                      "yes" if item["top3_hit"] else "no")
    console = Console()
    console.print(table)
    show = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    console.print(f"n {report['n']}  top-1 {show(report['top1'])}  top-3 {show(report['top3'])}  "
                  f"abstention accuracy {show(report['abstain_accuracy'])}")


@boundary
def convert_refhl_command(
    volumes: Annotated[Path, typer.Argument(help="Folder of CT volumes, one per case (CASE.nii.gz, .nrrd, or a DICOM folder CASE/).")],
    labels: Annotated[Path, typer.Argument(help="Folder of label maps on the same grids (CASE.nii.gz).")],
    expressions: Annotated[Path, typer.Argument(help="JSONL: {\"case\", \"expression\", \"label\"?, \"slices\"?} per line.")],
    *,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the RefHL-Seg layout into.")],
    image_format: Annotated[str, typer.Option("--image-format", help="nii.gz (HU + spacing) or png (16-bit, HU + 1024).")] = "nii.gz",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the case-level train/val/test split.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace files of an earlier conversion.")] = False,
) -> None:
    """Convert volumes + label maps + expressions into the RefHL-Seg layout `medsee eval` reads."""
    from medsee_cli.errors import UsageError
    from medsee_cli.eval.datasets.refhl_convert import ConvertOptions, convert_to_refhl

    try:
        options = ConvertOptions(image_format=image_format, seed=seed, overwrite=overwrite)
    except ValueError as exc:
        raise UsageError("--image-format", str(exc)) from None
    counts = convert_to_refhl(volumes, labels, expressions, out, options)
    print(f"wrote {counts['expressions']} expressions on {counts['slices']} slices of {counts['cases']} cases to {out}")
