"""What a run is made of, from its recipe: the data (with its provenance) and the compiled model.

Shared by training (train.py), searches (search_spaces.py, tune.py) and the benches, so each of
them sets a run up the same way; none of them imports train.py for it.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import keras
import numpy as np

import zoo
import zoo.data
import zoo.registry
from reproductions.recipes import Recipe
from reproductions.run import distill
from reproductions.run.schedule import keras_schedule
from reproductions.run.sdlm import SDLM, Curvature, map_loss

# Training steps per call into TensorFlow: cuts Python overhead, which dominates small nets
# (mlp5: see reproductions/results/bench_training.csv); the same batches, the same updates.
STEPS_PER_EXECUTION = 100


def steps_per_execution(recipe: Recipe) -> int:
    # evaluations and test points fall between calls
    return math.gcd(recipe.eval_every, STEPS_PER_EXECUTION, recipe.test_every or 0,
                    recipe.early_test_every or 0)


def seed_run(recipe: Recipe, seed: int) -> None:
    """Keras' seeds, and TensorFlow's deterministic kernels unless the recipe is XLA-compiled:
    Keras refuses XLA while op determinism is on (process-wide, so a run after another would
    silently lose its XLA); the XLA CPU kernels these runs use are deterministic on their own
    (tests/test_sdlm.py trains a seed twice and gets the same test answers)."""
    import tensorflow as tf  # here, not above: Keras on JAX (bench-peers) imports this module
    from tensorflow.python.framework.config import disable_op_determinism

    keras.utils.set_random_seed(seed)
    if recipe.jit_compile:
        disable_op_determinism()
    else:
        tf.config.experimental.enable_op_determinism()


def optimizer_callbacks(recipe: Recipe, data, seed: int) -> list:
    """What the optimizer needs during training: SDLM's curvature, re-estimated before each
    pass on training images drawn by the seed; the averaged weights for each validation (and
    BatchNorm's statistics refreshed for them, on the run's first training batches)."""
    if recipe.optimizer == "sdlm":
        return [Curvature(data.train[0], seed, recipe.sdlm_patterns)]
    if recipe.ema_momentum:
        batches = None
        if recipe.ema_bn_batches:
            batches = zoo.data.training_stream(
                *data.train, recipe.batch_size, seed, recipe.reshuffle_each_epoch,
                **recipe.augmentation()).take(recipe.ema_bn_batches)
        return [AveragedValidation(batches)]
    return []


def batchnorm_layers(model) -> list:
    """The model's BatchNormalization layers, nested models' included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found += batchnorm_layers(layer)
    return found


