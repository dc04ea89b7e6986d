"""Training curves on one axis: every metric of a run is logged with step = training step.

Training loss and accuracy are logged every `every` steps as their mean over those steps;
validation and test figures at each evaluation (every `eval_every` steps), at the step they were
computed. `every` divides `eval_every` and is a multiple of the steps run per call into
TensorFlow (Keras calls batch callbacks only between calls), the smallest such that a run logs
at most MAX_POINTS points per metric. The points of an evaluation interval go to MLflow in one
asynchronous batch at its evaluation: the training loop only queues them (the README's Tracking
section says what this costs: `python -m reproductions bench-logging`).

Keras' batch logs are running means since the epoch began (here: since the last evaluation);
the mean over a window (a, b] of equal batches is (b * m_b - a * m_a) / (b - a).
"""

from __future__ import annotations

import time

import keras
import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

MAX_POINTS = 200
# MLflow's own CPU, memory, disk and network sampling (every 10 s) for training runs: it costs
# nothing measurable here (README, Tracking: `python -m reproductions bench-logging`)
SYSTEM_METRICS = True
TRAINING = ("loss", "accuracy")


def points_every(steps: int, eval_every: int, per_call: int, max_points: int = MAX_POINTS) -> int:
    """The smallest divisor of eval_every, multiple of per_call, giving <= max_points points."""
    for every in range(per_call, eval_every + 1, per_call):
        if eval_every % every == 0 and steps / every <= max_points:
            return every
    return eval_every


class StepCurves(keras.callbacks.Callback):
    """Keeps the training window means every `every` steps, and logs them with the evaluation
    figures (fit's val_* and the test_* a callback before this one added to the epoch's logs) at
    each evaluation, in one asynchronous batch: one call into MLflow per evaluation, as before
    curves were logged. The training points also go to `state["curves"]` ([[metric, step,
    value]]), which the run's checkpoints keep, so that a resumed run logs the points before its
    interruption again; evaluation points are in the history already. With enabled=False
    (bench-logging's "off") only the evaluation figures are logged."""

    def __init__(self, steps: int, eval_every: int, per_call: int, state: dict,
                 enabled: bool = True):
        super().__init__()
        self.eval_every, self.state, self.enabled = eval_every, state, enabled
        self.every = points_every(steps, eval_every, per_call)
        self.state.setdefault("curves", [])
        self.pending: list[Metric] = []
        self.seconds = 0.0  # time spent here, on the training thread

    def on_train_begin(self, logs=None):
        log_earlier_points(self.state, self.eval_every)  # a resumed run: those before

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.last = epoch, (0, {k: 0.0 for k in TRAINING})

    def on_train_batch_end(self, batch, logs=None):
        done = batch + 1  # Keras passes the index of the last step of the call
        if done % self.every or not logs:
            return
        t0 = time.perf_counter()
        before, means = self.last
        now = {k: float(logs[k]) for k in TRAINING if k in logs}
        step = self.epoch * self.eval_every + done
        window = {k: (done * v - before * means.get(k, 0.0)) / (done - before)
                  for k, v in now.items()}
        self.last = (done, now)
        self.state["curves"] += [[k, step, v] for k, v in window.items()]
        if self.enabled:
            stamp = int(time.time() * 1000)
            self.pending += [Metric(k, v, stamp, step) for k, v in window.items()]
        self.seconds += time.perf_counter() - t0

    def on_epoch_end(self, epoch, logs=None):
        t0 = time.perf_counter()
        stamp, step = int(time.time() * 1000), (epoch + 1) * self.eval_every
        metrics = self.pending + [Metric(k, float(v), stamp, step) for k, v in (logs or {}).items()
                                  if k.startswith(("val_", "test_"))]
        self.pending = []
        if metrics:
            MlflowClient().log_batch(mlflow.active_run().info.run_id, metrics=metrics,
                                     synchronous=False)
        self.seconds += time.perf_counter() - t0


class ModelInfo(mlflow.keras.MlflowCallback):
    """MLflow's Keras callback for what it logs as training begins (the optimizer's settings as
    parameters, the model summary); the metrics are StepCurves'."""

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass


def log_earlier_points(state: dict, eval_every: int) -> None:
    """A resumed run: the points its interrupted predecessor logged, from the checkpoint."""
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, step) for k, step, v in state.get("curves", [])]
    for key, values in state.get("history", {}).items():
        if key.startswith(("val_", "test_")):
            metrics += [Metric(key, v, now, (i + 1) * eval_every) for i, v in enumerate(values)]
    if metrics:
        run = mlflow.active_run().info.run_id
        client = MlflowClient()
        for i in range(0, len(metrics), 1000):  # log_batch takes 1,000 metrics at most
            client.log_batch(run, metrics=metrics[i:i + 1000])


class MlflowEpochMetrics(mlflow.keras.MlflowCallback):
    """MLflow's Keras callback (optimizer params, model summary, metrics per epoch), without its
    step-less `validation_*` copies: fit's val_* metrics already carry the epoch. KerasTuner's
    trials log with it (reproductions/search/tune.py); a suite run logs by StepCurves."""

    def on_test_end(self, logs=None):
        pass
