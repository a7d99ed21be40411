"""Which way a picture without geometry is turned: one of the 8 flips/rotations of the radiological view.

A PNG or JPEG slice carries no orientation. The grounding model was trained on the radiological view
(anterior at the top, the patient's right on the viewer's left; `medsee_cli.io.plane_view`) and
relies on it: the same slices score far lower mirrored or rotated. A small network (four
convolution blocks on a 64 x 64 thumbnail, about 55 k weights, trained by
`medsee_cli.training.picture_view` on the real slices of the shared data folder, every view turned
all 8 ways) names the turn. It is asked about all 8 turns of the picture, and the 8 answers, each
mapped back to the picture, are summed (log-probabilities): the turn with the largest sum wins.

A *turn* ``t`` (0-7) says how the radiological view ``D`` became the picture ``P``: bit 0 transposes,
then bit 1 flips the rows, then bit 2 flips the columns (`turned`). ``t = 0`` is a picture already
shown radiologically.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from medsee_cli.io.plane_view import display_affine
from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.weights import load_strict, read_safetensors_state

TURNS = 8
SIZE = 64  # the network's input: the picture padded to a square and shrunk to SIZE x SIZE
CHANNELS = (1, 16, 32, 48, 64)
FOLDER = Path(__file__).resolve().parent / "checkpoints" / "picture_view"
WEIGHTS_NAME = "model.safetensors"
HU_WINDOW = (40.0, 400.0)  # (level, width): how a picture in Hounsfield units is shown to the network


def turned(picture: np.ndarray, turn: int) -> np.ndarray:
    """``picture`` turned by ``turn`` (bit 0 transposes, bit 1 flips rows, bit 2 flips columns)."""
    if turn & 1:
        picture = np.swapaxes(picture, 0, 1)
    if turn & 2:
        picture = picture[::-1]
    if turn & 4:
        picture = picture[:, ::-1]
    return np.ascontiguousarray(picture)


_PROBE = np.arange(6).reshape(2, 3)
_BY_PROBE = {turned(_PROBE, t).tobytes() + bytes(turned(_PROBE, t).shape): t for t in range(TURNS)}


def then(first: int, second: int) -> int:
    """The one turn that does ``first`` and then ``second``."""
    probe = turned(turned(_PROBE, first), second)
    return _BY_PROBE[probe.tobytes() + bytes(probe.shape)]


def undo(turn: int) -> int:
    """The turn that brings a picture turned by ``turn`` back."""
    return next(u for u in range(TURNS) if then(turn, u) == 0)


_WORDS = {0: "as shown radiologically", 1: "transposed (rows and columns swapped)", 2: "upside down (flipped top to bottom)",
          3: "rotated 90 degrees anticlockwise", 4: "mirrored left to right", 5: "rotated 90 degrees clockwise",
          6: "rotated 180 degrees", 7: "transposed and rotated 180 degrees"}


@dataclass(frozen=True)
class PictureView:
    """How a picture relates to the radiological view: ``turn`` (see the module text) and its
    probability (the 8 looks' geometric mean for that turn, normalised over the 8 turns)."""

    turn: int
    probability: float

    def describe(self) -> str:
        return f"{_WORDS[self.turn]} (probability {self.probability:.2f})"

    def to_display(self, picture: np.ndarray) -> np.ndarray:
        """The radiological view of a picture ``[row, col]`` turned this way."""
        return turned(picture, undo(self.turn))

    def affine(self, shape: tuple[int, int], spacing: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
        """Voxel ``(row, col, 0)`` of the picture -> RAS+ millimetres, so that `medsee_cli.io.plane_view`
        shows it radiologically. ``spacing``: the picture's (row height, column width)."""
        rows, cols = shape
        # picture index -> radiological-view index, undoing the flips and then the transpose
        to_view = np.eye(4)
        if self.turn & 4:
            to_view = np.array([[1.0, 0, 0, 0], [0, -1.0, 0, cols - 1], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]) @ to_view
        if self.turn & 2:
            to_view = np.array([[-1.0, 0, 0, rows - 1], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]) @ to_view
        view_spacing = (spacing[0], spacing[1])
        if self.turn & 1:
            to_view = np.array([[0, 1.0, 0, 0], [1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]) @ to_view
            view_spacing = (spacing[1], spacing[0])
        return display_affine(view_spacing) @ to_view


class ViewNet(nn.Module):
    """Four convolution blocks (3x3, batch norm, ReLU, 2x2 max pool) and one linear layer -> 8 logits."""

    def __init__(self) -> None:
        super().__init__()
        pairs = list(zip(CHANNELS[:-1], CHANNELS[1:]))
        self.convs = nn.ModuleList([nn.Conv2d(a, b, 3, padding=1) for a, b in pairs])
        self.norms = nn.ModuleList([nn.BatchNorm2d(b) for _, b in pairs])
        self.out = nn.Linear(CHANNELS[-1] * (SIZE // 16) ** 2, TURNS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x = F.max_pool2d(F.relu(norm(conv(x))), 2)
        return self.out(F.dropout(x.flatten(1), 0.2, self.training))


def hu_window(values: np.ndarray, level: float = HU_WINDOW[0], width: float = HU_WINDOW[1]) -> np.ndarray:
    """Hounsfield units shown in a window, as [0, 1] grey values."""
    return np.clip((values - (level - width / 2)) / width, 0.0, 1.0)


def stretched(values: np.ndarray) -> np.ndarray:
    """Any other values stretched between their 1st and 99th percentiles, as [0, 1] grey values."""
    low, high = (float(v) for v in np.percentile(values, (1, 99)))
    return np.clip((values - low) / max(high - low, 1e-6), 0.0, 1.0)


def grey_picture(picture: np.ndarray) -> np.ndarray:
    """A picture as the network sees it: float32 in [0, 1]. 8-bit pictures are divided by 255;
    Hounsfield units (values below -200 and above 300) are shown in `HU_WINDOW`; anything else
    is stretched between its 1st and 99th percentiles."""
    values = np.asarray(picture, dtype=np.float32)
    if values.ndim == 3:
        values = values[..., :3].mean(axis=-1)
    if np.issubdtype(np.asarray(picture).dtype, np.uint8):
        return values / 255.0
    if float(values.min()) < -200.0 and float(values.max()) > 300.0:
        return hu_window(values)
    return stretched(values)


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """A [0, 1] picture centred on a black square and shrunk (area average) to SIZE x SIZE."""
    rows, cols = grey.shape
    side = max(rows, cols)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - rows) // 2, (side - cols) // 2
    square[top:top + rows, left:left + cols] = grey
    tensor = torch.from_numpy(square)[None, None]
    return F.interpolate(tensor, size=(SIZE, SIZE), mode="area")[0, 0].numpy()


def turn_scores(net: ViewNet, grey: np.ndarray) -> np.ndarray:
    """(8,) summed log-probabilities of each turn of ``grey``, asking the network about all 8 turns of it."""
    looks = np.stack([thumbnail(turned(grey, s)) for s in range(TURNS)])[:, None]
    with torch.inference_mode():
        log_p = F.log_softmax(net(torch.from_numpy(looks)), dim=1).numpy()
    scores = np.zeros(TURNS)
    for look in range(TURNS):  # look s saw the picture turned by s: its answer u means the picture is u then undo(s)
        for answer in range(TURNS):
            scores[then(answer, undo(look))] += log_p[look, answer]
    return scores


def estimate_view(picture: np.ndarray, net: ViewNet | None = None) -> PictureView:
    """The most likely turn of a 2D picture (grey or colour ``[row, col(, channel)]``)."""
    grey = grey_picture(picture)
    scores = turn_scores(net if net is not None else load_view_net(), grey)
    weights = np.exp((scores - scores.max()) / TURNS)
    best = int(np.argmax(scores))
    return PictureView(turn=best, probability=float(weights[best] / weights.sum()))


@functools.lru_cache(maxsize=1)
def load_view_net(folder: Path = FOLDER) -> ViewNet:
    """The shipped picture-view network, in eval mode on the CPU."""
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(str(weights), "picture-view model file not found")
    net = ViewNet()
    load_strict(net, read_safetensors_state(weights), str(weights))
    return net.eval()


def save_view_net(net: ViewNet, folder: Path, record: dict[str, object]) -> Path:
    """Write the network's weights and ``training.json`` (how it was trained, its held-out figures)."""
    from safetensors.torch import save_file

    from medsee_cli.io.atomic import atomic_path, write_text_atomic

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / WEIGHTS_NAME
    with atomic_path(target) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(tmp), metadata={"format": "pt"})
        tmp.chmod(0o644)  # a shared install: readable by every user
    write_text_atomic(folder / "training.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
    return target
