"""Turn any picture of a digit into an MNIST-like 28x28 uint8 array, the way MNIST was made.

MNIST digits are light on dark, size-normalised into a 20x20 box keeping their aspect ratio,
and centred by centre of mass in a 28x28 field (LeCun, yann.lecun.com/exdb/mnist). So: greyscale,
invert when the background is light, stretch the contrast, crop to the ink, fit into 20x20, and
shift the centre of mass to the middle. Pillow reads and resizes; numpy does the rest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError


class ImageError(ValueError):
    """A file that is not a readable image, or an image with no digit in it."""


def load_image(path, name: str | None = None) -> Image.Image:
    """A path or a binary file object (the live explainer's uploads), as greyscale."""
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise ImageError(f"{name or path}: not a readable image ({err})") from err
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        background = Image.new("RGBA", image.size, "white")  # transparent means paper
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L")


def to_mnist(image: Image.Image, name: str = "image") -> np.ndarray:
    a = np.asarray(image, dtype="float32")
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    background = float(np.median(border))
    if background > 127:  # dark ink on light paper: MNIST is the other way round
        a, background = 255 - a, 255 - background
    a = np.clip(a - background, 0, None)
    if a.max() <= 0:
        raise ImageError(f"{name}: no digit found (the image is blank)")
    a = a * (255 / a.max())
    rows, cols = np.nonzero(a > 0.2 * 255)
    a = a[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = a.shape
    scale = 20 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(a.astype("uint8")).resize(size, Image.LANCZOS),
                       dtype="float32")
    field = np.zeros((28, 28), dtype="float32")
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(small.shape[0])).sum() / total
    cx = (small.sum(axis=0) * np.arange(small.shape[1])).sum() / total
    top = int(np.clip(round(14 - cy), 0, 28 - small.shape[0]))
    left = int(np.clip(round(14 - cx), 0, 28 - small.shape[1]))
    field[top:top + small.shape[0], left:left + small.shape[1]] = small
    return np.clip(field, 0, 255).astype("uint8")


def mnist_from_file(path: str | Path) -> np.ndarray:
    return to_mnist(load_image(path), str(path))
