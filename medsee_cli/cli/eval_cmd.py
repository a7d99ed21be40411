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
    root: Annotated[Optional[Path], typer.Option("--root", help="Dataset folder or annotation file (builtin: the shared data folder, default $MEDSEE_DATA or ../shared/data beside the project).")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="Which split to score (refhl-seg, mlmr-sd, manifest; default test).")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model name or checkpoint path, run as `ask` runs it (reasoning -> targets -> engine).")] = None,
    predictions: Annotated[Optional[Path], typer.Option("--predictions", help="Folder of another tool's saved outputs (see --adapter).")] = None,
    adapter: Annotated[Optional[str], typer.Option("--adapter", help="Layout of --predictions: medsee (default), totalsegmentator, nnunet or medsam.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write items.csv, summary.json, report.md/.html, overlays and plots here.")] = None,
    query: Annotated[Optional[str], typer.Option("--query", help="mlmr-sd only: score the 'long' (default) or 'short' query.")] = None,
    nsd_tolerance: Annotated[Optional[float], typer.Option("--nsd-tolerance", help="Surface Dice tolerance in mm (default 2).")] = None,
    surface: Annotated[Optional[bool], typer.Option("--surface/--no-surface", help="Compute HD95 and surface Dice (default on).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Score N items sampled across targets and cases (fixed seed).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of the --limit sample (default 0).")] = None,
    worst: Annotated[Optional[int], typer.Option("--worst", help="How many worst cases to draw in the report (default 8).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the report of an earlier run in --out.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    export_dataset: Annotated[Optional[Path], typer.Option("--export-dataset", help="Write the dataset's items as a manifest (NIfTI + JSONL) here for other models, then stop.")] = None,
) -> None:
    """Evaluate on a benchmark and print the papers' metrics (gIoU, cIoU, Dice, box Acc@0.5, HD95, NSD)."""
    from medsee_cli.errors import UsageError
    from medsee_cli.eval.datasets import ALL_DATASETS

    if dataset not in ALL_DATASETS:  # the first error: nothing else is checked for an unknown dataset
        raise UsageError(f"--dataset {dataset}", f"unknown dataset (choose one of {', '.join(ALL_DATASETS)})")
    given = {"--root": root, "--split": split, "--model": model, "--predictions": predictions, "--adapter": adapter,
             "--out": out, "--query": query, "--nsd-tolerance": nsd_tolerance, "--surface/--no-surface": surface,
             "--limit": limit, "--seed": seed, "--worst": worst, "--export-dataset": export_dataset}
    _refuse(dataset, {name for name, value in given.items() if value is not None})
    if dataset == "reasoning":
        if root is None:
            raise UsageError("--root", "--dataset reasoning needs the question file: --root FILE.jsonl")
        _reasoning(root, json_output, out, overwrite)
        return
    from medsee_cli.eval import EvalOptions, evaluate, load_dataset, write_outputs

    try:
        options = EvalOptions(split=split or "test", query=query or "long",
                              nsd_tolerance_mm=2.0 if nsd_tolerance is None else nsd_tolerance,
                              surface=True if surface is None else surface, limit=limit, seed=seed or 0,
                              worst=8 if worst is None else worst, out=out, overwrite=overwrite)
    except ValueError as exc:
        raise UsageError("medsee eval", str(exc)) from None
    if export_dataset is not None:
        from medsee_cli.eval.datasets.export import export_manifest

        data = load_dataset(dataset, root, options)
        manifest = export_manifest(data, export_dataset, overwrite=overwrite)
        print(f"wrote {len(data.items)} items to {manifest}")
        return
    if (model is None) == (predictions is None):
        raise UsageError("medsee eval", "give exactly one of --predictions DIR (saved outputs) or --model NAME|PATH")
    if out is not None and (out / "summary.json").exists() and not overwrite:
        from medsee_cli.errors import OutputExistsError

        raise OutputExistsError(str(out / "summary.json"))
    data = load_dataset(dataset, root, options)  # a wrong --dataset/--root stops before the model loads
    record = None
    if predictions is not None:
        from medsee_cli.eval.adapters import open_adapter

        source: Any = open_adapter(adapter or "medsee", predictions)
    else:
        from medsee_cli.eval import PredictorSource
        from medsee_cli.eval.exposure import TrainingRecord
        from medsee_cli.eval.engine_predictor import load_predictor
        from medsee_cli.model.grounding.model import checkpoint_folder

        source = PredictorSource(load_predictor(str(model)))
        record = TrainingRecord.read(checkpoint_folder(str(model))[0])
    total = len(data.items) if not limit else min(limit, len(data.items))
    result = evaluate(data, source, options, progress=_progress_bar(total), failure=error_line, record=record)
    from medsee_cli.eval.runner import exposure_warning

    warning = exposure_warning(result.rows)
    if warning:
        print(f"warning: {model}: {warning}", file=sys.stderr)
    if out is not None:
        write_outputs(result, out, options)
    if json_output:
        from medsee_cli.eval.report.tables import to_json

        sys.stdout.write(to_json(result.to_dict()))
    else:
        _print_result(result, out, options.nsd_tolerance_mm)
    if result.failed:
        raise typer.Exit(FAILED_ITEMS_EXIT)


# Options that only some datasets take; any other dataset refuses them (never silently ignores them).
ONLY_FOR = {
    "--query": ("mlmr-sd",),
    "--split": ("refhl-seg", "mlmr-sd", "manifest"),
}
NOT_FOR_REASONING = ("--split", "--model", "--predictions", "--adapter", "--query", "--nsd-tolerance",
                     "--surface/--no-surface", "--limit", "--seed", "--worst", "--export-dataset")


def _refuse(dataset: str, given: set[str]) -> None:
    from medsee_cli.errors import UsageError

    for option, datasets in ONLY_FOR.items():
        if option in given and dataset not in datasets:
            raise UsageError(option, f"does not apply to --dataset {dataset} (only to {', '.join(datasets)})")
    if dataset == "reasoning":
        for option in NOT_FOR_REASONING:
            if option in given:
                raise UsageError(option, "does not apply to --dataset reasoning (a question file: only --root, --out, --json)")
    if "--adapter" in given and "--predictions" not in given:
        raise UsageError("--adapter", "applies to --predictions only")
    if "--export-dataset" in given:
        for option in ("--model", "--predictions", "--adapter", "--out", "--limit", "--seed", "--worst",
                       "--nsd-tolerance", "--surface/--no-surface"):
            if option in given:
                raise UsageError(option, "does not apply with --export-dataset (it writes the items and stops)")


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
    if result.by_exposure:
        console.print("By exposure to the model's training data: " + "; ".join(
            f"{name} n {group['n']} gIoU {_short(group['giou'])} Dice {_short(group['dice'])}"
            for name, group in result.by_exposure.items()))
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


def _reasoning(path: Path, json_output: bool, out: Optional[Path], overwrite: bool) -> None:
    from medsee_cli.reasoning.evaluate import evaluate_questions

    report = evaluate_questions(path).to_dict()
    if out is not None:
        from medsee_cli.io.atomic import write_text_atomic

        write_text_atomic(out / "summary.json", json.dumps(report, indent=2) + "\n", overwrite=overwrite)
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
    expressions: Annotated[Path, typer.Argument(help="JSONL: {\"case\", \"expression\", \"label\"?, \"target\"?, \"slices\"?} per line.")],
    *,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the RefHL-Seg layout into.")],
    image_format: Annotated[str, typer.Option("--image-format", help="nii.gz (HU + spacing) or png (16-bit, HU + 1024).")] = "nii.gz",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the case-level train/val/test split.")] = 0,
    label_names: Annotated[Optional[Path], typer.Option("--label-names", help="JSON {\"1\": \"liver\", ...}: the target each label value is.")] = None,
    target: Annotated[str, typer.Option("--target", help="Target of expressions without a label or target (a knowledge-base name).")] = "liver_lesion",
    ratios: Annotated[str, typer.Option("--ratios", help="train,val,test shares of the cases; a split with 0 is not made.")] = "0.7,0.1,0.2",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace files of an earlier conversion.")] = False,
) -> None:
    """Convert volumes + label maps + expressions into the RefHL-Seg layout `medsee eval` reads."""
    from medsee_cli.errors import UsageError
    from medsee_cli.eval.datasets.refhl_convert import ConvertOptions, convert_to_refhl

    from medsee_cli.eval.datasets.records import read_json

    names: tuple[tuple[int, str], ...] = ()
    if label_names is not None:
        table = read_json(label_names)
        try:
            names = tuple((int(k), str(v)) for k, v in table.items())
        except ValueError:
            raise UsageError("--label-names", "must map label values (integers) to target names") from None
    try:
        shares = [float(v) for v in ratios.split(",")]
        if len(shares) != 3:
            raise ValueError("--ratios takes three shares: train,val,test")
        options = ConvertOptions(image_format=image_format, seed=seed, overwrite=overwrite, target=target,
                                 label_names=names, ratios=(shares[0], shares[1], shares[2]))
    except ValueError as exc:
        raise UsageError("medsee eval convert-refhl", str(exc)) from None
    counts = convert_to_refhl(volumes, labels, expressions, out, options)
    print(f"wrote {counts['expressions']} expressions on {counts['slices']} slices of {counts['cases']} cases to {out}")
