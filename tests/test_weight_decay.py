"""Decoupled weight decay (issue 28, a recipe's weight_decay): after Adam's update each kernel
shrinks by weight_decay x the step's learning rate (Loshchilov & Hutter 2019), and biases and
BatchNorm's gamma and beta do not."""

import dataclasses

import keras
import numpy as np
import pytest

from reproductions.recipes import Constant, Recipe
from reproductions.run.prepare import compile_model

DECAYED = Recipe("quick_decayed", "conv3_bn", None, "a test recipe", pixel_scale=1 / 256,
                 schedule=Constant(0.1), steps=40, eval_every=20, train_subset=1000, seeds=(1,),
                 weight_decay=0.5)


def _one_step_without_gradient(recipe):
    """The net's variables before and after one optimizer step whose gradients are all zero:
    Adam's own update is then zero (its moments stay at zero), so only the decay moves them."""
    keras.utils.set_random_seed(3)
    model = compile_model(recipe, keras.Sequential([
        keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, name="conv"),
        keras.layers.BatchNormalization(name="bn"), keras.layers.Flatten(),
        keras.layers.Dense(3, name="out")]))
    # BatchNorm's gamma starts at 1 and the biases at 0: give them values a decay would move
    for variable in model.trainable_variables:
        if len(variable.shape) < 2:
            variable.assign(np.full(variable.shape, 0.7, "float32"))
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    model.optimizer.apply_gradients(
        [(np.zeros(v.shape, "float32"), v) for v in model.trainable_variables])
    return before, {v.path: v.numpy() for v in model.trainable_variables}


def test_kernels_shrink_by_the_decay_times_the_rate_and_nothing_else_moves():
    before, after = _one_step_without_gradient(DECAYED)
    shrink = 1 - 0.5 * 0.1  # weight_decay x the constant learning rate, AdamW's rule
    for path, value in before.items():
        expected = value * shrink if path.endswith("kernel") else value
        np.testing.assert_allclose(after[path], expected, rtol=1e-6, err_msg=path)
    assert sum(p.endswith("kernel") for p in before) == 2  # the convolution's and the dense's


def test_without_weight_decay_a_step_without_gradient_moves_nothing():
    before, after = _one_step_without_gradient(dataclasses.replace(DECAYED, weight_decay=None))
    for path, value in before.items():
        np.testing.assert_array_equal(after[path], value, err_msg=path)


@pytest.mark.parametrize("changes", [dict(weight_decay=0.0), dict(weight_decay=1.5),
                                     dict(weight_decay=1), dict(optimizer="sgd")])
def test_a_weight_decay_outside_adam_or_out_of_range_is_refused(changes):
    with pytest.raises(ValueError, match="weight_decay is a fraction in"):
        dataclasses.replace(DECAYED, **changes)


def test_weight_decay_enters_the_hash_only_when_given():
    plain = dataclasses.replace(DECAYED, weight_decay=None)
    assert "weight_decay" not in plain.training_config()
    assert DECAYED.hash() != plain.hash()
    assert dataclasses.replace(DECAYED, weight_decay=0.05).hash() != DECAYED.hash()
