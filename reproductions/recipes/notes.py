"""What a run is, in words: the MLflow descriptions (the `mlflow.note.content` tag, shown at the
top of a run's page) of a seed's run, of a recipe's parent run and of an experiment, each with the
exact command that reproduces it.

    command(get_recipe("conv3"), 1)   # 'make reproduce-mnist RECIPES=conv3 SEEDS=1'

A variant derived with --set (its name is "base+key=value+...") gets the `python -m reproductions
reproduce --recipes base --set key=value ...` line, a screened variant its screening's command;
each is checked to give the recipe's own hash. A recipe made in code only (a test's) says so.
"""

from __future__ import annotations

import json
import re
import shlex

from reproductions.recipes import RECIPES, SCREENING, derive, get_recipe, load_screening
from tracking import parents
from tracking.runs import describe_experiment

MAKE_TARGETS = {"mnist": "reproduce-mnist", "xo": "reproduce-xo", "fsdd": "reproduce-fsdd"}
# "+key=" or "+schedule.key=" starts an override in a derived name (derive's default name)
_OVERRIDE = re.compile(r"\+(?=(?:schedule\.)?[a-z_]+=)")


def _derived_from(recipe):
    """(base name, overrides) if `recipe` is its base with the overrides its name lists."""
    base, *parts = _OVERRIDE.split(recipe.name)
    if not parts or base not in RECIPES:
        return None
    overrides = {}
    for part in parts:
        key, _, raw = part.partition("=")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    try:
        if derive(get_recipe(base), overrides).hash() != recipe.hash():
            return None
    except ValueError:
        return None
    return base, parts


def _screening_of(recipe):
    for path in sorted(SCREENING.glob("*.json")):
        screening = load_screening(path.stem)
        variant = screening.variants.get(recipe.name)
        if variant is not None and variant.hash() == recipe.hash():
            return screening.name
    return None


def threads_of(tag: str | None) -> int | None:
    """The TensorFlow threads a run's `tf_threads` tag names ("intra 1, inter 1" -> 1), or None
    for TensorFlow's default (one a core) or no tag. A worker of `reproduce --jobs 2` trains
    with one thread, and the same seed trained with two ends some test images apart."""
    match = re.match(r"intra (\d+)", tag or "")
    return int(match.group(1)) if match else None


def with_threads(make_command: str, threads: int | None) -> str:
    """`make reproduce-<family> ...` with the threads its run trained with, when it says any."""
    return make_command + (f" THREADS={threads}" if threads else "")


def command(recipe, seed: int | None = None, threads: int | None = None) -> str:
    """The command that trains `recipe` (on `seed`, else on its seeds), or how it was made;
    `threads`: the TensorFlow threads its run trained with, where `reproduce` set them."""
    seeds = f" SEEDS={seed}" if seed is not None else ""
    flags = ((f" --seeds {seed}" if seed is not None else "")
             + (f" --threads {threads}" if threads else ""))
    known = RECIPES.get(recipe.name)
    if known is not None and known.hash() == recipe.hash():
        target = MAKE_TARGETS.get(recipe.family)
        if target:
            return with_threads(f"make {target} RECIPES={recipe.name}{seeds}", threads)
        return f"python -m reproductions reproduce --recipes {recipe.name}{flags}"
    derived = _derived_from(recipe)
    if derived:
        base, parts = derived
        return (f"python -m reproductions reproduce --recipes {base} "
                + " ".join(f"--set {shlex.quote(p)}" for p in parts) + flags)
    screening = _screening_of(recipe)
    if screening:
        return f"python -m reproductions screen {screening}  (variant {recipe.name}, among others)"
    return (f"none: recipe {recipe.name!r} was made in Python, not by a command (train_run"
            f"(recipe, seed) with reproductions.recipes.Recipe.from_json of this run's recipe.json)")


def _about(recipe) -> str:
    target = "no published bar" if recipe.target_acc is None else \
        f"target {recipe.target_acc} final test accuracy"
    lines = [f"Model `{recipe.model}` on `{recipe.dataset}`, recipe hash `{recipe.hash()}`, "
             f"{recipe.steps:,} training steps of {recipe.batch_size}, an evaluation every "
             f"{recipe.eval_every:,} steps"
             + ("." if recipe.test_every is None else
                f"; the test set read {len(recipe.test_steps())} times, on its source's cadence "
                f"(every {recipe.test_every:,} steps, and at the start)."),
             f"Source: {recipe.target_source} ({target})."]
    if recipe.notes:
        lines.append(f"Notes: {recipe.notes}.")
    return "\n\n".join(lines)


def run_note(recipe, seed: int, threads: int | None = None) -> str:
    """A seed's description; `threads`: the TensorFlow threads it trains with, when set (a
    worker's), since the same seed trained with others ends some test images apart."""
    return (f"**Recipe {recipe.name}, seed {seed}**: one training run.\n\n{_about(recipe)}\n\n"
            f"Reproduce it: `{command(recipe, seed, threads)}`\n\n"
            "Every metric's step is the training step (training loss and accuracy: the mean over "
            "the steps since the previous point; val_* and test_*: at each evaluation).")


def parent_note(recipe, summary=None) -> str:
    figure = summary.line() if summary is not None else "no seed has finished yet"
    return (f"**Recipe {recipe.name}, all seeds**: the runs nested here are its seeds; this run "
            f"carries their summary (the same figures as the results tables).\n\n"
            f"{figure}\n\n{_about(recipe)}\n\nReproduce it: `{command(recipe)}`")


def describe(experiment: str, recipe, seed: int, tags: dict) -> str:
    """Before a seed's run starts: the experiment's description, the recipe's parent run (its
    id into `tags`, nesting the run under it); returns the run's description."""
    describe_experiment(experiment, experiment_note(recipe.family))
    tags["mlflow.parentRunId"] = parents.parent_run(experiment, recipe, parent_note(recipe))
    return run_note(recipe, seed, threads_of(tags.get("tf_threads")))


def update_parent(experiment: str, recipe):
    """After a seed's run: the parent's summary and description, a warning if that fails."""
    return parents.update_parent(experiment, recipe, note=lambda s: parent_note(recipe, s),
                                 repair=f"python -m reproductions report {recipe.family}")


def experiment_note(family: str) -> str:
    target = MAKE_TARGETS.get(family)
    how = f"`make {target}` (RECIPES= and SEEDS= select)" if target else \
        f"`python -m reproductions reproduce --dataset {family}`"
    return (f"The ConvNet Zoo's reproductions on {family}: one parent run per recipe version "
            "(recipe, recipe hash) carries the summary over its seeds (mean ± std, 95% interval, "
            "verdict against the published target and its source); its seeds' runs are nested "
            f"under it. Made by {how}; each run's description names its own command. Metrics "
            "are logged against the training step. Results tables: "
            "`python -m reproductions report`.")
