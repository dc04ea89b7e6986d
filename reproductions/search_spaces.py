"""Search spaces around the zoo's recipes, as KerasTuner HyperModels.

Every family tunes the training: peak learning rate and its decay, batch size. The conv3 family
also tunes its shape: the width of its three convolutions (a multiple of the recipe's), the dense
width, and the dropout rate where it has one. LeNet-5's architecture is the paper's, so only its
training is tuned. Each hyperparameter's default is the recipe's own value.
"""

from __future__ import annotations

import dataclasses
import inspect

import keras_tuner as kt

import zoo
from reproductions.recipes import Recipe
from reproductions.train import compile_model

WIDTHS = [0.5, 1.0, 1.5, 2.0]  # multiples of the recipe's filter counts


def _architecture(recipe: Recipe) -> dict:
    """The builder's searchable arguments and their defaults (filters, dense, dropout)."""
    signature = inspect.signature(zoo.registry.get_spec(recipe.model).builder).parameters
    return {k: p.default for k, p in signature.items() if k in ("filters", "dense", "dropout")}


class ZooHyperModel(kt.HyperModel):
    def __init__(self, recipe: Recipe):
        super().__init__(name=recipe.name)
        self.recipe = recipe
        self.arch = _architecture(recipe)

    def _training(self, hp):
        r = self.recipe
        return dict(
            lr_max=hp.Float("lr_max", r.lr_max / 5, min(r.lr_max * 5, 0.1), sampling="log",
                            default=r.lr_max),
            lr_decay_steps=hp.Choice("lr_decay_steps", sorted({800, 1600, 3200,
                                                               r.lr_decay_steps or 1600}),
                                     default=r.lr_decay_steps or 1600),
            batch_size=hp.Choice("batch_size", sorted({64, 100, 128, r.batch_size}),
                                 default=r.batch_size))

    def _model_options(self, hp) -> dict:
        options = {}
        if "filters" in self.arch:
            width = hp.Choice("width", WIDTHS, default=1.0)
            options["filters"] = tuple(max(1, round(f * width)) for f in self.arch["filters"])
        if "dense" in self.arch:
            options["dense"] = hp.Choice("dense", [100, 200, 400], default=self.arch["dense"])
        if "dropout" in self.arch:
            options["dropout"] = hp.Float("dropout", 0.0, 0.5, step=0.125,
                                          default=self.arch["dropout"])
        return options

    def build(self, hp):
        training = self._training(hp)
        recipe = dataclasses.replace(self.recipe, lr_max=training["lr_max"],
                                     lr_decay_steps=training["lr_decay_steps"],
                                     model_options=tuple(self._model_options(hp).items()))
        return compile_model(recipe, zoo.create_model(recipe.model, **recipe.model_kwargs()))

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, batch_size=hp.get("batch_size"), **kwargs)

    def describe(self) -> str:
        hp = kt.HyperParameters()
        self._training(hp)
        self._model_options(hp)
        return "; ".join(f"{p.name}: {p.get_config().get('values') or (p.min_value, p.max_value)}"
                         for p in hp.space)


def recipe_from(recipe: Recipe, hp, name: str) -> Recipe:
    """The recipe with the search's best hyperparameters, ready for `make reproduce-mnist`."""
    model = ZooHyperModel(recipe)
    options = model._model_options(hp)
    return dataclasses.replace(
        recipe, name=name, lr_max=hp.get("lr_max"), lr_decay_steps=hp.get("lr_decay_steps"),
        batch_size=hp.get("batch_size"), model_options=tuple(options.items()) or None,
        notes=f"found by a KerasTuner search around recipe {recipe.name}")
