"""Train and measure the learned re-ranker (`medsee_cli/reasoning/rerank.py`) on the reasoning question sets.

    .venv/bin/python bench/reasoning_rerank.py                  # leave-one-set-out table for the outsider sets
    .venv/bin/python bench/reasoning_rerank.py --search         # ... for every hyper-parameter setting in GRID
    .venv/bin/python bench/reasoning_rerank.py --write          # train on every set, write data/rerank.json

The resolver runs once per question with the re-ranker off; its best hypotheses and their features are kept
in a cache file (``--cache``, rebuilt with ``--refresh``). Leave-one-set-out: for each outsider set (rounds 3 to
8, written and scored before their round's tuning, and external) the model is trained on every other set and
scores the held-out one; for rounds 3-8 the even half (never tuned on) is reported too. Any set whose name holds
one of ``EXCLUDED`` (the untouched test set) is never read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests/reasoning/data"
EXCLUDED = ("round9", "round10", "round11")  # the untouched test sets: never read, trained on or scored here
HELD_OUT = ("issue15_round3", "issue15_round4", "issue15_round5", "issue15_round6", "issue15_round7",
            "issue15_round8", "issue15_external")
DEPTH = 8


@dataclass(frozen=True)
class Options:
    """``units``: the tanh layer's width (0: linear); ``l2``: weight decay; ``margin``: how much surer the model
    must be of another hypothesis than of the resolver's first to move it; ``steps``/``rate``: Adam."""

    units: int = 0
    l2: float = 0.0003
    margin: float = 0.1
    steps: int = 600
    rate: float = 0.05
    seed: int = 0


GRID = [Options(units=u, l2=l2) for u, l2 in itertools.product((0, 8), (0.0003, 0.001, 0.003))]
MARGINS = (0.0, 0.1, 0.2, 0.3)


def set_names() -> list[str]:
    names = []
    for path in sorted(DATA.glob("questions_*.jsonl")):
        if any(word in path.name for word in EXCLUDED):
            continue
        names.append(path.stem.removeprefix("questions_"))
    return names


def extract(cache: Path) -> dict:
    """Per set, per question: line, targets, whether the resolver abstained, candidate names and feature rows."""
    sys.path.insert(0, str(ROOT))
    from medsee_cli.reasoning.evaluate import read_questions
    from medsee_cli.reasoning.rerank_features import FEATURES, feature_rows
    from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver

    resolver = Resolver.from_options(ReasonerOptions(rerank=False))
    known = set(resolver.kb.names())
    out: dict = {"features": list(FEATURES), "sets": {}}
    for name in set_names():
        rows = []
        for q in read_questions(DATA / f"questions_{name}.jsonl", known):
            found = resolver.candidates(q.query, q.scan, DEPTH)
            rows.append({"line": q.line, "targets": list(q.targets), "abstained": found is None,
                         "names": [c.name for c in found.items] if found else [],
                         "rows": feature_rows(found).round(5).tolist() if found else []})
        out["sets"][name] = rows
        print(f"extracted {name}: {len(rows)}", file=sys.stderr)
    cache.write_text(json.dumps(out))
    return out


