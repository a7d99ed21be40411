"""Benchmark the reasoning step: quality on the dev and held-out question sets, load time, latency.

    .venv/bin/python bench/reasoning_bench.py            # full resolver (MiniLM encoder)
    .venv/bin/python bench/reasoning_bench.py --encoder none
    .venv/bin/python bench/reasoning_bench.py --refresh-cache   # after editing knowledge.yaml
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {"dev": ROOT / "tests/reasoning/data/questions_dev.jsonl",
        "heldout": ROOT / "tests/reasoning/data/questions_heldout.jsonl"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--refresh-cache", action="store_true")
    parser.add_argument("--misses", action="store_true", help="print the questions that missed")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from medsee_cli.reasoning.evaluate import evaluate_questions
    from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver

    started = time.perf_counter()
    if args.encoder != "none":
        from medsee_cli.reasoning.encoder import SentenceEncoder, packaged_encoder_path

        import_done = time.perf_counter()
        folder = packaged_encoder_path() if args.encoder == "auto" else Path(args.encoder)
        encoder = SentenceEncoder(folder)
        encoder_s = time.perf_counter() - import_done
    else:
        encoder, encoder_s = None, 0.0
    from medsee_cli.reasoning.knowledge import load_knowledge

    resolver = Resolver(load_knowledge(), ReasonerOptions(encoder=args.encoder), encoder)
    total_load = time.perf_counter() - started
    if args.refresh_cache and encoder is not None:
        from medsee_cli.reasoning.embedding_cache import save_cache

        texts = resolver.embedding_texts()
        print("wrote", save_cache(texts, encoder.folder, encoder.encode(texts)))
    results = {"encoder": args.encoder, "startup_s": round(total_load, 3), "encoder_load_s": round(encoder_s, 3),
               "kb_vectors_s": round(resolver.load_seconds, 3)}
    latencies = []
    for name, path in SETS.items():
        report = evaluate_questions(path, resolver)
        results[name] = {k: v for k, v in report.to_dict().items() if k != "items"}
        if args.misses:
            for item in report.items:
                if not item.hit:
                    print(f"[{name}] {item.query!r}: expected {item.expected[:3]}, got {item.predicted}")
    questions = [json.loads(line)["query"] for line in SETS["heldout"].read_text().splitlines() if line.strip()]
    for question in questions:
        t0 = time.perf_counter()
        resolver.resolve(question)
        latencies.append(time.perf_counter() - t0)
    results["latency_ms"] = {"median": round(1000 * statistics.median(latencies), 2),
                             "p95": round(1000 * sorted(latencies)[int(0.95 * len(latencies))], 2)}
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
