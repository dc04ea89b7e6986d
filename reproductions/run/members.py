"""An ensemble's members as trained: the FINISHED run of each declared seed of a recipe, and the
net it logged, loaded safely. Read by the ship room (the shipped ensemble, on the test set) and
the search room (its views, chosen on validation); neither may import the other.
"""

from __future__ import annotations

from typing import NamedTuple


class Member(NamedTuple):
    """A member of an ensemble of several recipes' nets (one recipe's members are its seeds):
    ordered by seed, then recipe, so that groups cut in order mix the recipes."""

    seed: int
    recipe: str

    def __str__(self) -> str:
        return f"{self.recipe}:{self.seed}"


def trained_members(recipe, seeds) -> tuple[dict, dict]:
    """({seed: run}, {seed: keras.Model}) for `seeds` of `recipe` (its current hash) in the
    MLflow store; a ValueError naming the seeds that have no FINISHED run and how to train them."""
    from tracking.runs import artifact_file, existing_experiment, finished_runs
    from zoo.weights import load_file

    experiment = existing_experiment(recipe.family)
    runs = finished_runs(experiment, recipe) if experiment else {}
    missing = [s for s in seeds if s not in runs]
    if missing:
        raise ValueError(f"no FINISHED run of {recipe.name} (hash {recipe.hash()}) for seed(s) "
                         f"{', '.join(map(str, missing))}: train them first (make "
                         f"reproduce-{recipe.family} RECIPES={recipe.name} SEEDS=...)")
    models = {}
    for seed in seeds:
        with artifact_file(runs[seed].info.run_id, f"model/{recipe.model}.keras") as path:
            models[seed] = load_file(path)
    return {s: runs[s] for s in seeds}, models


def member_probabilities(model, shifts, x, batch_size: int = 1000):
    """One member's probabilities over `x`, averaged over its views (`shifts`: whole-pixel moves;
    the picture alone: the member itself), through zoo.models.ensemble, the model that ships."""
    from zoo.models.ensemble import PICTURE, ensemble

    shifts = tuple(tuple(s) for s in shifts)
    viewed = model if shifts == PICTURE else ensemble([model], shifts=shifts)
    return viewed.predict(x, batch_size=batch_size, verbose=0)