def tensors(questions: list[dict], n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows Q x R x F, valid-row mask, right-answer mask), for questions with a right answer among the rows."""
    kept = []
    for q in questions:
        if q["abstained"]:
            continue
        right = [name in q["targets"] for name in q["names"]] + [not q["targets"]]
        if any(right):
            kept.append((q["rows"], right))
    width = DEPTH + 1
    x = np.zeros((len(kept), width, n_features))
    valid = np.zeros((len(kept), width), dtype=bool)
    right = np.zeros((len(kept), width), dtype=bool)
    for i, (rows, flags) in enumerate(kept):
        n = len(rows) - 1
        x[i, :n], x[i, -1] = rows[:-1], rows[-1]  # the abstain row always last
        valid[i, :n], valid[i, -1] = True, True
        right[i, :n], right[i, -1] = flags[:-1], flags[-1]
    return x, valid, right


def train(questions: list[dict], n_features: int, options: Options):
    """Fit the model by Adam on the softmax loss over each question's rows (the log of the probability of its
    right rows), with L2 on the weights."""
    from medsee_cli.reasoning.rerank import RerankModel

    x, valid, right = tensors(questions, n_features)
    flat = x[valid]
    scale = flat.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = x / scale
    rng = np.random.default_rng(options.seed)
    params = {"linear": np.zeros(n_features), "hidden": rng.normal(0, 0.1, (n_features, options.units)),
              "bias": np.zeros(options.units), "out": rng.normal(0, 0.1, options.units)}
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    for step in range(1, options.steps + 1):
        act = np.tanh(z @ params["hidden"] + params["bias"])
        s = z @ params["linear"] + act @ params["out"]
        s = np.where(valid, s, -1e9)
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s) * valid
        p /= p.sum(axis=1, keepdims=True)
        q = p * right
        q /= q.sum(axis=1, keepdims=True)
        ds = (p - q) / len(z)  # d(mean -log sum_right p) / d score
        dact = ds[..., None] * params["out"] * (1 - act ** 2)
        flat_z, flat_ds = z.reshape(-1, n_features), ds.reshape(-1)
        grads = {"linear": flat_ds @ flat_z + 2 * options.l2 * params["linear"],
                 "out": flat_ds @ act.reshape(len(flat_ds), options.units) + 2 * options.l2 * params["out"],
                 "hidden": flat_z.T @ dact.reshape(len(flat_ds), options.units) + 2 * options.l2 * params["hidden"],
                 "bias": dact.sum(axis=(0, 1))}
        for key, grad in grads.items():
            m, v = moments[key]
            m[:] = 0.9 * m + 0.1 * grad
            v[:] = 0.999 * v + 0.001 * grad ** 2
            params[key] -= options.rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    from medsee_cli.reasoning.rerank_features import FEATURES

    return RerankModel(FEATURES, np.zeros(n_features), scale, params["linear"], params["hidden"], params["bias"],
                       params["out"])


def rates(questions: list[dict], model=None, margin: float = 0.0) -> dict:
    """top-1 / top-3 over in-scope lines and abstention over out-of-scope lines, with or without the model."""
    from medsee_cli.reasoning.rerank import softmax

    top1, top3, abstain, moved = [], [], [], 0
    for q in questions:
        names = list(q["names"])
        if model is not None and len(names) > 1:
            chances = softmax(model.scores(np.asarray(q["rows"])))[:-1]
            best = int(np.argmax(chances))
            if best and chances[best] - chances[0] > margin:
                names = [names[best]] + names[:best] + names[best + 1:]
                moved += 1
        shown = names[:5]
        if q["targets"]:
            top1.append(bool(shown) and shown[0] in q["targets"])
            top3.append(any(n in q["targets"] for n in shown[:3]))
        else:
            abstain.append(q["abstained"])
    mean = lambda f: round(sum(f) / len(f), 3) if f else None  # noqa: E731
    return {"n": len(questions), "top1": mean(top1), "top3": mean(top3), "abstain": mean(abstain), "moved": moved}


def leave_one_out(cache: dict, options: Options, margins: tuple[float, ...] = ()) -> dict[float, dict]:
    """Per margin (``options.margin`` when none are given), the held-out table: each part's rates for the resolver
    alone and with the model trained on every other set."""
    n_features = len(cache["features"])
    margins = margins or (options.margin,)
    tables: dict[float, dict] = {m: {} for m in margins}
    for held in HELD_OUT:
        train_on = [q for name, qs in cache["sets"].items() if name != held for q in qs]
        model = train(train_on, n_features, options)
        parts = {"whole": cache["sets"][held]}
        if held != "issue15_external":
            parts["even"] = [q for q in cache["sets"][held] if q["line"] % 2 == 0]
        for part, qs in parts.items():
            for margin in margins:
                tables[margin][f"{held}:{part}"] = {"resolver": rates(qs), "reranked": rates(qs, model, margin)}
    return tables


def summary(table: dict) -> dict:
    """Mean top-1 / top-3 change over the untouched parts (the even halves and external)."""
    keys = [k for k in table if k.endswith(":even") or k.startswith("issue15_external")]
    gain = {m: float(np.mean([table[k]["reranked"][m] - table[k]["resolver"][m] for k in keys]))
            for m in ("top1", "top3")}
    return {"top1_gain": round(gain["top1"], 4), "top3_gain": round(gain["top3"], 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/medsee_rerank_cache.json"))
    parser.add_argument("--refresh", action="store_true", help="re-run the resolver on every set")
    parser.add_argument("--search", action="store_true", help="leave-one-set-out for every setting in GRID")
    parser.add_argument("--write", action="store_true", help="train on every set and write data/rerank.json")
    parser.add_argument("--units", type=int, default=Options.units)
    parser.add_argument("--l2", type=float, default=Options.l2)
    parser.add_argument("--margin", type=float, default=Options.margin)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from medsee_cli.reasoning.rerank_features import FEATURES

    cache = json.loads(args.cache.read_text()) if args.cache.is_file() and not args.refresh else None
    if cache is None or cache["features"] != list(FEATURES):  # none yet, or built for other features
        cache = extract(args.cache)
    chosen = Options(units=args.units, l2=args.l2, margin=args.margin)
    if args.search:
        for options in GRID:
            for margin, table in leave_one_out(cache, options, MARGINS).items():
                print(json.dumps({"units": options.units, "l2": options.l2, "margin": margin, **summary(table)}),
                      flush=True)
        return 0
    if args.write:
        model = train([q for qs in cache["sets"].values() for q in qs], len(cache["features"]), chosen)
        path = ROOT / "medsee_cli/reasoning/data/rerank.json"
        payload = {"depth": DEPTH, "margin": chosen.margin, "trained_on": sorted(cache["sets"]),
                   "options": {"units": chosen.units, "l2": chosen.l2, "steps": chosen.steps}, "model": model.to_dict()}
        path.write_text(json.dumps(payload, indent=1) + "\n")
        print("wrote", path, file=sys.stderr)
        return 0
    table = leave_one_out(cache, chosen)[chosen.margin]
    for key, row in table.items():
        r, k = row["resolver"], row["reranked"]
        print(f"{key:28s} n={r['n']:4d}  resolver {r['top1']:.3f} / {r['top3']:.3f} / {r['abstain']}"
              f"  ->  reranked {k['top1']:.3f} / {k['top3']:.3f} / {k['abstain']}  (moved {k['moved']})")
    print(json.dumps(summary(table)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
