"""zoo/MODELS.md, generated from the weight cards and the robustness CSV (never typed).

Both `export-weights` and `ensemble` (new cards) and `robustness` (new figures) rewrite it, so
its writer and the robustness CSV's reader live here, below all three verbs.
"""

from __future__ import annotations

import csv

from reproductions import RESULTS
from reproductions.recipes import RECIPES
from reproductions.report.tables import committed_rows
from reproductions.ship.naming import ENSEMBLE_SUFFIX
from tracking import REPO_ROOT
from tracking.summary import summarize_rows
from zoo import robustness
from zoo.files import open_for_writing, write_text
from zoo.weights import WeightCard

MODELS_MD = REPO_ROOT / "zoo" / "MODELS.md"
CSV = RESULTS / "robustness.csv"
COLUMNS = ("weight", "params", "convolutional", "clean",
           *(p.name for p in robustness.perturbations()), "note")


def write_models_md(cards: list[WeightCard]) -> None:
    lines = [
        "# Shipped weights",
        "",
        "Generated from `zoo/weights/manifest.json` by `make zoo-weights` (never typed). Each file "
        "is one run of its recipe; the seed column says which and how it was chosen (its card's "
        "`chosen`; `make zoo-weights` ships the recipe's first reported seed, fixed before "
        "training, never chosen by test accuracy). MNIST models take raw uint8 pixels "
        "(0-255, 28x28), the scaling "
        "is inside; each card's `input` (zoo.weight_info) says what its model takes. Load with "
        "`zoo.load(name)`: the SHA256 is checked before anything is read.",
        "",
        "The recipe's figure and verdict are over its declared seeds, from the committed per-seed "
        "file (reproductions/results/<data set>_seeds.csv), judged as the results tables judge "
        "them (two-sided, on counts of correct answers; tracking/summary.py).",
        "",
        "The molecule weights (FreeSolv, solubility: a value or a class for a SMILES string) are "
        "listed by `zoo list`, their cards in zoo/molecules/weights/manifest.json, their figures "
        "in reproductions/results/molecules.md (`python -m reproductions molecules`).",
        "",
        "| name | params | test acc of this file | seed (how chosen) | recipe mean ± std (seeds) "
        "| recipe's verdict | published | size | sha256 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    per_seed = {}
    for c in cards:
        recipe = RECIPES.get(c.recipe)
        summary = None
        if recipe is not None and not c.name.arch.endswith(ENSEMBLE_SUFFIX):
            if recipe.family not in per_seed:
                per_seed[recipe.family] = committed_rows(recipe.family)
            summary = summarize_rows(recipe, per_seed[recipe.family])
        # an ensemble is one model of several seeds: no spread over seeds to show (its
        # sub-ensembles' spread is in its CSV); one seed has no spread either
        if c.name.arch.endswith(ENSEMBLE_SUFFIX):
            spread = f"one model of {c.recipe_seeds} members"
        elif summary is not None:
            spread = (f"{100 * summary.mean:.2f}% ± {100 * summary.std:.2f} "
                      f"({summary.n_seeds} seeds)" if summary.n_seeds > 1 else
                      f"{100 * summary.mean:.2f}% (one seed)")
        elif c.recipe_seeds and c.recipe_seeds > 1:
            spread = f"{100 * c.recipe_mean:.2f}% ± {100 * c.recipe_std:.2f} ({c.recipe_seeds})"
        else:
            spread = "-"
        verdict = summary.verdict_text() if summary is not None and summary.n_test else "-"
        lines.append(
            f"| `{c.name}` | {c.params:,} | {100 * c.test_accuracy:.2f}% "
            f"| {'-' if c.seed is None else c.seed} ({c.chosen}) "
            f"| {spread} | {verdict} "
            f"| {c.target_source} | {c.size / 1e6:.2f} MB | `{c.sha256[:12]}` |")
    lines += markdown(read_csv())  # the robustness section, from its generated CSV
    write_text(MODELS_MD, "\n".join(lines) + "\n")


def write_csv(rows, path=CSV) -> None:
    with open_for_writing(path, newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path=CSV) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def markdown(rows) -> list[str]:
    """The MODELS.md section: per weight, clean accuracy and the mean of each perturbation group
    (every figure is in the CSV), then the weights not measured and why."""
    if not rows:
        return []
    groups = ("shift_1", "shift_2", "rotate_10", "rotate_20", "noise_32", "noise_64")
    heads = ("moved 1 px", "moved 2 px", "turned ±10°", "turned ±20°", "noise σ 32",
             "noise σ 64")
    lines = ["", "## Robustness", "",
             "Test accuracy with the test set moved by 1 or 2 pixels (mean of up, down, left, "
             "right; zeros shifted in), turned by ±10° or ±20° (mean of both signs; bilinear), and "
             f"with Gaussian noise of standard deviation 32 or 64 on 0-255 (seed "
             f"{robustness.NOISE_SEED}, clipped). Generated by `python -m reproductions "
             "robustness` (`make robustness`) into `reproductions/results/robustness.csv`, which "
             "has each direction and angle; `zoo evaluate NAME --robustness` measures one weight. "
             "In brackets: the change against the clean accuracy, in points.",
             "", "| weight | convolutions | clean | " + " | ".join(heads) + " |",
             "|---|---|---|" + "---|" * len(heads)]
    skipped = []
    for row in rows:
        if not row.get("clean"):
            skipped.append(f"- `{row['weight']}`: {row['note']}")
            continue
        values = robustness.summary({k: float(v) for k, v in row.items()
                                     if k not in ("weight", "params", "convolutional", "note")})
        clean = values["clean"]
        lines.append(f"| `{row['weight']}` | {row['convolutional']} | {100 * clean:.2f}% | "
                     # (+ 0.0: a change that rounds to zero prints +0.00, not -0.00)
                     + " | ".join(f"{100 * values[k]:.2f}% "
                                  f"({round(100 * (values[k] - clean), 2) + 0.0:+.2f})"
                                  for k in groups) + " |")
    return lines + ([""] + skipped if skipped else [])
