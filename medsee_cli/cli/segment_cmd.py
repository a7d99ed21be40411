"""`medsee segment IMAGE... --target NAME | --prompt TEXT`: explicit targets over many inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary, error_line, warning_line

if TYPE_CHECKING:
    from medsee_cli.engine.findings import Finding


@boundary
def segment(
    images: Annotated[list[Path], typer.Argument(help="Images: NIfTI/NRRD files, DICOM folders or zips.")],
    *,
    target: Annotated[Optional[list[str]], typer.Option("--target", help="Target structure name (repeatable).")] = None,
    prompt: Annotated[Optional[list[str]], typer.Option("--prompt", help="Referring expression (repeatable).")] = None,
    out: Annotated[Path, typer.Option(
        "--out", help="Batch folder: one sub-folder per case (OUT/CASE/mask.nii.gz ...). Checked before any work.")]
    = Path("medsee-segment"),
    model: Annotated[str, typer.Option("--model", envvar="MEDSEE_MODEL",
                                       help="Grounding model: registry name or folder.")] = "medsee-grounding-v1",
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32, bf16 or fp16.")] = "auto",
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1,
                                                      help="Slices per forward pass (default: 1 on CPU, 8 on CUDA).")] = None,
    skip_stride: Annotated[int, typer.Option("--skip-stride", min=1,
                                             help="Coarse pass over every N-th slice; 1 runs every slice.")] = 4,
    formats: Annotated[Optional[list[str]], typer.Option(
        "--format", "-f", help="Files per case (repeatable or comma-separated): nifti, json, png, dicom-seg, rtstruct. "
        "Default: nifti, json, png, plus dicom-seg for DICOM sources.", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing case folders' files.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
) -> None:
    """Segment named targets or referring expressions in many images.

    Each case goes to OUT/CASE/ (complete, with provenance.json, or absent). A bad image gets
    one error line and the batch goes on (exit 1 at the end); a DICOM output a case's source
    headers cannot honestly support gets one warning line (exit 6 when nothing failed). A
    --target the model was not trained to outline is a usage error (exit 2) before any work.
    Slices are numbered as a viewer shows them (DICOM InstanceNumber, else from 1). On a
    terminal a progress display (per case and overall) is drawn on stderr; never with --json.
    """
    from medsee_cli.cli.progress_view import progress_view, wanted
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.services.segment import SegmentOptions, exit_code, segment as run_segment

    chosen = tuple(f.strip() for item in formats for f in item.split(",") if f.strip()) if formats else None
    options = SegmentOptions(
        out=out, targets=tuple(target or ()), prompts=tuple(prompt or ()), model=model, overwrite=overwrite, formats=chosen,
        engine=EngineOptions(device=device, precision=precision, batch_size=batch_size, skip_stride=skip_stride))
    cases, results = [], []
    with progress_view(wanted(json_output), cases=len(images)) as view:
        for case in run_segment(images, options, view):
            view.case_done()
            cases.append(case.to_dict())
            results.append(case)
            if not case.ok:
                error_line(case.error)
                continue
            for text in case.warnings:
                warning_line(f"{case.image}: {text}")
            if not json_output:
                found = ", ".join(_summary(f) for f in case.findings)
                print(f"{case.case_id}: {found} -> {Path(out) / case.case_id}")
    if json_output:
        warnings = [f"{c.image}: {text}" for c in results for text in c.warnings]
        print(json.dumps({"schema": "medsee.segment/1", "out": str(out), "cases": cases, "warnings": warnings},
                         indent=2))
    code = exit_code(results)
    if code:
        raise typer.Exit(code)


def _summary(finding: Finding) -> str:
    from medsee_cli.engine.describe import slice_range

    if not finding.present:
        return f"{finding.target} not found"
    return f"{finding.target} {finding.volume_ml:.1f} mL on {slice_range(finding)}"
