"""`medsee ask IMAGE QUESTION`: reasoning -> targets -> segmentation -> answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary
from medsee_cli.errors import InputError

SEGMENTATION_NOTE = "Note: segmentation is not available yet in this version; no mask or box was made."


@boundary
def ask(
    image: Annotated[Path, typer.Argument(help="NIfTI/NRRD file, DICOM series folder or zip.")],
    question: Annotated[str, typer.Argument(help="The question, in plain words.")],
    *,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the output files.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable result.")] = False,
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
    """Ask a scan a question in plain words; get the answer, a mask, boxes and a preview."""
    if not image.exists():
        raise InputError(str(image), "does not exist")
    from medsee_cli.reasoning.backends import build_reasoner
    from medsee_cli.reasoning.resolver import ReasonerOptions

    options = ReasonerOptions(encoder=encoder, encoder_runtime=encoder_runtime, llm=llm or "", llm_model=llm_model)
    resolution = build_reasoner(options).resolve(question)
    if json_output:
        payload = {
            "schema": "medsee.ask/1",
            "question": question,
            "answer": resolution.answer,
            "abstained": resolution.abstained,
            "targets": [h.to_dict() for h in resolution.hypotheses],
            "excluded": list(resolution.excluded),
            "backend": resolution.backend,
            "findings": [],
            "outputs": {},
            "note": SEGMENTATION_NOTE,
        }
        print(json.dumps(payload, indent=2))
        return
    print(resolution.answer)
    if resolution.hypotheses:
        print()
        print("Targets (best first):")
        for rank, hypothesis in enumerate(resolution.hypotheses, start=1):
            print(f"  {rank}. {hypothesis.name} (SNOMED CT {hypothesis.code}, score {hypothesis.score:.2f}): "
                  f"{hypothesis.rationale}")
    print()
    print(SEGMENTATION_NOTE)
