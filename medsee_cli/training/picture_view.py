"""Training the picture-view network (`medsee_cli.model.picture_view`) on the real slices of a recipe.

    python -m medsee_cli.training.picture_view --data ../shared/data --out DIR [--hold-out GROUP]

Each axial slice of each recipe volume, in the radiological view, is a training view. A step draws
``batch`` views at random, windows each (CT in Hounsfield units: a random soft-tissue window; 8-bit:
as stored; MR: between its 1st and 99th percentiles), rotates a random half by up to 20 degrees,
crops 60-100 % of each side, bends the grey curve (gamma 0.7-1.4), scales and adds noise, turns the
result by a random one of the 8 turns and asks the network which turn it was (cross entropy with
label smoothing 0.05, AdamW, one-cycle learning rate). ``--hold-out GROUP`` leaves the recipe's
sources of that group out and scores them after training (the held-out table of
`bench/picture_view.py`).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from scipy import ndimage

from medsee_cli.io.load import load_volume
from medsee_cli.io.plane_view import plane_view
from medsee_cli.model.picture_view import (FOLDER, TURNS, PictureView, ViewNet, estimate_view, hu_window, save_view_net,
                                           stretched, thumbnail, turned)

RECIPE = "picture-view.yaml"
SHRINK_TO = 128  # views are kept at most this many pixels a side (the network sees 64)


@dataclass(frozen=True)
class View:
    """One slice in the radiological view: float32 values, shrunk, and how to window it."""

    source: str
    group: str
    pixels: np.ndarray
    kind: str  # hu, byte or mr

    def grey(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """[0, 1] grey values; CT gets a random soft-tissue window when ``rng`` is given, else the
        network's own (`HU_WINDOW`)."""
        if self.kind == "hu":
            return hu_window(self.pixels, rng.uniform(0, 90), rng.uniform(250, 600)) if rng is not None else hu_window(self.pixels)
        if self.kind == "byte":
            return np.clip(self.pixels / 255.0, 0.0, 1.0)
        return stretched(self.pixels)


def recipe(data: Path) -> dict:
    text = resources.files("medsee_cli.training").joinpath("recipes").joinpath(RECIPE).read_text("utf-8")
    return yaml.safe_load(text.replace("${data}", str(data)))


def _shrink(plane: np.ndarray) -> np.ndarray:
    rows, cols = plane.shape
    factor = SHRINK_TO / max(rows, cols)
    tensor = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))[None, None]
    if factor < 1:
        tensor = F.interpolate(tensor, size=(max(1, round(rows * factor)), max(1, round(cols * factor))), mode="area")
    return tensor[0, 0].numpy()


def read_views(sources: list[dict]) -> list[View]:
    """Every axial slice of every source, in the radiological view."""
    views = []
    for source in sources:
        volume = load_volume(source["image"])
        array = np.asarray(volume.array(), dtype=np.float32)
        view = plane_view(volume.affine)
        for k in range(array.shape[2]):
            views.append(View(str(source["name"]), str(source["group"]), _shrink(view.to_display(array[:, :, k])),
                              str(source["kind"])))
    return views


def _augmented(view: View, rng: np.random.Generator) -> np.ndarray:
    grey = view.grey(rng)
    if rng.random() < 0.5:
        grey = ndimage.rotate(grey, rng.uniform(-20, 20), reshape=False, order=1)
    rows, cols = grey.shape
    keep = rng.uniform(0.6, 1.0)
    height, width = int(rows * rng.uniform(keep, 1.0)), int(cols * rng.uniform(keep, 1.0))
    top, left = rng.integers(0, rows - height + 1), rng.integers(0, cols - width + 1)
    grey = np.clip(grey[top:top + height, left:left + width], 0.0, 1.0) ** rng.uniform(0.7, 1.4)
    noise = rng.normal(0.0, rng.uniform(0.0, 0.03), grey.shape)
    return np.clip(grey * rng.uniform(0.85, 1.15) + noise, 0.0, 1.0).astype(np.float32)


def train(views: list[View], steps: int, batch: int, seed: int) -> ViewNet:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = ViewNet()
    optimiser = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    net.train()
    for _ in range(steps):
        turns = rng.integers(0, TURNS, size=batch)
        looks = [thumbnail(turned(_augmented(views[rng.integers(len(views))], rng), int(t))) for t in turns]
        logits = net(torch.from_numpy(np.stack(looks))[:, None])
        loss = F.cross_entropy(logits, torch.from_numpy(turns), label_smoothing=0.05)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return net.eval()


def posterior_of(turn: int) -> tuple[int, int]:
    """Where the patient's posterior points in a picture turned by ``turn``: (row step, column step)."""
    probe = turned(np.array([[0.0], [1.0]]), turn)  # a column running anterior (0) -> posterior (1)
    rows, cols = np.nonzero(probe == 1.0)
    return (int(np.sign(rows[0] - (probe.shape[0] - 1) / 2)), int(np.sign(cols[0] - (probe.shape[1] - 1) / 2)))


def score(net: ViewNet, views: list[View]) -> dict[str, dict[str, float]]:
    """Per source: the share of its slices, each turned all 8 ways, whose turn (``turn``) and whose
    posterior direction (``posterior``) the network names."""
    tally: dict[str, list[int]] = {}
    for view in views:
        grey = view.grey()
        counts = tally.setdefault(view.source, [0, 0, 0])
        for turn in range(TURNS):
            found: PictureView = estimate_view(turned(grey, turn), net)
            counts[0] += 1
            counts[1] += found.turn == turn
            counts[2] += posterior_of(found.turn) == posterior_of(turn)
    return {source: {"pictures": n, "turn": right / n, "posterior": back / n} for source, (n, right, back) in tally.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None, help=f"where to save it (default {FOLDER}; a held-out run saves only when given)")
    parser.add_argument("--hold-out", default="", help="a recipe group to leave out and score")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    plan = recipe(args.data.resolve())
    steps = int(args.steps or plan["steps"])
    started = time.perf_counter()
    views = read_views(plan["sources"])
    trained = [v for v in views if v.group != args.hold_out]
    held = [v for v in views if v.group == args.hold_out]
    net = train(trained, steps, int(plan["batch"]), int(plan["seed"]))
    record: dict[str, object] = {
        "recipe": RECIPE, "steps": steps, "batch": plan["batch"], "seed": plan["seed"],
        "sources": sorted({v.source for v in trained}), "training_views": len(trained),
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    if held:
        record["held_out"] = score(net, held)
    if args.out is not None or not args.hold_out:
        save_view_net(net, args.out or FOLDER, record)
    print(json.dumps(record))


if __name__ == "__main__":
    main()
