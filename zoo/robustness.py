"""How a shipped MNIST weight copes with a moved, turned or noisy test set (`zoo evaluate NAME
--robustness`; the card of every MNIST weight: `python -m reproductions robustness`).

The lecture claims that convolution and pooling make a net tolerant to shifts and small
distortions. Each perturbation below is applied to the whole test set, and the net's accuracy on
it is measured exactly as the card's test accuracy is (zoo.weights.accuracy):

- shift: every image moved by 1 or 2 whole pixels up, down, left or right, zeros shifted in
  (numpy slicing: exact, nothing interpolated);
- rotation: every image turned by -20, -10, +10, +20 degrees (counter-clockwise positive) about
  its centre, bilinear, the corners filled with 0 (Pillow's Image.rotate, which the zoo already
  uses to read pictures: no TensorFlow, no new dependency);
- noise: Gaussian noise of standard deviation 32 and 64 (on 0-255) added to every pixel, clipped
  to 0-255 and rounded, drawn from numpy's default_rng with a fixed seed (NOISE_SEED), so the
  figures are the same on every run.

Only keras (to run the net) and numpy and Pillow here. The X/O nets (9x9 generated images whose
test set is itself made of shifted, rotated, noisy drawings: zoo.data.xo) and the audio net (a
spectrogram: a "shift" is a change of pitch or time, and a rotation means nothing) are not
measured this way; SKIPPED says why, and the CSV and MODELS.md carry that sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFTS = (1, 2)
DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
ANGLES = (-20, -10, 10, 20)
NOISE_SIGMAS = (32, 64)
NOISE_SEED = 14  # fixed: the noisy test set is the same on every run

SKIPPED = {
    "xo": "not measured: 9x9 generated X/O images, whose test set already holds shifted, "
          "rotated, shrunk and noisy drawings (zoo.data.xo)",
    "audio": "not measured: a spectrogram's rows are frequencies and its columns time, so a "
             "shift is a change of pitch or delay and a rotation has no meaning",
}


@dataclass(frozen=True)
class Perturbation:
    name: str  # the CSV column: "shift_up_1", "rotate_-10", "noise_32"
    kind: str  # "shift", "rotate", "noise"
    amount: int  # pixels, degrees, or the noise's standard deviation on 0-255


def perturbations() -> list[Perturbation]:
    found = [Perturbation(f"shift_{d}_{n}", "shift", n) for n in SHIFTS for d in DIRECTIONS]
    found += [Perturbation(f"rotate_{a:+d}", "rotate", a) for a in ANGLES]
    return found + [Perturbation(f"noise_{s}", "noise", s) for s in NOISE_SIGMAS]


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """(n, h, w) images moved by dy rows (down if positive) and dx columns (right), zeros in."""
    n, h, w = images.shape
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"a shift of ({dy}, {dx}) moves a {h}x{w} image out of its frame")
    out = np.zeros_like(images)
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def rotate(images: np.ndarray, degrees: float) -> np.ndarray:
    """(n, h, w) uint8 images turned by `degrees` counter-clockwise about their centre
    (bilinear, corners filled with 0), as uint8."""
    from PIL import Image  # Pillow only when a rotation is asked for

    images = np.asarray(images, dtype=np.uint8)
    return np.stack([np.asarray(Image.fromarray(im, mode="L").rotate(
        degrees, resample=Image.Resampling.BILINEAR, fillcolor=0)) for im in images])


def add_noise(images: np.ndarray, sigma: float, seed: int = NOISE_SEED) -> np.ndarray:
    """Gaussian noise of standard deviation `sigma` (0-255 scale), clipped and rounded to uint8."""
    noise = np.random.default_rng(seed).normal(0.0, sigma, images.shape)
    return np.clip(np.rint(images.astype(np.float64) + noise), 0, 255).astype(np.uint8)


def apply(p: Perturbation, images: np.ndarray) -> np.ndarray:
    if p.kind == "shift":
        dy, dx = DIRECTIONS[p.name.split("_")[1]]
        return shift(images, dy * p.amount, dx * p.amount)
    if p.kind == "rotate":
        return rotate(images, p.amount)
    if p.kind == "noise":
        return add_noise(images, p.amount)
    raise ValueError(f"unknown perturbation kind {p.kind!r}")


def robustness(model, x_test, y_test) -> dict[str, float]:
    """{"clean": accuracy, "shift_up_1": accuracy, ...}: every perturbation of the test set."""
    from zoo.weights import accuracy

    result = {"clean": accuracy(model, x_test, y_test)}
    for p in perturbations():
        result[p.name] = accuracy(model, apply(p, x_test), y_test)
    return result


def summary(result: dict[str, float]) -> dict[str, float]:
    """The card's short form: clean accuracy, then the mean over the 4 directions of each shift
    and over the 2 signs of each angle, and each noise."""
    def mean(*keys):
        return float(np.mean([result[k] for k in keys]))

    return {"clean": result["clean"],
            **{f"shift_{n}": mean(*(f"shift_{d}_{n}" for d in DIRECTIONS)) for n in SHIFTS},
            **{f"rotate_{a}": mean(f"rotate_{-a:+d}", f"rotate_{a:+d}")
               for a in sorted({abs(a) for a in ANGLES})},
            **{f"noise_{s}": result[f"noise_{s}"] for s in NOISE_SIGMAS}}
