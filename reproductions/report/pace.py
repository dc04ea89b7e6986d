"""Time on the reference machine kind (issue 28): budgets such as "15 minutes a seed" are on the
kind that made the committed tables; a run made elsewhere has its wall scaled to that kind by its
own training pace against the committed runs of a recipe that trains the same net on the same
batches (their images a second, mnist_seeds.csv).

Why the net's own pace and not the float32 matmul peak: the reference kind's matmul peak was not
recorded beside its tables, and a net's images a second is the measure of the very work being
timed (the peak is a proxy for it). A run's scaled wall is its wall times its images a second
over the reference pace: twice as slow here, half the wall there.
"""

from __future__ import annotations

import csv
import statistics

import reproductions
from reproductions.recipes import get_recipe


def reference_pace(recipe_name: str, results=None) -> float:
    """Training images a second of `recipe_name` on the reference kind: the mean over its
    declared seeds' committed runs of its current hash (<data set>_seeds.csv)."""
    recipe = get_recipe(recipe_name)
    with open((results or reproductions.RESULTS) / f"{recipe.dataset}_seeds.csv",
              newline="") as f:
        paces = [float(r["images_per_second"]) for r in csv.DictReader(f)
                 if r["recipe"] == recipe_name and r["recipe_hash"] == recipe.hash()
                 and r["declared"] == "yes"]
    if not paces:
        raise ValueError(f"no committed run of {recipe_name} (hash {recipe.hash()}) to take the "
                         f"reference pace from ({recipe.dataset}_seeds.csv)")
    return statistics.fmean(paces)


def on_reference_kind(wall_s: float, images_per_second: float, reference_ips: float) -> float:
    """A run's wall as it would be on the reference kind."""
    return wall_s * images_per_second / reference_ips
