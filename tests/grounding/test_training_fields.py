"""Zoomed fields of view, recipes that extend others, source weights, and cache keys."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from medsee_cli.errors import InputError
from medsee_cli.training.cache import CachedSource, cache_key
from medsee_cli.training.fields import cut
from medsee_cli.training.recipe import SourceSpec, load_recipe, shipped_recipe
from medsee_cli.training.sampler import PairSampler


def _slice() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    image = np.zeros((120, 120), np.uint8)
    image[20:100, 10:110] = 120  # the body
    liver = np.zeros(image.shape, bool)
    liver[30:70, 15:60] = True
    spleen = np.zeros(image.shape, bool)
    spleen[30:50, 100:109] = True
    return image, {"liver": liver, "spleen": spleen}


def test_a_cut_is_a_field_of_the_asked_size_around_the_bodys_middle() -> None:
    image, masks = _slice()
    rng = np.random.default_rng(0)
    for _ in range(20):
        picture, kept, negatives = cut(image, masks, ("lungs",), 90.0, (1.5, 1.5), rng)
        assert picture.shape == (60, 60)
        assert (picture > 0).mean() > 0.6  # centred in the body's middle half: mostly body
        assert not set(kept) & set(negatives)
        assert "lungs" in negatives and all(m.shape == (60, 60) for m in kept.values())
    # non-square pixels: the field is square in millimetres
    picture, _, _ = cut(image, masks, (), 60.0, (2.0, 1.0), rng)
    assert picture.shape == (30, 60)


def test_a_cut_that_leaves_an_organ_out_makes_it_a_negative_and_a_sliver_neither() -> None:
    image = np.full((100, 100), 120, np.uint8)
    far = np.zeros(image.shape, bool)
    far[0:5, 0:5] = True  # never inside a 40 px field centred in the middle half
    sliver = np.zeros(image.shape, bool)
    sliver[49:51, 50] = True  # two pixels every 50 px field around the middle half holds
    rng = np.random.default_rng(1)
    for _ in range(10):
        picture, kept, negatives = cut(image, {"far": far, "sliver": sliver}, (), 40.0, (1.0, 1.0), rng)
        assert "far" in negatives and "far" not in kept
        _, kept, negatives = cut(image, {"sliver": sliver}, (), 50.0, (1.0, 1.0), rng)
        assert "sliver" not in kept and "sliver" not in negatives
    assert picture.dtype == np.uint8


def test_a_cut_past_the_image_is_air() -> None:
    image = np.full((20, 20), 200, np.uint8)
    picture, _, _ = cut(image, {}, (), 60.0, (1.0, 1.0), np.random.default_rng(2))
    assert picture.shape == (60, 60) and int((picture == 200).sum()) == 400 and int((picture == 0).sum()) == 3600 - 400


def test_a_recipe_extends_another_and_weights_its_sources(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "targets: [liver]\nseed: 5\nsources:\n  - {name: p, kind: phantom, count: 1}\n  - {name: q, kind: phantom, count: 1, weight: 3}\n")
    (tmp_path / "more.yaml").write_text("extends: base.yaml\nsources:\n  - {name: r, kind: phantom, count: 1, weight: 4}\n")
    recipe = load_recipe(tmp_path / "more.yaml")
    assert [s.name for s in recipe.sources] == ["p", "q", "r"] and recipe.targets == ("liver",) and recipe.seed == 5
    assert (recipe.weight("p"), recipe.weight("q"), recipe.weight("r")) == (1, 3, 4)
    (tmp_path / "twice.yaml").write_text("extends: base.yaml\nsources:\n  - {name: p, kind: phantom, count: 1}\n")
    with pytest.raises(InputError, match="p given twice"):
        load_recipe(tmp_path / "twice.yaml")
    (tmp_path / "bad.yaml").write_text("targets: [liver]\nsources:\n  - {name: s, kind: phantom, weight: 0.5}\n")
    with pytest.raises(InputError, match="source s: weight must be a whole number"):
        load_recipe(tmp_path / "bad.yaml")
    (tmp_path / "field.yaml").write_text("targets: [liver]\nsources:\n  - {name: v, image: a.nii.gz, labels: b.nii.gz, fields_mm: [5]}\n")
    with pytest.raises(InputError, match="source v: fields_mm"):
        load_recipe(tmp_path / "field.yaml")


def test_the_zoomed_experiment_extends_the_contrast_recipe(tmp_path: Path) -> None:
    (tmp_path / "labelmap_total.json").write_text('{"total": {"1": "spleen"}, "total_mr": {"1": "spleen"}}')
    recipe = load_recipe(shipped_recipe().with_name("zoomed-fields.yaml"), tmp_path)
    zoomed = [s for s in recipe.sources if s.fields_mm]
    assert {s.role for s in zoomed} == {"train", "holdout"} and len(recipe.sources) == len(zoomed) + 18
    assert all(recipe.weight(s.name) == 2 for s in zoomed if s.role == "train")


def test_a_cache_key_moves_only_with_what_changes_the_pictures() -> None:
    spec = SourceSpec(name="a", kind="volume", image=Path("/x/ct.nii.gz"), labels=Path("/x/l.nii.gz"))
    import hashlib

    old = hashlib.sha256(repr((spec, ["liver"], "sha", 3)).encode()).hexdigest()[:16]
    assert cache_key(spec, ["liver"], "sha") == old  # caches made before fields_mm stay valid
    assert cache_key(replace(spec, fields_mm=(180.0,)), ["liver"], "sha") != old
    assert cache_key(spec, ["liver"], "sha", min_field_mm=350.0) != old


def _source(name: str, slices: int) -> CachedSource:
    entries = [{"volume": name, "index": k, "positives": {"liver": k}, "negatives": []} for k in range(slices)]
    return CachedSource(name, "train", torch.zeros((slices, 1, 1, 1)), torch.zeros((slices, 1, 1), dtype=torch.uint8),
                        np.zeros((slices, 8), np.uint8), entries)


def test_a_weighted_source_is_drawn_in_proportion() -> None:
    bank = [torch.zeros((1, 384))]
    sources = [_source("phantom", 40), _source("real", 10)]
    plain = PairSampler(sources, ["liver"], bank, seed=0)
    weighted = PairSampler(sources, ["liver"], bank, seed=0, weights={"real": 4})
    share = lambda sampler: sum(sampler.pairs[i].source == 1 for i in sampler.groups[0]) / len(sampler.groups[0])  # noqa: E731
    assert share(plain) == pytest.approx(10 / 50) and share(weighted) == pytest.approx(40 / 80)
