"""``--limit N``: a sample of N items that spans the dataset's targets and cases, the same every run.

Items are grouped by target; each group is shuffled with the seed and its cases interleaved
(no case repeats before every case of that target has had an item); then targets take turns,
one item each, until N are taken. The sample keeps the dataset's order.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from medsee_cli.eval.items import EvalItem


def _spread_cases(items: list[EvalItem], rng: random.Random) -> list[EvalItem]:
    by_case: dict[str, list[EvalItem]] = defaultdict(list)
    for item in items:
        by_case[item.case_id].append(item)
    queues = [by_case[c] for c in sorted(by_case)]
    for queue in queues:
        rng.shuffle(queue)
    rng.shuffle(queues)
    order = []
    while any(queues):
        order += [q.pop(0) for q in queues if q]
    return order


def sample_items(items: Sequence[EvalItem], limit: int | None, seed: int = 0) -> tuple[EvalItem, ...]:
    """All ``items`` when ``limit`` is None or covers them; otherwise the seeded spread sample."""
    if limit is None or limit >= len(items):
        return tuple(items)
    rng = random.Random(seed)
    by_target: dict[str, list[EvalItem]] = defaultdict(list)
    for item in items:
        by_target[item.target].append(item)
    queues = [_spread_cases(by_target[t], rng) for t in sorted(by_target)]
    chosen: set[str] = set()
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.add(queue.pop(0).item_id)
    return tuple(item for item in items if item.item_id in chosen)
