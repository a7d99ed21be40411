"""Training the grounding head on cached features, within a time budget."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch

from medsee_cli.engine.device import cpu_has_native_bf16
from medsee_cli.model.grounding.head import GroundingHead
from medsee_cli.training.losses import grounding_loss
from medsee_cli.training.sampler import PairSampler


@dataclass(frozen=True)
class TrainOptions:
    minutes: float = 12.0  # wall-clock budget for the optimisation
    max_steps: int = 3000
    batch_size: int = 16
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    seed: int = 0
    threads: int | None = None
    log_every: int = 50
    # autocast the head's forward pass in bf16: 1.5x faster on CPUs that compute it natively (AVX-512 BF16 /
    # AMX), emulated and many times slower on the others (a 6-minute run here made 38 steps), which train in fp32
    bf16: bool = field(default_factory=cpu_has_native_bf16)


@dataclass(frozen=True)
class TrainReport:
    steps: int
    seconds: float
    final_loss: float
    pairs_seen: int


def train_head(head: GroundingHead, sampler: PairSampler, options: TrainOptions,
               log: Callable[[str], None] = lambda _: None) -> TrainReport:
    torch.manual_seed(options.seed)
    if options.threads:
        torch.set_num_threads(options.threads)
    head.train()
    optimiser = torch.optim.AdamW(head.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay)
    budget = options.minutes * 60.0
    started = time.perf_counter()
    step, running = 0, 0.0
    # The next batch is drawn in a thread while this one trains (unpacking masks costs ~0.15 s).
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(sampler.sample, options.batch_size)
        while step < options.max_steps:
            elapsed = time.perf_counter() - started
            if elapsed > budget:
                break
            # Cosine decay over whichever ends first: the step budget or the time budget.
            progress = max(step / options.max_steps, elapsed / budget)
            scale = min(1.0, (step + 1) / options.warmup_steps) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
            for group in optimiser.param_groups:
                group["lr"] = options.learning_rate * max(scale, 0.02)
            batch = upcoming.result()
            upcoming = pool.submit(sampler.sample, options.batch_size)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=options.bf16):
                masks, presence, boxes = head(batch.embeddings, batch.images, batch.texts)
            loss, parts = grounding_loss(masks.float(), presence.float(), boxes.float(), batch.masks, batch.present,
                                         batch.boxes, head.config.image_size)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
            optimiser.step()
            value = float(loss.detach())
            running = 0.9 * running + 0.1 * value if step else value
            step += 1
            if step % options.log_every == 0:
                detail = " ".join(f"{k}={v:.3f}" for k, v in parts.items())
                log(f"step {step} loss {running:.3f} ({detail}) {time.perf_counter() - started:.0f} s")
        upcoming.cancel()
    head.eval()
    return TrainReport(step, time.perf_counter() - started, running, step * options.batch_size)
