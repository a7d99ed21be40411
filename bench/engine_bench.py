"""Slice-engine benchmarks: end-to-end throughput vs the bare model, and peak memory vs slice count.

    python bench/engine_bench.py throughput --slices 12 --repeats 3 [--model medsee-grounding-v1]
    python bench/engine_bench.py memory --slices 100 300 1000 [--encoder standin|real]

Volumes are synthetic and lazy (a 512x512xN CT-like phantom computed slab by slab: body
ellipse at 40 HU in air, a 30 mm ball at 300 HU near the middle), so the figures are the
engine's own cost, not a reader's. ``--model random`` (default when the registry has no
grounding checkpoint) is a randomly initialised head on the real LiteMedSAM base: the same
compute as a trained head. ``--encoder standin`` replaces LiteMedSAM's image encoder by a cheap
op with the same output shape (B, 256, 64, 64), so 1000 slices fit in minutes on a CPU; the
head, the refiner and the engine are the real ones. Each memory size runs in its own process
and reports that process's peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class LazyPhantom:
    """A 512x512xN int16 CT-like volume computed on demand (array-like: shape, dtype, [i, j, k])."""

    def __init__(self, depth: int, size: int = 512, spacing: float = 0.8, thickness: float = 2.0) -> None:
        self.shape = (size, size, depth)
        self.dtype = np.dtype(np.int16)
        ii, jj = np.mgrid[:size, :size].astype(np.float32)
        self._body = ((ii - size / 2) / (size * 0.42)) ** 2 + ((jj - size / 2) / (size * 0.32)) ** 2 <= 1
        self._ball = (ii - size * 0.4) ** 2 * spacing ** 2 + (jj - size * 0.55) ** 2 * spacing ** 2
        self._centre_k, self._thickness = depth / 2, thickness

    def _slice(self, k: int) -> np.ndarray:
        plane = np.where(self._body, 40, -1000).astype(np.int16)
        dz = (k - self._centre_k) * self._thickness
        plane[self._ball + dz ** 2 <= 15.0 ** 2] = 300
        return plane

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        si, sj, sk = key
        ks = range(*sk.indices(self.shape[2]))
        return np.stack([self._slice(k)[si, sj] for k in ks], axis=-1)


def phantom_volume(depth: int):  # type: ignore[no-untyped-def]
    from medsee_cli.io.volume import Volume

    return Volume(LazyPhantom(depth), np.diag([0.8, 0.8, 2.0, 1.0]), modality="CT")


def load_model(spec: str, threads: int):  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(threads)
    from medsee_cli.model.grounding import GroundingConfig, GroundingModel

    if spec == "random":
        torch.manual_seed(0)
        return GroundingModel.from_config(GroundingConfig()), "random head (default config) on litemedsam-base"
    return GroundingModel.load(spec), spec


class StandInEncoder:
    """Wraps a grounding model; ``encode`` returns features of the real shape from a cheap op."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        import torch

        self.model = model
        self.weight = torch.randn(256, 3, 1, 1) * 0.1

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.model, name)

    def encode(self, images):  # type: ignore[no-untyped-def]
        import torch.nn.functional as F

        from medsee_cli.model.grounding import Features

        small = F.avg_pool2d(images.float(), 4)
        return Features(F.conv2d(small, self.weight), images[:, :1])


class OraclePresence(StandInEncoder):
    """Also runs the real head, then replaces its presence and coarse mask by the phantom's ball
    (the brightest pixels of the windowed input), so refinement runs where a trained model
    would find the small target: a realistic number of found slices and sizes of masks."""

    def ground(self, features, text):  # type: ignore[no-untyped-def]
        import torch.nn.functional as F

        from medsee_cli.model.grounding import Grounding

        real = self.model.ground(features, text)
        side = real.mask_logits.shape[-1]
        bright = F.adaptive_max_pool2d(features.image.float(), side)[:, 0] > 0.97  # (B, h, w)
        # inputs are min-max scaled per slice: without the ball the whole body is "brightest"
        bright &= bright.float().mean(dim=(1, 2), keepdim=True) < 0.05
        logits = (bright.float() * 20 - 10)[:, None].expand_as(real.mask_logits).contiguous()
        presence = logits.amax(dim=(2, 3))
        return Grounding(logits, presence, real.boxes, real.stride)


