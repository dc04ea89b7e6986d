"""A published recipe's test evaluations during training, at the steps its source tested
(Recipe.test_steps: Görner's scripts' cadence, issue 31), so that the max over training is the
source's own measure; their time is kept apart, out of the training time."""

import time

import keras
import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric


class SourceTests(keras.callbacks.Callback):
    """A published recipe's test evaluations, after the steps its source tested at
    (Recipe.test_steps), kept in state["tests"] as [step, accuracy, loss]. Their time
    (state["test_s"]) is kept out of the training time. The points between two evaluations are
    logged here; the one at an evaluation goes into its logs (history, progress, StepCurves)."""

    def __init__(self, recipe, test_ds, labels, state):
        super().__init__()
        self.steps, self.eval_every = set(recipe.test_steps()), recipe.eval_every
        self.test_ds, self.labels, self.state = test_ds, np.asarray(labels), state
        state.setdefault("tests", [])
        state.setdefault("test_s", 0.0)

    def on_train_begin(self, logs=None):
        if 0 in self.steps and not self.state["tests"]:  # the untrained net, as animate() does
            self._test(0)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        step = self.epoch * self.eval_every + batch + 1  # batch: the call's last step
        if step in self.steps:
            self._test(step)

    def _test(self, step):
        t0 = time.perf_counter()
        # predict, not evaluate: evaluate resets the training metrics in the middle of an epoch
        probabilities = self.model.predict(self.test_ds, verbose=0)
        picked = probabilities[np.arange(len(self.labels)), self.labels]
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == self.labels))
        loss = float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0))))  # Keras' clipping
        self.state["tests"].append([step, accuracy, loss])
        self.state["test_s"] += time.perf_counter() - t0

    def on_epoch_end(self, epoch, logs=None):
        start, end = epoch * self.eval_every, (epoch + 1) * self.eval_every
        last = self.state["tests"][-1]
        if last[0] != end:  # test_every divides eval_every (Recipe checks): cannot happen
            raise RuntimeError(f"no test after step {end}, the evaluation's")
        logs["test_accuracy"], logs["test_loss"] = last[1], last[2]
        # step 0 and the points inside the epoch; `start` was the previous evaluation's
        between = [t for t in self.state["tests"] if start < t[0] < end or t[0] == 0 == start]
        if between:
            stamp = int(time.time() * 1000)
            MlflowClient().log_batch(
                mlflow.active_run().info.run_id, synchronous=False,
                metrics=[Metric(key, value, stamp, step) for step, accuracy, loss in between
                         for key, value in (("test_accuracy", accuracy), ("test_loss", loss))])


def test_reads(recipe, blind: bool) -> str:
    """When a run reads the test set, in words (its "test_set" tag)."""
    if blind:
        return "never (blind run)"
    if not recipe.published:
        return "once, after the last step"
    if recipe.test_every is None:
        return "every evaluation"
    return f"its source's cadence ({len(recipe.test_steps())} tests)"
