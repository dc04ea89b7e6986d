"""Time on the reference machine kind (issue 28): budgets such as "15 minutes a seed" are on the
kind that made the committed tables; a run made elsewhere has its wall scaled to that kind by its
own training pace against the committed runs of a recipe that trains the same net on the same
batches (their images a second, mnist_seeds.csv).

Why the net's own pace and not the float32 matmul peak: the reference kind's matmul peak was not
recorded beside its tables, and a net's images a second is the measure of the very work being
timed (the peak is a proxy for it). A run's scaled wall is its wall times its images a second
over the reference pace: twice as slow here, half the wall there.

The committed reference runs trained BatchNorm with Keras' ops; runs since 2026-12-06 train it
with TensorFlow's fused kernel (their batchnorm_kernel tag), 1.1 to 1.3 times as fast. Scaled by
a Keras-ops reference, such a run's gain is counted as the machine's: its scaled wall is what its
images would cost with Keras' ops on the reference kind, more than the fused run would take
there. A budget check on it errs long, never short.
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


# what sets the cost of a training step: a run's pace stands for the machine's speed only
# against a reference that trains the same way. The augmentation counts by its kind (the same
# ops turn an image by 10° or by 15°), the rest by value. Left out as next to free: soft targets
# (distill, label_smoothing: made before training), ema_momentum and weight_decay (each one
# multiply-add a weight a step, against the hundred images' convolutions) and ema_bn_batches (a
# forward pass over that many batches at each validation: 4 x 100 for screening conv7_bn_swa,
# against 8,000 steps).
STEP_COST = ("model", "batch_size", "precision", "optimizer", "augment_shift", "jit_compile")
# model options whose value sets no cost, only whether their op runs, as the augmentation's
# strength: a dropout layer draws the same mask at any rate (Keras skips it at rate 0)
RATE_OPTIONS = ("dropout",)


def _options_cost(recipe, rates) -> dict:
    """The model options that set a step's cost: each by value, a rate by whether it is not 0
    (the builder's default where the recipe does not name it)."""
    import inspect

    import zoo.registry

    options = dict(recipe.model_options or ())
    cost = {k: v for k, v in options.items() if k not in RATE_OPTIONS}
    for name in rates:
        default = inspect.signature(zoo.registry.builder(recipe.model)).parameters[name].default
        cost[name] = bool(options.get(name, default))
    return cost


def check_same_work(recipe, reference_name: str) -> None:
    """Refuse to scale `recipe`'s runs by the pace of a recipe whose steps cost another amount
    (another net, batch, precision, augmentation...): its pace would mix machine and work."""
    reference = get_recipe(reference_name)
    differ = [f for f in STEP_COST if getattr(recipe, f) != getattr(reference, f)]
    differ += [f for f in ("augment_affine", "augment_elastic")
               if (getattr(recipe, f) is None) != (getattr(reference, f) is None)]
    if recipe.model_options != reference.model_options:
        rates = {k for r in (recipe, reference) for k, _ in r.model_options or ()
                 if k in RATE_OPTIONS}
        if "model" in differ or _options_cost(recipe, rates) != _options_cost(reference, rates):
            differ.append("model_options")
    if differ:
        raise ValueError(f"{recipe.name}'s steps are not {reference_name}'s ({', '.join(differ)} "
                         f"differ): its time cannot be scaled by {reference_name}'s pace; name a "
                         "reference recipe that trains the same net the same way")
