"""`medsee train` as a library call: recipe -> cached features -> trained head -> saved folder.

The result is a folder `GroundingModel.load(PATH)` and every ``--model PATH`` accept, holding
``config.json``, ``model.safetensors`` (the head only) and ``training.json`` (what it was
trained on, for how long, the presence thresholds calibrated on the recipe's calibration
sources, and its held-out scores when the recipe has held-out sources).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from medsee_cli.io.atomic import write_text_atomic
from medsee_cli.model.grounding.config import GroundingConfig
from medsee_cli.model.litemedsam import LiteMedSAM
from medsee_cli.reasoning.target_text import TargetTexts, open_target_texts
from medsee_cli.training.loop import TrainOptions, TrainReport, train_head
from medsee_cli.training.recipe import load_recipe


@dataclass(frozen=True)
class RunOptions:
    manifest: Path
    out: Path
    data_root: Path | None = None
    cache: Path = Path(".medsee-cache/grounding")
    init: str | None = None  # start from this grounding model (name or folder) instead of random weights
    train: TrainOptions = field(default_factory=TrainOptions)
    evaluate: bool = True


@dataclass(frozen=True)
class RunResult:
    folder: Path
    report: TrainReport
    encode_seconds: float
    scores: list[dict]


def _text_bank(texts: TargetTexts, targets: list[str]) -> list[torch.Tensor]:
    """Per target, the vectors of its phrasings (the sampler draws one per pair)."""
    from medsee_cli.training.sampler import phrasings

    return [torch.from_numpy(texts.vectors(phrasings(t))) for t in targets]


def run_training(options: RunOptions, log: Callable[[str], None] = lambda _: None, *,
                 base: LiteMedSAM | None = None, config: GroundingConfig | None = None) -> RunResult:
    """Encode, train, save, score. ``base`` (a loaded LiteMedSAM) and ``config`` (a
    `GroundingConfig`) override the registry base and the default architecture (tests)."""
    from dataclasses import replace

    from medsee_cli.model.grounding import GroundingConfig, GroundingModel
    from medsee_cli.model.registry import get_entry, locate
    from medsee_cli.training.cache import build_source
    from medsee_cli.training.calibrate import calibrate
    from medsee_cli.training.evaluate import evaluate
    from medsee_cli.training.record import seen_volumes
    from medsee_cli.training.sampler import PairSampler

    recipe = load_recipe(options.manifest, options.data_root)
    targets = list(recipe.targets)
    if options.init:
        model = GroundingModel.load(options.init)
        model.config = replace(model.config, trained_targets=tuple(targets))
    else:
        config = config or GroundingConfig()
        sha = "" if base is not None else locate(get_entry(config.base)).source.sha256
        model = GroundingModel.from_config(replace(config, base_sha256=sha, trained_targets=tuple(targets)), base=base)
    # the frozen encoder as the engine runs it: ONNX Runtime on a CPU without native bf16 (2.2x torch fp32 there)
    model.use_runtime("auto", options.train.threads)
    texts = open_target_texts(model.text_encoder)
    started = time.perf_counter()
    sources = []
    for spec in recipe.sources:
        log(f"encoding {spec.name} ({spec.role})")
        sources.append(build_source(model, spec, targets, options.cache, model.config.base_sha256, log))
    encode_seconds = time.perf_counter() - started
    train_sources = [s for s in sources if s.role == "train"]
    sampler = PairSampler(train_sources, targets, _text_bank(texts, targets), seed=options.train.seed,
                          weights=recipe.weights)
    log(f"training on {len(sampler.pairs)} (slice, target) pairs from {sum(len(s.slices) for s in train_sources)} slices")
    report = train_head(model.head, sampler, options.train, log)
    calibration_sources = [s for s in sources if s.role == "calibration"]
    calibration = []
    if calibration_sources:
        log("calibrating presence thresholds")
        calibration = calibrate(model, calibration_sources, targets, texts)
        thresholds = {c.target: round(c.threshold, 3) for c in calibration}
        model.config = replace(model.config, presence_thresholds=thresholds)
    model.save_pretrained(options.out)
    scores: list[dict] = []
    holdout = [s for s in sources if s.role == "holdout"]
    if options.evaluate and holdout:
        log("scoring held-out slices")
        scores = evaluate(model, holdout, targets, texts)
    summary = {
        "recipe": str(recipe.origin), "targets": targets,
        "sources": [{"name": s.name, "role": s.role, "slices": len(s.slices)} for s in sources],
        "train": asdict(options.train), "steps": report.steps, "train_seconds": round(report.seconds, 1),
        "encode_seconds": round(encode_seconds, 1), "final_loss": round(report.final_loss, 4),
        "calibration": [c.row() for c in calibration], "holdout": scores,
        "seen": seen_volumes(recipe, options.data_root),
    }
    write_text_atomic(Path(options.out) / "training.json", json.dumps(summary, indent=2) + "\n")
    return RunResult(Path(options.out), report, encode_seconds, scores)
