"""X and O images like the lecture's, shifted, shrunk, rotated, deformed and noisy: the lecture
promises that a CNN recognises them "even when shifted, shrunk, rotated or deformed".

    (x, y), info = make_xo(2000, seed=0)             # 9x9, every transformation, labels 0=X 1=O
    make_xo(10, seed=0, shift=False, shrink=False, rotate=False, deform=False)   # the lecture's

Shapes are drawn as strokes in continuous coordinates (X: two segments from (1,1) to (7,7) and
(1,7) to (7,1); O: a circle of radius 3 around (4,4), in 9x9 pixel units), moved by a random
affine map, and rasterised: a pixel is +1 (stroke) where its centre lies within half a stroke
width of the shape, else -1. With no transformation this gives exactly the lecture's X and O.
No library draws these, hence numpy by hand.
"""

from __future__ import annotations

import hashlib

import numpy as np

_CIRCLE = np.linspace(0, 2 * np.pi, 97)  # 96 chords: within 0.004 px of the true circle


def _strokes(label: int) -> list[np.ndarray]:
    """The template shape as polylines of (row, col) points, in 9x9 pixel units."""
    if label == 0:
        return [np.array([[1.0, 1.0], [7.0, 7.0]]), np.array([[1.0, 7.0], [7.0, 1.0]])]
    return [np.stack([4 + 3 * np.sin(_CIRCLE), 4 + 3 * np.cos(_CIRCLE)], axis=1)]


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    a, b = line[:-1], line[1:]  # segments (m, 2)
    ab = b - a
    t = np.einsum("pmk,mk->pm", points[:, None, :] - a[None], ab) / np.maximum(
        np.einsum("mk,mk->m", ab, ab), 1e-12)
    nearest = a[None] + np.clip(t, 0, 1)[..., None] * ab[None]
    return np.linalg.norm(points[:, None, :] - nearest, axis=-1).min(axis=1)


def render(label: int, matrix=np.eye(2), offset=(0.0, 0.0), size: int = 9,
           width: float = 1.2) -> np.ndarray:
    """One image in {-1, +1}: the template mapped by p -> matrix @ (p - c) + c + offset, where c
    is the template centre, then scaled to a size x size canvas."""
    k = size / 9
    centre = np.array([4.0, 4.0])
    grid = np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), -1)
    pixels = (grid.reshape(-1, 2) + 0.5) / k - 0.5  # pixel centres in 9x9 units
    distance = np.full(len(pixels), np.inf)
    for line in _strokes(label):
        moved = (line - centre) @ np.asarray(matrix).T + centre + np.asarray(offset)
        distance = np.minimum(distance, _distance_to_polyline(pixels, moved))
    return np.where(distance * k < width * k / 2, 1.0, -1.0).reshape(size, size).astype("float32")


def make_xo(n: int, seed: int, size: int = 9, shift: bool = True, shrink: bool = True,
            rotate: bool = True, deform: bool = True, noise: float = 0.03):
    """((images, labels), transforms): n images (n, size, size) in {-1, +1}, labels 0=X, 1=O.

    shrink: scale 0.7-1; rotate: +-25 degrees (more would turn an X into a +); deform: a random
    shear and stretch of up to 15%; shift: anywhere the shape still fits, about +-1.5 px at full
    size; noise: the fraction of pixels flipped. `transforms` lists each image's parameters."""
    if n <= 0 or size < 9 or not 0 <= noise < 0.5:
        raise ValueError(f"need n > 0, size >= 9 and 0 <= noise < 0.5; got {n}, {size}, {noise}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size), dtype="float32")
    labels = rng.integers(0, 2, n)
    transforms = []
    for i in range(n):
        scale = rng.uniform(0.7, 1.0) if shrink else 1.0
        angle = np.deg2rad(rng.uniform(-25, 25)) if rotate else 0.0
        cos, sin = np.cos(angle), np.sin(angle)
        matrix = scale * np.array([[cos, -sin], [sin, cos]])
        if deform:
            matrix = (np.eye(2) + rng.uniform(-0.15, 0.15, (2, 2))) @ matrix
        # the template reaches 3 units from the centre (4, 4): the rest of the canvas is room
        room = np.maximum(4.0 - 3 * np.abs(matrix).sum(axis=1), 0.0) + 0.5
        offset = rng.uniform(-1, 1, 2) * room if shift else np.zeros(2)
        images[i] = render(int(labels[i]), matrix, offset, size)
        if noise:
            flip = rng.random((size, size)) < noise
            images[i][flip] *= -1
        transforms.append({"scale": scale, "angle_deg": float(np.rad2deg(angle)),
                           "matrix": matrix.round(4).tolist(), "offset": offset.round(3).tolist()})
    return (images, labels.astype("int64")), transforms


# The generated X/O data set the zoo trains and measures on: 8,000 training and 2,000 held-out
# test images, 9x9, every transformation, drawn from different seeds.
TRAIN = {"n": 8000, "seed": 9001}
TEST = {"n": 2000, "seed": 9002}


def load_xo(size: int = 9):
    """((x_train, y_train), (x_test, y_test)) of the generated set, like load_mnist."""
    return make_xo(**TRAIN, size=size)[0], make_xo(**TEST, size=size)[0]


def load_split(data_dir=None, size: int = 9):
    """(train, test, source, digest) for zoo.data.load_dataset; the digest hashes the arrays
    themselves (generated data has no files), computed from the arrays just made."""
    train, test = load_xo(size)
    digest = hashlib.sha256()
    for part in (train, test):
        for array in part:
            digest.update(array.tobytes())
    return train, test, description(size), f"generated={digest.hexdigest()}"


def source_of(data_dir=None, size: int = 9) -> str:
    return description(size)


def description(size: int = 9) -> str:
    return (f"generated by zoo.data.xo.make_xo: train n={TRAIN['n']} seed={TRAIN['seed']}, "
            f"test n={TEST['n']} seed={TEST['seed']}, size {size}")
