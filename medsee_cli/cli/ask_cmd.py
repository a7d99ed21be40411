"""`medsee ask IMAGE QUESTION`: reasoning -> targets -> segmentation -> answer; with
``--questions FILE.jsonl``, every question of a file over many inputs, as a batch job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary, warning_line
from medsee_cli.cli.engine_flags import Bridge, ReadSpacing
from medsee_cli.errors import InputError, UsageError
from medsee_cli.model.registry import DEFAULT_GROUNDING

if TYPE_CHECKING:
    from medsee_cli.services.ask import AskOptions

HINT = "(see 'medsee ask --help')"


@boundary
def ask(
    arguments: Annotated[Optional[list[str]], typer.Argument(
        metavar="IMAGE QUESTION | INPUT", show_default=False,
        help="IMAGE: NIfTI/NRRD/MHA file, DICOM series folder, zip or DICOM file; QUESTION: the question, in plain "
             "words. With --questions, every argument is an INPUT: an image as above or an ingest output folder "
             "(every cataloged series).")] = None,
    *,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Folder for mask.nii.gz, boxes.json, preview.png, seg.dcm (DICOM sources) and provenance.json. "
                      "Without --out no files are written (the answer is printed). Checked before any work. "
                      "With --questions: the batch folder, one OUT/CASE/ID/ per case and question.")] = None,
    questions: Annotated[Optional[Path], typer.Option(
        "--questions", help="A JSON-lines file of questions, {\"question\": ..., \"id\": ..., \"image\": ...} per "
                            "line, run over every INPUT as a batch job (needs --out; re-runs skip finished items).")]
    = None,
    summary: Annotated[Optional[Path], typer.Option(
        "--summary", help="With --questions: the run summary (JSON: done / skipped / failed with reasons). "
                          "Default: OUT/run.json.")] = None,
    log: Annotated[Optional[Path], typer.Option(
        "--log", help="With --questions: append one JSON line per event (item start/done/skip/fail); no patient "
                      "identifiers.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the medsee.ask/1 result as JSON.")] = False,
    model: Annotated[str, typer.Option("--model", envvar="MEDSEE_MODEL",
                                       help="Grounding model: registry name or checkpoint folder.")] = DEFAULT_GROUNDING,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    image_runtime: Annotated[str, typer.Option(
        "--image-runtime", help="What runs the image encoder: auto (ONNX Runtime on a CPU at fp32, else torch), "
                                "torch or onnx.")] = "auto",
    read_spacing: ReadSpacing = 3.5,
    bridge: Bridge = 7.0,
    series: Annotated[Optional[str], typer.Option(
        "--series", help="Series key or SeriesInstanceUID when IMAGE holds several series.")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace files of an earlier answer in --out (with --questions: item folders not made "
                            "by a batch run).")] = False,
    related: Annotated[int, typer.Option(
        "--related", min=0, help="When the question names a structure, also segment this many related targets "
                                 "(they are named in the answer either way).")] = 0,
    encoder: Annotated[str, typer.Option(
        "--encoder", envvar="MEDSEE_ENCODER",
        help="Sentence encoder: 'auto' (packaged MiniLM), 'none' (phrases only) or a model folder.")] = "auto",
    encoder_runtime: Annotated[str, typer.Option(
        "--encoder-runtime", envvar="MEDSEE_ENCODER_RUNTIME",
        help="How the encoder runs: 'numpy' (default, starts in under a second) or 'transformers' (needs torch).")]
    = "numpy",
    llm: Annotated[Optional[str], typer.Option(
        "--llm", envvar="MEDSEE_LLM",
        help="Optional LLM: a local transformers model folder, or an OpenAI-compatible base URL (http://...).")] = None,
    llm_model: Annotated[str, typer.Option("--llm-model", envvar="MEDSEE_LLM_MODEL",
                                           help="Model name sent to an OpenAI-compatible endpoint.")] = "default",
) -> None:
    """Ask a scan a question in plain words; get the answer, a mask, boxes and a preview.

    The question is turned into ranked target structures (with the reason for each). A question
    that names a structure segments that structure (--related N adds related ones); one that
    only points at it (a symptom, a cause) segments the 3 best. They are segmented slice by slice, measured (side, slice range, size,
    volume, HU) and written as a label map on the source grid, JSON boxes, a preview PNG and,
    for DICOM sources, a DICOM-SEG, all in --out (nothing is written without it). A question
    medsee cannot map to anatomy gets no target and says so. A DICOM-SEG the source headers
    cannot honestly support (e.g. no SeriesInstanceUID) is skipped with one warning line; the
    answer and the other files are still given, and the exit status is 6. Slices are numbered as
    a viewer shows them (DICOM InstanceNumber, else from 1) with their table position in mm; the
    answer ends with how to open the files in ITK-SNAP, 3D Slicer or OHIF. On a terminal a
    progress display (stage, slices, time left) is drawn on stderr; never with --json.

    With --questions FILE.jsonl every line's question runs on every INPUT (a line with "image"
    on that image only) as a batch job, like segment's: OUT/CASE/ID/ holds the files above plus
    answer.json and done.json (written last); a re-run skips items whose input, model, options
    and question are unchanged; a bad line or input gets one error line and the batch goes on
    (exit 1 at the end); OUT/run.json summarises the run; an OUT another job is writing to is a
    usage error (exit 2) before any work.
    """
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.services.ask import AskOptions

    given = list(arguments or [])
    options = AskOptions(
        out=out, model=model, engine=EngineOptions(device=device, runtime=image_runtime, read_spacing_mm=read_spacing,
                                         bridge_mm=bridge),
        series=series, overwrite=overwrite, related=related,
        encoder=encoder, encoder_runtime=encoder_runtime, llm=llm or "", llm_model=llm_model,
    )
    if questions is not None:
        from medsee_cli.cli.ask_questions import run_question_file

        run_question_file(given, questions, options, summary, log, json_output)
        return
    image, question = _one_question(given, summary, log)
    _ask_one(image, question, options, json_output)


def _one_question(given: list[str], summary: Optional[Path], log: Optional[Path]) -> tuple[Path, str]:
    """IMAGE and QUESTION, or the usage error that says what is missing or extra."""
    if summary is not None or log is not None:
        raise UsageError("--summary" if summary is not None else "--log", "only with --questions FILE")
    if not given:
        raise UsageError("IMAGE", f"missing argument {HINT}")
    if len(given) == 1:
        raise UsageError("QUESTION", f"missing argument {HINT}")
    if len(given) > 2:
        raise UsageError(given[2], "unexpected extra argument: one IMAGE and one QUESTION (put the question in "
                                   "quotes), or --questions FILE for many")
    return Path(given[0]), given[1]


def _ask_one(image: Path, question: str, options: AskOptions, json_output: bool) -> None:
    from medsee_cli.cli.progress_view import progress_view, wanted
    from medsee_cli.services.ask import ask as run_ask
    from medsee_cli.services.ask_text import render

    if not image.exists():
        raise InputError(str(image), "no such file or folder")
    with progress_view(wanted(json_output)) as view:
        result = run_ask(image, question, options, view)
    for text in result.warnings:
        warning_line(f"{image}: {text}")
    if json_output:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(render(result, options.out))
    if result.warnings:
        from medsee_cli.errors import ExitCode

        raise typer.Exit(ExitCode.WARNINGS)
