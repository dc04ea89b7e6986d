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
from reproductions.run.prepare import build_model, compile_model
from reproductions.recipes import Constant, CosineWarmup, ExponentialFloored, Recipe

WIDTHS = [0.5, 1.0, 1.5, 2.0]  # multiples of the recipe's filter counts


def _architecture(recipe: Recipe) -> dict:
    """The builder's searchable arguments and their defaults (filters, dense, dropout)."""
    signature = inspect.signature(zoo.registry.builder(recipe.model)).parameters
    return {k: p.default for k, p in signature.items() if k in ("filters", "dense", "dropout")}


class ZooHyperModel(kt.HyperModel):
    def __init__(self, recipe: Recipe):
        super().__init__(name=recipe.name)
        self.recipe = recipe
        self.arch = _architecture(recipe)

    def _training(self, hp):
        """The recipe's training fields, searched around their values: the schedule's peak
        learning rate (and its decay, for Görner's exponential schedule) and the batch size."""
        r, s = self.recipe, self.recipe.schedule
        peak = s.lr if isinstance(s, Constant) else s.lr_max
        lr_max = hp.Float("lr_max", peak / 5, min(peak * 5, 0.1), sampling="log", default=peak)
        if isinstance(s, ExponentialFloored):
            decay = hp.Choice("lr_decay_steps", sorted({800, 1600, 3200, s.decay_steps}),
                              default=s.decay_steps)
            schedule = dataclasses.replace(s, lr_max=lr_max, decay_steps=decay)
        elif isinstance(s, CosineWarmup):
            schedule = dataclasses.replace(s, lr_max=lr_max)
        else:
            schedule = Constant(lr_max)
        batch_size = hp.Choice("batch_size", sorted({64, 100, 128, r.batch_size}),
                               default=r.batch_size)
        return dict(schedule=schedule, batch_size=batch_size)

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
        recipe = dataclasses.replace(self.recipe, schedule=training["schedule"],
                                     model_options=tuple(self._model_options(hp).items()))
        return compile_model(recipe, build_model(recipe))

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, batch_size=hp.get("batch_size"), **kwargs)

    def describe(self) -> str:
        hp = kt.HyperParameters()
        self._training(hp)
        self._model_options(hp)
        return "; ".join(f"{p.name}: {p.get_config().get('values') or (p.min_value, p.max_value)}"
                         for p in hp.space)


def recipe_from(recipe: Recipe, hp, name: str, passes: int | None = None,
                train_examples: int | None = None) -> Recipe:
    """The recipe with the search's best hyperparameters, ready for `make reproduce-mnist`.
    With `passes` and `train_examples`: the recipe trains as the winning trial did, `passes`
    passes at its batch size (steps = passes x steps a pass), evaluating validation after each
    pass; without them it keeps the base recipe's steps (then the recipe is not the trial)."""
    model = ZooHyperModel(recipe)
    training = model._training(hp)
    options = model._model_options(hp)
    budget = {}
    if passes and train_examples:
        per_pass = -(-train_examples // training["batch_size"])
        budget = {"steps": passes * per_pass, "eval_every": per_pass}
    return dataclasses.replace(
        recipe, name=name, schedule=training["schedule"], batch_size=training["batch_size"],
        model_options=tuple(options.items()) or None, **budget,
        notes=f"found by a KerasTuner search around recipe {recipe.name}"
              + (f"; trains as its winning trial did: {passes} passes of {train_examples:,} "
                 "images" if budget else ""))