class Timed:
    """Wraps a model and adds up the seconds spent inside encode, ground and refine."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model = model
        self.seconds = 0.0

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        value = getattr(self.model, name)
        if name not in ("encode", "ground", "refine"):
            return value

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def default_spec() -> str:
    from medsee_cli.model.registry import load_registry

    return "medsee-grounding-v1" if "medsee-grounding-v1" in load_registry() else "random"


def throughput(args: argparse.Namespace) -> dict:
    import torch

    from medsee_cli.engine.device import running
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.engine.prefetch import read_slices
    from medsee_cli.engine.stream import SliceEngine

    model, described = load_model(args.model or default_spec(), args.threads)
    if args.encoder == "standin":
        model, described = StandInEncoder(model), described + " with a stand-in image encoder"
    volume = phantom_volume(args.slices)
    texts = ["pancreatic_lesion"]
    batch = args.batch_size
    options = EngineOptions(device="cpu", precision="bf16", batch_size=batch, skip_stride=1, presence_threshold=1.0,
                            plausible_threshold=1.0)
    from medsee_cli.reasoning.target_text import open_target_texts

    vectors = open_target_texts(model.text_encoder).vectors(texts)
    inputs = [model.prepare(read_slices(volume, list(range(s, min(s + batch, args.slices))), 0), "CT")[0]
              for s in range(0, args.slices, batch)]
    inputs = [x.contiguous(memory_format=torch.channels_last) for x in inputs]
    dtype = torch.bfloat16
    bare, e2e, refined, busy = [], [], [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        with running(torch.device("cpu"), dtype):
            for x in inputs:
                model.ground(model.encode(x), torch.from_numpy(vectors))
        bare.append(args.slices / (time.perf_counter() - started))
        timed = Timed(model)
        run = SliceEngine(timed, options).run(volume, texts, vectors)
        e2e.append(run.slices_run / run.seconds)
        busy.append(timed.seconds / run.seconds)
    if args.refine_check:
        every = EngineOptions(device="cpu", precision="bf16", batch_size=batch, skip_stride=1,
                              presence_threshold=0.0, plausible_threshold=0.0)
        run = SliceEngine(model, every).run(volume, texts, vectors)
        refined.append(run.slices_run / run.seconds)
    return {"bench": "throughput", "model": described, "encoder": args.encoder, "device": "cpu", "threads": args.threads,
            "precision": "bf16", "batch_size": batch, "slices": args.slices, "slice_shape": [512, 512],
            "bare_slices_per_s": [round(v, 3) for v in bare], "engine_slices_per_s": [round(v, 3) for v in e2e],
            "ratio_median": round(statistics.median(e2e) / statistics.median(bare), 3),
            "model_busy_fraction_of_engine_wall_time": [round(v, 3) for v in busy],
            "engine_refining_every_slice_per_s": [round(v, 3) for v in refined]}


def memory_one(args: argparse.Namespace) -> dict:
    from medsee_cli.engine.findings import finding
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.engine.stream import SliceEngine
    from medsee_cli.reasoning.target_text import open_target_texts

    model, described = load_model(args.model or default_spec(), args.threads)
    if args.encoder == "standin":
        model, described = OraclePresence(model), described + " with a stand-in image encoder and oracle presence"
    volume = phantom_volume(args.slices[0])
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # LiteMedSAM's decoder needs a real image embedding: with the stand-in, masks are the coarse ones
    options = EngineOptions(device="cpu", precision="bf16", batch_size=args.batch_size, skip_stride=args.skip_stride,
                            presence_threshold=args.presence, plausible_threshold=min(args.presence, 0.25),
                            refine=args.encoder == "real")
    run = SliceEngine(model, options).run(volume, ["pancreatic_lesion"],
                                          open_target_texts(model.text_encoder).vectors(["pancreatic_lesion"]))
    found = finding(volume, run.tracks[0], modality=run.modality)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"bench": "memory", "model": described, "slices": args.slices[0], "slice_shape": [512, 512],
            "skip_stride": args.skip_stride, "presence_threshold": args.presence, "slices_run": run.slices_run,
            "seconds": round(run.seconds, 2), "ms_per_slice_run": round(1000 * run.seconds / max(1, run.slices_run), 1),
            "found_slices": len(found.slices), "found_ml": found.volume_ml, "refine": options.refine, "rss_before_run_mb": round(baseline), "peak_rss_mb": round(peak),
            "int16_volume_mb": round(512 * 512 * args.slices[0] * 2 / 2 ** 20),
            "float32_copy_would_be_mb": round(512 * 512 * args.slices[0] * 4 / 2 ** 20)}


def memory(args: argparse.Namespace) -> list[dict]:
    results = []
    for n in args.slices:
        command = [sys.executable, __file__, "memory-one", "--slices", str(n), "--encoder", args.encoder,
                   "--skip-stride", str(args.skip_stride), "--presence", str(args.presence),
                   "--threads", str(args.threads), "--batch-size", str(args.batch_size)]
        if args.model:
            command += ["--model", args.model]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=["throughput", "memory", "memory-one"])
    parser.add_argument("--slices", type=int, nargs="+", default=None)
    parser.add_argument("--model", default=None, help="registry name, folder, or 'random'")
    parser.add_argument("--encoder", choices=["real", "standin"], default=None,
                        help="default: real for throughput, standin for memory")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-stride", type=int, default=4)
    parser.add_argument("--presence", type=float, default=0.5)
    parser.add_argument("--refine-check", action="store_true", help="also time refining every slice")
    args = parser.parse_args()
    args.encoder = args.encoder or ("real" if args.bench == "throughput" else "standin")
    if args.bench == "throughput":
        args.slices = (args.slices or [12])[0]
        print(json.dumps(throughput(args)))
    elif args.bench == "memory":
        args.slices = args.slices or [100, 300, 1000]
        memory(args)
    else:
        print(json.dumps(memory_one(args)))


if __name__ == "__main__":
    main()
