"""Labelled slices in the model's display orientation, from each source of a recipe.

A `LabelledSlice` is an 8-bit windowed slice plus, for each target the source can show, its
mask when present; ``negatives`` are the targets known to be absent from that slice (labelled
by the source but empty here, or declared absent for the whole source). Targets the source
does not label are neither: they are never used as negatives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from medsee_cli.model.grounding.orientation import plane_view
from medsee_cli.model.preprocess import Window, ct_window, to_uint8, window_for
from medsee_cli.training.contrast import enhance
from medsee_cli.training.lesions import LesionSpec, insert_lesions
from medsee_cli.training.recipe import SourceSpec
from medsee_cli.training.targets import label_ids, labelled_targets

MIN_PIXELS = 3  # a target with fewer pixels in a slice counts as neither present nor absent


@dataclass(frozen=True)
class LabelledSlice:
    source: str  # source name
    volume: str  # which volume of the source (phantoms: one per seed)
    index: int  # slice index k in that volume
    role: str
    image: np.ndarray  # (rows, cols) uint8, display orientation
    masks: dict[str, np.ndarray]  # present targets -> (rows, cols) bool
    negatives: tuple[str, ...]
    pixel_mm: tuple[float, float] = (1.0, 1.0)  # (row height, column width) of the display


def by_presence(masks: Iterable[tuple[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], list[str]]:
    """(present targets -> mask, absent targets) of a slice's ``(target, mask)`` pairs: at least
    `MIN_PIXELS` pixels is present, none is absent, a sliver between is neither."""
    present: dict[str, np.ndarray] = {}
    absent: list[str] = []
    for target, mask in masks:
        count = int(mask.sum())
        if count >= MIN_PIXELS:
            present[target] = np.ascontiguousarray(mask)
        elif count == 0:
            absent.append(target)
    return present, absent


def selected_slices(ranges: tuple[tuple[int, int, int], ...], depth: int) -> np.ndarray:
    if not ranges:
        return np.arange(depth)
    picked = sorted({k for start, stop, step in ranges for k in range(start, min(stop, depth), max(step, 1))})
    return np.asarray(picked, dtype=int)


def _window(modality: str, values: np.ndarray) -> Window:
    return ct_window() if modality == "CT" else window_for(modality, values)


def _slices_of(spec: SourceSpec, volume_name: str, hu: np.ndarray, labels: np.ndarray, names: dict[int, str],
               affine: np.ndarray, picked: np.ndarray, targets: list[str]) -> Iterator[LabelledSlice]:
    view = plane_view(affine)
    window = _window(spec.modality, hu)
    known = labelled_targets(targets, names)
    absent = [t for t in spec.absent if t in targets]
    id_sets = {t: label_ids(t, names) for t in known}
    for k in picked:
        plane = view.to_display(labels[:, :, k])
        masks, negatives = by_presence((target, np.isin(plane, id_sets[target])) for target in known)
        negatives += [t for t in absent if t not in masks and t not in negatives]
        image = to_uint8(np.ascontiguousarray(view.to_display(hu[:, :, k])), window)
        yield LabelledSlice(spec.name, volume_name, int(k), spec.role, image, masks, tuple(negatives), view.pixel_mm)


def _volume_slices(spec: SourceSpec, targets: list[str]) -> Iterator[LabelledSlice]:
    from medsee_cli.errors import InputError
    from medsee_cli.io import load_volume

    if spec.image is None or spec.labels is None:
        raise InputError(spec.name, "a volume source needs both 'image' and 'labels'")
    image = load_volume(spec.image)
    hu = np.asarray(image.array(), dtype=np.float32)
    labels = np.rint(np.asarray(load_volume(spec.labels).array())).astype(np.int32)
    if hu.ndim == 4:
        hu = hu[..., 0]
    if labels.ndim == 4:
        labels = labels[..., 0]
    names = dict(spec.label_names)
    picked = selected_slices(spec.slices, hu.shape[2])
    rng = np.random.default_rng(spec.seed)
    next_id = max(list(names) + [int(labels.max())]) + 1
    for request in spec.lesions:
        organ_ids = tuple(label_ids(request.organ, names))
        lesion_spec = LesionSpec(request.target, organ_ids, request.count)
        hu, lesion = insert_lesions(hu, labels, image.spacing, lesion_spec, rng, slices=picked)
        labels = np.where(lesion, next_id, labels)
        names[next_id] = request.target
        next_id += 1
    if spec.contrast:
        hu = enhance(hu, labels, names, spec.contrast)
    items = _slices_of(spec, spec.name, hu, labels, names, image.affine, picked, targets)
    if spec.fields_mm:
        from medsee_cli.training.fields import zoomed

        items = zoomed(items, spec.fields_mm, plane_view(image.affine).pixel_mm, spec.seed)
    yield from items


def _phantom_slices(spec: SourceSpec, targets: list[str]) -> Iterator[LabelledSlice]:
    from medsee_cli.training.phantoms import random_phantom

    for number in range(spec.count):
        seed = spec.seed + number
        case = spec.cases[number % len(spec.cases)]
        phantom, names, picked = random_phantom(case, seed, spec.slices_per_volume, spec.phases, spec.hu_jitter)
        yield from _slices_of(spec, f"{spec.name}-{case}-{seed}", phantom.hu.astype(np.float32), phantom.labels.astype(np.int32),
                              names, phantom.affine, picked, targets)


def labelled_slices(spec: SourceSpec, targets: list[str]) -> Iterator[LabelledSlice]:
    if spec.kind == "phantom":
        yield from _phantom_slices(spec, targets)
    else:
        yield from _volume_slices(spec, targets)