def refresh_batchnorm(model, batches) -> None:
    """BatchNorm's moving statistics recomputed for the weights in place: the mean, each batch
    weighing the same, of the statistics of `batches` (a dataset of (images, targets)) seen in
    training mode, as SWA's update of BatchNorm does. Keras' layer updates moving = moving x
    momentum + batch x (1 - momentum); a momentum of k / (k + 1) at the (k+1)-th batch makes that
    the running mean (the first batch's momentum, 0, drops the old statistics)."""
    layers = batchnorm_layers(model)
    momenta = [layer.momentum for layer in layers]
    try:
        for k, (images, _) in enumerate(batches):
            for layer in layers:
                layer.momentum = k / (k + 1)
            model(images, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


class AveragedValidation(keras.callbacks.Callback):
    """Validation of a net trained with weight averaging reads the average, the weights the run
    ends with (Keras' fit puts the average in place after its last step); training goes on from
    the trained weights, put back after each validation. So each validation figure, the last
    one included, is that of the net the run yields.

    With `batches` (a recipe's ema_bn_batches), BatchNorm's moving statistics are recomputed for
    the average before each validation, and the last validation's are those the run ends with.
    Everything the refresh moves (the statistics, dropout's random state) is put back after
    validation, so that training goes on exactly as without it (tested)."""

    def __init__(self, batches=None):
        super().__init__()
        self.batches = batches
        self._trained = self._state = self._refreshed = None

    def on_test_begin(self, logs=None):
        variables = self.model.trainable_variables
        self._trained = [v.numpy() for v in variables]
        self.model.optimizer.finalize_variable_values(variables)  # the average, in place
        if self.batches is not None:
            self._state = [v.numpy() for v in self.model.non_trainable_variables]
            refresh_batchnorm(self.model, self.batches)

    def on_test_end(self, logs=None):
        for variable, value in zip(self.model.trainable_variables, self._trained):
            variable.assign(value)
        if self._state is not None:
            self._refreshed = self._statistics()
            for variable, value in zip(self.model.non_trainable_variables, self._state):
                variable.assign(value)
        self._trained = self._state = None

    def on_train_batch_end(self, batch, logs=None):
        self._refreshed = None  # the average has moved since the last validation

    def on_train_end(self, logs=None):
        # fit has put the average in place (it does so before on_train_end); its statistics are
        # those of the last validation, which read that same average, unless training went on
        # after it (a run stopped inside a pass)
        if self._refreshed is not None:
            for (mean, variance), (m, v) in zip(self._statistics(variables=True), self._refreshed):
                mean.assign(m)
                variance.assign(v)

    def _statistics(self, variables=False):
        return [(layer.moving_mean, layer.moving_variance) if variables else
                (layer.moving_mean.numpy(), layer.moving_variance.numpy())
                for layer in batchnorm_layers(self.model)]


def learning_rate(recipe: Recipe):
    """The recipe's schedule as a Keras LearningRateSchedule."""
    return keras_schedule(recipe.schedule, recipe.steps)


def compile_model(recipe: Recipe, model, steps_per_execution=1, jit_compile=False):
    lr = learning_rate(recipe)
    if recipe.optimizer == "adam":
        optimizer = keras.optimizers.Adam(lr, epsilon=recipe.adam_epsilon,
                                          **({"use_ema": True, "ema_momentum": recipe.ema_momentum}
                                             if recipe.ema_momentum else {}),
                                          weight_decay=recipe.weight_decay)
        if recipe.weight_decay:  # kernels only: a bias or BatchNorm's gamma/beta is 1-D
            optimizer.exclude_from_weight_decay(
                var_list=[v for v in model.trainable_variables if len(v.shape) < 2])
    elif recipe.optimizer == "sdlm":
        optimizer = SDLM(lr, mu=recipe.sdlm_mu)
    else:
        optimizer = keras.optimizers.SGD(lr)
    if recipe.distill or recipe.label_smoothing:  # rows of probabilities in training only
        loss, metric = distill.soft_cross_entropy, distill.accuracy
    else:
        loss = map_loss if recipe.loss == "map" else "sparse_categorical_crossentropy"
        metric = "accuracy"
    model.compile(optimizer=optimizer, loss=loss,
                  metrics=[metric], steps_per_execution=steps_per_execution,
                  jit_compile=bool(recipe.jit_compile) or jit_compile)
    return model


def build_model(recipe: Recipe, for_training: bool = True):
    """The recipe's fresh, uncompiled zoo model, in the recipe's dtype policy. The policy is
    Keras-global: it is set for every model built here (float32 unless the recipe says), so a
    process that trains a bfloat16 variant and then a float32 one builds the latter in float32.
    for_training=False: the net as `zoo.create_model` builds it, without the training kernels
    (the copy a run saves and ships: it loads wherever the zoo's own net does)."""
    keras.mixed_precision.set_global_policy(recipe.precision or "float32")
    kernels = training_kernels(recipe) if for_training else {}
    return zoo.create_model(recipe.model, **(kernels | recipe.model_kwargs()))


def training_kernels(recipe: Recipe) -> dict:
    """{"fused_bn": True} where the net's builder takes it and the recipe does not say: its
    BatchNorm trains through TensorFlow's fused kernel (zoo.layers.FusedBatchNormalization), the
    same math with other sums, like another thread count, so the recipe and its hash stay what
    they are. On one thread it trains conv3_bn 1.1 and conv7_bn 1.3 times as fast
    (reproductions/results/profile_*.md); a recipe that names fused_bn keeps its choice
    (conv3_bn_fast: Keras' ops, as screened). Each run says which it got (batchnorm_kernel)."""
    import inspect

    if "fused_bn" in inspect.signature(zoo.registry.builder(recipe.model)).parameters:
        return {"fused_bn": True}
    return {}


def batchnorm_kernel(model) -> str:
    """The `batchnorm_kernel` tag of a run: "fused" (TensorFlow's kernel in training), "keras"
    (Keras' own ops), "fused+keras" (both: conv3_bn's dense BatchNorm is Keras' layer) or
    "none". Read off the model, as each layer decides in training (so a run resumed from a
    checkpoint saved by older code says what it goes on with)."""
    from zoo.layers import FusedBatchNormalization

    kinds = {"fused" if isinstance(layer, FusedBatchNormalization)
             and layer._fusable(layer.input, True, None) else "keras"
             for layer in batchnorm_layers(model)}
    return "+".join(sorted(kinds)) or "none"


@dataclass(frozen=True)
class RunData:
    train: tuple
    val: tuple | None  # None: a published recipe, no split
    test: tuple | None  # None: a blind run (screening), which must not see the test set
    provenance: zoo.data.Provenance
    # a distilled or label-smoothed run: train holds its target rows; these are the labels they
    # were made from, and the seconds the teacher took to make them (0 for label smoothing)
    labels: np.ndarray | None = None
    teacher_s: float = 0.0

    @property
    def digest(self) -> str:
        """The run's data identity: SHA256 of the arrays in the order the run uses them
        (training, validation, test; a missing part counts as empty). Two sources with the same
        examples in another order (tensorflow-datasets vs the original files) differ here, as
        the runs they train differ. A distilled run's images and labels count, not the teacher's
        targets: those may differ in their last bits from one machine to another, and the
        teacher is pinned by its hash in the recipe."""
        train = self.train if self.labels is None else (self.train[0], self.labels)
        return arrays_digest(train, self.val, self.test)


def arrays_digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        for array in part or ():
            array = np.ascontiguousarray(array)
            h.update(f"{array.dtype.str}{array.shape}".encode())
            h.update(array.tobytes())
        h.update(b"|")
    return h.hexdigest()


def load_data(recipe: Recipe, data_dir=None, *, with_test: bool = True) -> RunData:
    """Training (less the validation split, if any), validation and test arrays, and their
    provenance. with_test=False: the test arrays are dropped here, before a run starts (the
    loaders read the test file with the training one), so a blind run holds no test set."""
    loaded = zoo.data.load_dataset(recipe.dataset, data_dir)
    if recipe.validation_size:
        train, val = zoo.data.split_validation(*loaded.train, recipe.validation_size)
    else:
        train, val = loaded.train, None
    if recipe.train_subset:
        train = (train[0][:recipe.train_subset], train[1][:recipe.train_subset])
    labels, teacher_s = None, 0.0
    if recipe.distill:  # the teacher's word on each training image, mixed with its label
        teacher, sha, alpha, temperature = recipe.distill
        t0 = time.perf_counter()
        probabilities = distill.teacher_probabilities(recipe, teacher, sha, train[0])
        labels, teacher_s = train[1], time.perf_counter() - t0
        train = (train[0], distill.targets(probabilities, labels, alpha, temperature))
    elif recipe.label_smoothing:
        labels = train[1]
        classes = len(zoo.data.get_dataset(recipe.dataset).classes)
        train = (train[0], distill.smoothed(labels, recipe.label_smoothing, classes))
    return RunData(train, val, loaded.test if with_test else None, loaded.provenance, labels,
                   teacher_s)
