"""`medsee segment IMAGE... --target NAME | --prompt TEXT`: explicit targets over many inputs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary, error_line, warning_line
from medsee_cli.cli.engine_flags import Bridge, ReadSpacing
from medsee_cli.model.registry import DEFAULT_GROUNDING

if TYPE_CHECKING:
    from medsee_cli.engine.findings import Finding
    from medsee_cli.services.run_summary import RunItem
    from medsee_cli.services.segment import CaseResult


@boundary
def segment(
    images: Annotated[list[Path], typer.Argument(
        help="Images: NIfTI/NRRD files, DICOM folders or zips, or an ingest output folder (every cataloged series).")],
    *,
    target: Annotated[Optional[list[str]], typer.Option("--target", help="Target structure name (repeatable).")] = None,
    prompt: Annotated[Optional[list[str]], typer.Option("--prompt", help="Referring expression (repeatable).")] = None,
    out: Annotated[Path, typer.Option(
        "--out", help="Batch folder: one sub-folder per case (OUT/CASE/mask.nii.gz ...). Checked before any work.")]
    = Path("medsee-segment"),
    model: Annotated[str, typer.Option("--model", envvar="MEDSEE_MODEL",
                                       help="Grounding model: registry name or folder.")] = DEFAULT_GROUNDING,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32, bf16 or fp16.")] = "auto",
    image_runtime: Annotated[str, typer.Option(
        "--image-runtime", help="What runs the image encoder: auto (ONNX Runtime on a CPU at fp32, else torch), "
                                "torch or onnx.")] = "auto",
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1,
                                                      help="Slices per forward pass (default: 1 on CPU, 8 on CUDA).")] = None,
    skip_stride: Annotated[int, typer.Option("--skip-stride", min=1,
                                             help="Coarse pass over every N-th slice read (see --read-spacing); 1 runs them all.")] = 4,
    read_spacing: ReadSpacing = 3.5,
    bridge: Bridge = 7.0,
    formats: Annotated[Optional[list[str]], typer.Option(
        "--format", "-f", help="Files per case (repeatable or comma-separated): nifti, json, png, dicom-seg, rtstruct. "
        "Default: nifti, json, png, plus dicom-seg for DICOM sources.", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace case folders not made by a batch run (no done.json).")] = False,
    summary: Annotated[Optional[Path], typer.Option(
        "--summary", help="Run summary (JSON: done / skipped / failed with reasons). Default: OUT/run.json.")] = None,
    log: Annotated[Optional[Path], typer.Option(
        "--log", help="Append one JSON line per event (case start/done/skip/fail); no patient identifiers.")] = None,
    push: Annotated[Optional[str], typer.Option(
        "--push", help="DICOMweb base URL: STOW-RS each case's seg.dcm into its source study (once).")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="local: threads reading and writing cases while the model runs (it is loaded "
                                 "once); ray: Ray worker processes, each with its own model.")] = 1,
    cases_at_once: Annotated[int, typer.Option(
        "--cases-at-once", min=1, help="local: cases run on the model together, their slices encoded in shared "
                                       "batches (fuller GPU batches; no gain on a CPU).")] = 1,
    executor: Annotated[str, typer.Option(
        "--executor", help="local (this process) or ray (one task per case on a Ray cluster; "
                           "pip install 'medsee[ray]').")] = "local",
    ray_address: Annotated[Optional[str], typer.Option(
        "--ray-address", help="Ray cluster to join (auto, ray://HOST:10001); default: RAY_ADDRESS, else a local Ray "
                              "started for the run.")] = None,
    gpus_per_worker: Annotated[float, typer.Option(
        "--gpus-per-worker", min=0.0, help="GPUs each Ray worker reserves (with --device cuda).")] = 0.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
) -> None:
    """Segment named targets or referring expressions in many images.

    Each case goes to OUT/CASE/ (complete, with done.json written last, or absent); an ingest
    folder gives one case per cataloged series, named by its key. A re-run skips cases whose
    inputs, model and options are unchanged and redoes the others. A bad image gets one error
    line and the batch goes on (exit 1 at the end; a failed --push too); a DICOM output a case's
    source headers cannot honestly support gets one warning line (exit 6 when nothing failed). A
    --target the model was not trained to outline, or an OUT another job is writing to, is a
    usage error (exit 2) before any work. With --executor ray each case is a Ray task (inputs
    and OUT on storage every node sees); the files are the same as a local run's.
    Slices are numbered as a viewer shows them (DICOM InstanceNumber, else from 1). On a
    terminal a progress display (per case and overall) is drawn on stderr; never with --json.
    """
    from medsee_cli.cli.progress_view import progress_view, wanted
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.services.batch_inputs import list_cases
    from medsee_cli.services.execution import Execution
    from medsee_cli.services.segment import SegmentOptions, exit_code
    from medsee_cli.services.segment_batch import BatchOptions, run_batch

    chosen = tuple(f.strip() for item in formats for f in item.split(",") if f.strip()) if formats else None
    options = SegmentOptions(
        out=out, targets=tuple(target or ()), prompts=tuple(prompt or ()), model=model, overwrite=overwrite, formats=chosen,
        engine=EngineOptions(device=device, precision=precision, batch_size=batch_size, skip_stride=skip_stride,
                             runtime=image_runtime, read_spacing_mm=read_spacing,
                             bridge_mm=bridge),
        execution=Execution(executor=executor, workers=workers, cases_at_once=cases_at_once, address=ray_address,
                            gpus_per_worker=gpus_per_worker))
    batch = BatchOptions(options, summary=summary, log=log, push=push)
    cases: list[dict[str, object]] = []
    results: list[CaseResult] = []
    pushes_failed = 0

    def show(case: CaseResult, item: RunItem) -> None:
        nonlocal pushes_failed
        view.case_done()
        cases.append(case.to_dict() | {"push": item.push})
        results.append(replace(case, findings=[]))  # what the exit code needs; masks are not kept past their case
        if not case.ok:
            error_line(case.error)
            return
        for text in case.warnings:
            warning_line(f"{case.image}: {text}")
        if item.push is not None and item.push.startswith("failed"):
            pushes_failed += 1
            error_line(f"{case.outputs.get('dicom_seg')}: {item.push[len('failed: '):]}")
        if not json_output:
            found = "skipped (finished earlier)" if case.skipped else ", ".join(_summary(f) for f in case.findings)
            pushed = f" (seg.dcm {item.push})" if item.push and not item.push.startswith("failed") else ""
            print(f"{case.case_id}: {found} -> {Path(out) / case.case_id}{pushed}")

    with progress_view(wanted(json_output), cases=len(list_cases(images))) as view:
        run_batch(images, batch, show, view)
    if json_output:
        warnings = [f"{c.image}: {text}" for c in results for text in c.warnings]
        print(json.dumps({"schema": "medsee.segment/1", "out": str(out), "summary": str(batch.summary_path),
                          "cases": cases, "warnings": warnings}, indent=2))
    code = exit_code(results)
    if pushes_failed and code in (0, 6):
        code = 1
    if code:
        raise typer.Exit(code)


def _summary(finding: Finding) -> str:
    from medsee_cli.engine.describe import slice_range

    if not finding.present:
        return f"{finding.target} not found"
    return f"{finding.target} {finding.volume_ml:.1f} mL on {slice_range(finding)}"
