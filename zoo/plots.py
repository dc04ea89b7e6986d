"""Every plot of the zoo, in one place: training curves, confusion matrix, misclassified digits.

Each function returns a matplotlib Figure; callers write it with `save` (whole or not at all,
zoo.files), which also closes it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zoo.files import atomic_path  # noqa: E402


def save(fig, path, dpi: int) -> Path:
    """`fig` as the PNG `path` (the format follows the name), then closed: a full disk leaves
    the previous picture, not half of one."""
    try:
        with atomic_path(path) as temp:
            fig.savefig(temp, dpi=dpi)
    finally:
        plt.close(fig)
    return Path(path)


def training_curves(history: dict[str, list[float]], title: str = "", every: int | None = None):
    """Loss and accuracy per evaluation, for every series in `history` (keras History names);
    with `every` (steps between evaluations), against the training step, as in MLflow."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for key, values in sorted(history.items()):
        ax = ax_loss if key.endswith("loss") else ax_acc if key.endswith("accuracy") else None
        if ax is not None and values:
            ax.plot([(i + 1) * (every or 1) for i in range(len(values))], values, marker=".",
                    label=key)
    for ax, name in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("training step" if every else "evaluation")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_loss.set_yscale("log")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, classes, title: str = ""):
    n = len(classes)
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    shown = np.where(np.eye(n, dtype=bool), 0, counts)  # colour the errors, not the diagonal
    im = ax.imshow(shown, cmap="Reds")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=8,
                    color="black" if i != j else "tab:blue")
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im, ax=ax, label="errors")
    ax.set_title(title or f"confusion matrix ({int(np.trace(counts))}/{counts.sum()} right)")
    fig.tight_layout()
    return fig


def misclassified_grid(images, y_true, y_pred, confidence, classes, limit=36, title=""):
    """The first `limit` errors, each titled 'true -> predicted (confidence)'."""
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[:limit]
    cols = 6
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.8), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"{classes[y_true[i]]}→{classes[y_pred[i]]} ({confidence[i]:.2f})",
                     fontsize=8)
    fig.suptitle(title or f"misclassified test images (first {len(wrong)})")
    fig.tight_layout()
    return fig


def kernels(rows: dict[str, np.ndarray], title: str = ""):
    """Rows of 2-D convolution kernels: {row label: array (h, w, n)}, one panel per kernel."""
    n = max(k.shape[-1] for k in rows.values())
    fig, axes = plt.subplots(len(rows), n, figsize=(1.8 * n, 1.9 * len(rows)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r, (label, k) in enumerate(rows.items()):
        bound = float(np.abs(k).max()) or 1.0
        for j in range(k.shape[-1]):
            axes[r, j].imshow(k[..., j], cmap="RdBu_r", vmin=-bound, vmax=bound)
            axes[r, j].set_title(f"{label} {j + 1}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def feature_maps(maps: np.ndarray, title: str = "", cols: int = 8):
    """The maps of one input, (1, h, w, n) or (h, w, n), one panel each, shared colour scale."""
    maps = maps[0] if maps.ndim == 4 else maps
    n = maps.shape[-1]
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows + 0.4), squeeze=False)
    lo, hi = float(maps.min()), float(maps.max())
    for ax in axes.flat:
        ax.axis("off")
    for j in range(n):
        axes.flat[j].imshow(maps[..., j], cmap="viridis", vmin=lo, vmax=hi if hi > lo else lo + 1)
        if n > 1:
            axes.flat[j].set_title(str(j + 1), fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def contributions(values: np.ndarray, label: str, top: int = 12):
    """The `top` largest contributions (activation x weight) to the vote for `label`."""
    order = np.argsort(np.abs(values))[::-1][:top]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(range(len(order)), values[order],
           color=["tab:green" if v > 0 else "tab:red" for v in values[order]])
    ax.set_xticks(range(len(order)), [str(i) for i in order], fontsize=8)
    ax.set_xlabel("input unit of the last layer")
    ax.set_ylabel(f"contribution to {label}")
    ax.axhline(0, color="black", lw=0.5)
    fig.tight_layout()
    return fig


def probabilities(probs: np.ndarray, classes):
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.bar(range(len(probs)), probs, color="tab:blue")
    ax.set_xticks(range(len(probs)), classes)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    fig.tight_layout()
    return fig
