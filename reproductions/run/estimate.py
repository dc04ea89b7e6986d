"""How long a reproduction will take on this machine, told before it starts.

The committed per-seed file (reproductions/results/<dataset>_seeds.csv) has each reference
run's wall time and its training throughput on the reference machine. A short calibration here
(a few seconds: conv3_bn_fast's model, a few dozen training steps on random pixels, set up as a
run is) gives this machine's throughput on the same model; the ratio scales every reference
time. Models do not all scale alike from one CPU to another (AVX-512 helps convolutions more
than small dense nets), so the plan states the estimate with that uncertainty and the progress
line keeps its running ETA, measured on the runs themselves.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from reproductions.recipes import RECIPES
from reproductions.run.prepare import build_model, compile_model, steps_per_execution

CALIBRATION = "conv3_bn_fast"  # a reference recipe of the default job, a convnet, minutes long
UNCERTAINTY = 0.5  # the stated margin: within half again or half of it (see docs/reproductions.md)


def throughput_here(recipe_name: str = CALIBRATION, steps: int = 40) -> float:
    """Training images/s of the recipe's model here: one warm-up call, then `steps` steps."""
    recipe = RECIPES[recipe_name]
    model = compile_model(recipe, build_model(recipe), steps_per_execution(recipe))
    rng = np.random.default_rng(0)
    n = recipe.batch_size * steps
    x = rng.integers(0, 256, (n,) + model.input_shape[1:], dtype=np.uint8)
    y = rng.integers(0, 10, n)
    model.fit(x[:recipe.batch_size * 2], y[:recipe.batch_size * 2], batch_size=recipe.batch_size,
              epochs=1, verbose=0, shuffle=False)  # traces the step: not timed
    start = time.perf_counter()
    model.fit(x, y, batch_size=recipe.batch_size, epochs=1, verbose=0, shuffle=False)
    return n / (time.perf_counter() - start)


def reference(rows: list[dict], recipe) -> tuple[float, float] | None:
    """(mean wall s a seed, mean training images/s) of the recipe's current version in the
    committed per-seed rows; None if it has none."""
    mine = [r for r in rows if r["recipe"] == recipe.name and r["recipe_hash"] == recipe.hash()]
    if not mine:
        return None
    return (statistics.fmean(float(r["wall_s"]) for r in mine),
            statistics.fmean(float(r["images_per_second"]) for r in mine))


def plan(todo: list, rows: list[dict], speed_here: float | None) -> list[str]:
    """The plan's lines: per recipe, its seeds to train and the time they took on the reference
    machine, then the estimate for this machine with its margin."""
    lines, total, unknown = [], 0.0, []
    base = reference(rows, RECIPES[CALIBRATION]) if CALIBRATION in RECIPES else None
    factor = base[1] / speed_here if base and speed_here else None
    # the calibration compares with the machine(s) that ran the calibration recipe's rows
    machines = sorted({r.get("machine", "?") for r in rows if r["recipe"] == CALIBRATION})
    by_recipe: dict = {}
    for recipe, seed in todo:
        by_recipe.setdefault(recipe.name, (recipe, []))[1].append(seed)
    for name, (recipe, seeds) in by_recipe.items():
        ref = reference(rows, recipe)
        if ref is None:
            unknown.append(name)
            lines.append(f"  {name} seeds {' '.join(map(str, seeds))}: no reference time")
            continue
        here = ref[0] * factor if factor else None
        total += len(seeds) * (here or ref[0])
        lines.append(f"  {name} seeds {' '.join(map(str, seeds))}: {ref[0]:.0f} s a seed on the "
                     "reference machine" + (f", about {here:.0f} s here" if here else ""))
    if unknown and len(unknown) == len(by_recipe):  # nothing to scale: no figure at all
        lines.append("no estimate for this machine: no recipe of the plan has a reference time "
                     "(a committed run of its current version in the per-seed results)")
    elif factor:
        low, high = _duration(total * (1 - UNCERTAINTY)), _duration(total * (1 + UNCERTAINTY))
        lines.append(
            f"estimate for this machine: {_duration(total)} (between {low} and {high})"
            + (f", plus {len(unknown)} recipe(s) without a reference time" if unknown else "")
            + f"; calibration: {CALIBRATION}'s model trains {speed_here:,.0f} images/s here "
            f"against {base[1]:,.0f} on the reference machine ({'; '.join(machines)})")
    return lines


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
