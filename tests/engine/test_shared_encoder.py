"""`SharedEncoder`: encode calls from several threads share forward passes, each caller gets its rows."""

from __future__ import annotations

import threading

import pytest
import torch

from medsee_cli.engine.shared_encoder import SharedEncoder, SharedModel
from tests.engine.toy import BrightModel


def test_callers_on_several_threads_get_their_own_rows_from_shared_passes():
    model = BrightModel()
    encoder = SharedEncoder(model, torch.device("cpu"), None, max_batch=8, wait_s=0.2)
    got: dict[int, torch.Tensor] = {}
    start = threading.Barrier(4)

    def call(n: int) -> None:
        start.wait()
        got[n] = encoder.encode(torch.full((2, 1, 4, 4), float(n)))

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    encoder.close()
    assert all(torch.equal(got[n], torch.full((2, 1, 4, 4), float(n))) for n in range(4))
    assert sum(encoder.batches) == 8 and max(encoder.batches) > 2  # at least two callers shared a pass
    assert all(size <= 8 for size in model.encoded)


def test_an_error_in_a_shared_pass_reaches_every_caller_in_it():
    model = BrightModel(oom_above=1)
    encoder = SharedEncoder(model, torch.device("cpu"), None, max_batch=4, wait_s=1.0)
    errors: list[str] = []
    start = threading.Barrier(2)

    def call() -> None:
        start.wait()
        try:
            encoder.encode(torch.zeros((1, 1, 4, 4)))
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    encoder.close()
    assert errors and all("out of memory" in e for e in errors)
    with pytest.raises(ValueError):
        SharedEncoder(model, torch.device("cpu"), None, max_batch=0)


def test_the_shared_model_is_the_model_but_for_encoding():
    model = BrightModel(context_slices=1)
    encoder = SharedEncoder(model, torch.device("cpu"), None, max_batch=2)
    shared = SharedModel(model, encoder)
    assert (shared.input_size, shared.context_slices, shared.text_encoder) == (model.input_size, 1, "toy-levels")
    assert shared.presence_logit("liver") == model.presence_logit("liver")
    assert torch.equal(shared.encode(torch.ones((1, 1, 4, 4))), torch.ones((1, 1, 4, 4)))
    encoder.close()
