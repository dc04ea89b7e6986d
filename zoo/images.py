"""Turn any picture of a digit into an MNIST-like 28x28 uint8 array, the way MNIST was made.

MNIST digits are light on dark, size-normalised into a 20x20 box keeping their aspect ratio,
and centred by centre of mass in a 28x28 field (LeCun, yann.lecun.com/exdb/mnist). So: greyscale,
invert when the background is light, stretch the contrast, crop to the ink, fit into 20x20, and
shift the centre of mass to the middle. Pillow reads and resizes; numpy does the rest.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError


class ImageError(ValueError):
    """A file that is not a readable image, or an image with no digit in it."""


# The most a greyscale sample can hold, by Pillow mode: 16-bit PNGs open as I;16 (or I), and
# convert("L") would clip them at 255, so a digit whose ink and paper are both above 255 read as
# blank. They are scaled to 0-255 as floats instead ("F"), keeping all their contrast.
_WIDE_MODES = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535, "I": None, "F": None}


def _wide_to_float(image: Image.Image, name: str) -> Image.Image:
    a = np.asarray(image, dtype="float64")
    if not np.isfinite(a).all():  # a float TIFF can hold them; no brightness to read from
        raise ImageError(f"{name}: not a readable image: some pixels are not numbers (NaN or "
                         "infinite); save the picture again with ordinary brightness values")
    full = _WIDE_MODES[image.mode]
    if full is None:  # 32-bit int or float: infer the range the values were stored in
        top = float(a.max()) if a.size else 0.0
        full = 1.0 if image.mode == "F" and top <= 1.0 else 255 if top <= 255 else \
            65535 if top <= 65535 else float(2**31 - 1)
    return Image.fromarray((np.clip(a, 0, full) * (255.0 / full)).astype("float32"), mode="F")


# The most pixels a picture may have, checked from its header before it is decoded: a 24-megapixel
# camera photo (6,000 x 4,000) passes; Pillow's own guard warns only past 89 million and refuses
# past 179 million, and a 13,000 x 13,000 PNG of 259 KB under that took 5.1 s and 2.2 GB to
# decode in the live explainer (issue 30), holding a worker meanwhile.
MAX_PIXELS = 25_000_000


def load_image(path, name: str | None = None) -> Image.Image:
    """A path or a binary file object (the live explainer's uploads), as greyscale: mode "L"
    (8 bits) or "F" (floats in 0-255, from 16-bit and wider)."""
    try:
        with warnings.catch_warnings():  # Pillow's own size warning: the check below says more
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)  # reads the header only
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageError(f"{name or path}: not a readable image: too large to read safely "
                             f"({width} x {height} = {width * height} pixels, more than "
                             f"{MAX_PIXELS:,}); a digit needs far fewer, shrink the picture first")
        image.load()
    except ImageError:
        raise
    except Image.DecompressionBombError as err:
        # Pillow refuses pictures over 2 x MAX_IMAGE_PIXELS before decoding them (memory)
        raise ImageError(f"{name or path}: not a readable image: too large to read safely "
                         f"({err}); a digit needs far fewer pixels, shrink the picture "
                         "first") from err
    except UnidentifiedImageError as err:  # Pillow's text names the upload's buffer object
        raise ImageError(f"{name or path}: not a readable image (not a format Pillow knows: "
                         "send a PNG, JPEG, BMP, GIF or TIFF)") from err
    except (OSError, ValueError) as err:
        raise ImageError(f"{name or path}: not a readable image ({err})") from err
    if image.mode in _WIDE_MODES:
        return _wide_to_float(image, str(name or path))
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


def mnist_from_file(path: str | Path, notes: list[str] | None = None) -> np.ndarray:
    """The MNIST-like 28x28 uint8 array of a picture file (`notes`: the readers' common
    signature; a picture's conversion is the documented one, nothing to add)."""
    return to_mnist(load_image(path), str(path))
