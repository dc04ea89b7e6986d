"""What a shipped weight is called and which seed ships: rules fixed before any training.

Naming rule (`weight_name`): a model's canonical recipe, or the only recipe of a model that has
none of its name, ships as "<model>.<data set tag>" ("conv3_bn.mnist", "conv3_bn_small.mnist",
"xo.generated", "audio_conv.fsdd"); recipe "<model>_<rest>" ships as "<model>.<rest>"
("conv3.tuned"); a recipe's ensemble as "<net>_ensemble.<data set tag>", a refit's as
"<net>_ensemble.<rest>" ("conv7_bn_ensemble.cosine_refit").
"""

from __future__ import annotations

from reproductions.recipes import RECIPES
from zoo.weights import WeightName

DEFAULT_TAGS = {"mnist": "mnist", "fsdd": "fsdd", "xo": "generated"}  # the model's default weights
ENSEMBLE_SUFFIX = "_ensemble"


def weight_name(recipe) -> WeightName:
    """conv3_bn.mnist for a model's own recipe (or the one recipe of a model that has no recipe of
    its name, as conv3_bn_small); conv3.tuned for the recipe conv3_tuned of conv3."""
    if recipe.name == recipe.model or recipe.model not in RECIPES:
        return WeightName(recipe.model, DEFAULT_TAGS[recipe.dataset])
    return WeightName(recipe.model, recipe.name.removeprefix(f"{recipe.model}_"))


def shipped_seed(recipe) -> int:
    """The seed whose weights ship: the recipe's first reported seed, fixed before any run, so
    that no test figure can pick it (the file is as typical as any seed, not the luckiest)."""
    return recipe.seeds[0]


def ensemble_name(recipe) -> WeightName:
    """conv7_bn_ensemble.mnist for a recipe's ensemble; conv7_bn_ensemble.cosine_refit for a
    refit's (refit_of), since the recipe it refits has the data set's tag. A second recipe of
    the same net would get the data set's tag too: the `ensemble` verb refuses to ship over
    another recipe's ensemble (conv7_bn_distilled pins conv7_bn_ensemble.mnist as its teacher)."""
    tag = (recipe.name.removeprefix(f"{recipe.model}_") if recipe.refit_of
           else DEFAULT_TAGS[recipe.dataset])
    return WeightName(f"{recipe.model}{ENSEMBLE_SUFFIX}", tag)
