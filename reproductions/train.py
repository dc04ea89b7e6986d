"""Train one (recipe, seed) pair, tracked as one MLflow run; resume it if it was interrupted.

    train_run(get_recipe("conv3_bn"), seed=1)

Every `eval_every` steps (one logged "epoch") the run records training, validation and test
loss and accuracy. Validation (a fixed 5,000 images held out of training) is what selection may
use; the test accuracy during training only feeds the optimistic `peak_test_accuracy`, which is
what Görner's scripts quote. The figure that counts is `test_accuracy`, after the last step.
"""

from __future__ import annotations

import json
import math
import os
import socket
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import keras
import mlflow
import numpy as np
import tensorflow as tf
from mlflow.tracking import MlflowClient

import zoo
import zoo.data
from reproductions.checkpoint import Checkpoints
from reproductions.recipes import Recipe
from reproductions.schedule import FlooredExponentialDecay
from tracking import REPO_ROOT, TrackingError, check_store, experiment_id, run_tags
from zoo import plots

CHECKPOINT_ROOT = REPO_ROOT / "runs" / "checkpoints"


def experiment_name(recipe: Recipe) -> str:
    return f"zoo-{recipe.family}"  # one experiment per data set family


def learning_rate(recipe: Recipe):
    if recipe.lr_schedule == "cosine":
        warmup = recipe.lr_warmup_steps or 0
        return keras.optimizers.schedules.CosineDecay(
            recipe.lr_min, recipe.steps - warmup, alpha=0.0, warmup_target=recipe.lr_max,
            warmup_steps=warmup)
    return FlooredExponentialDecay(recipe.lr_max, recipe.lr_min, recipe.lr_decay_steps)


# Training steps per call into TensorFlow: cuts Python overhead, which dominates small nets
# (mlp5: see reproductions/results/bench_training.csv); the same batches, the same updates.
STEPS_PER_EXECUTION = 100


def steps_per_execution(recipe: Recipe) -> int:
    return math.gcd(recipe.eval_every, STEPS_PER_EXECUTION)  # evaluations fall between calls


def compile_model(recipe: Recipe, model, steps_per_execution=1, jit_compile=False):
    lr = learning_rate(recipe)
    if recipe.optimizer == "adam":
        optimizer = keras.optimizers.Adam(lr, epsilon=recipe.adam_epsilon)
    else:
        optimizer = keras.optimizers.SGD(lr)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=steps_per_execution,
                  jit_compile=jit_compile)
    return model


def load_data(recipe: Recipe, data_dir=None):
    (x_train, y_train), test = zoo.data.load(recipe.dataset, data_dir)
    train, val = zoo.data.split_validation(x_train, y_train, recipe.validation_size)
    if recipe.train_subset:
        train = (train[0][:recipe.train_subset], train[1][:recipe.train_subset])
    return train, val, test


def _run_filter(recipe: Recipe, seed: int) -> str:
    return (f"tags.recipe = '{recipe.name}' and tags.recipe_hash = '{recipe.hash()}' "
            f"and tags.seed = '{seed}'")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def finished_run(recipe: Recipe, seed: int, experiment_id: str):
    """The FINISHED run of (recipe, seed), if any; also closes runs left RUNNING by a dead
    process (kill -9), marking them KILLED."""
    client = MlflowClient()
    runs = client.search_runs([experiment_id], _run_filter(recipe, seed))
    for run in runs:
        if run.info.status == "FINISHED":
            return run
    for run in runs:
        if run.info.status != "RUNNING":
            continue
        tags = run.data.tags
        pid, host = int(tags.get("pid", "0") or 0), tags.get("host")
        if host == socket.gethostname() and pid and pid != os.getpid() and _pid_alive(pid):
            raise TrackingError(f"{recipe.name} seed {seed} is already being trained by process "
                                f"{pid} (MLflow run {run.info.run_id}); wait for it or stop it")
        client.set_tag(run.info.run_id, "ended_by", "its process died; closed by a later run")
        client.set_terminated(run.info.run_id, "KILLED")
    return None


class _EpochEnd(keras.callbacks.Callback):
    """At each evaluation: test accuracy (for the peak), checkpoint, progress line."""

    def __init__(self, recipe, seed, test_ds, checkpoints, state, progress):
        super().__init__()
        self.recipe, self.seed, self.test_ds = recipe, seed, test_ds
        self.checkpoints, self.state, self.progress = checkpoints, state, progress
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        test = self.model.evaluate(self.test_ds, verbose=0, return_dict=True)
        logs["test_loss"], logs["test_accuracy"] = test["loss"], test["accuracy"]
        now = time.perf_counter()
        self.state["wall_s"] += now - self.t0
        self.t0 = now
        for key, value in logs.items():
            self.state["history"].setdefault(key, []).append(float(value))
        self.checkpoints.save(epoch + 1, self.model, self.state)
        self.t0 = time.perf_counter()  # checkpoint time is not training time
        if self.progress:
            self.progress.epoch_done(self.recipe, self.seed, epoch + 1, logs)


class MlflowEpochMetrics(mlflow.keras.MlflowCallback):
    """MLflow's Keras callback (optimizer params, model summary, metrics per epoch), without its
    step-less `validation_*` copies: fit's val_* metrics already carry the epoch."""

    def on_test_end(self, logs=None):
        pass


def train_run(recipe: Recipe, seed: int, *, data_dir=None, progress=None,
              checkpoint_root: Path = CHECKPOINT_ROOT, log_mlflow_model: bool = True):
    """Train (recipe, seed) unless a FINISHED run exists; return the run's metrics dict."""
    zoo.registry.get_spec(recipe.model)  # an unknown model fails here, before any work
    experiment_id = check_store_for(recipe)
    done = finished_run(recipe, seed, experiment_id)
    if done is not None:
        if progress:
            progress.skipped(recipe, seed)
        return {"skipped": True, **done.data.metrics}

    train, val, test = load_data(recipe, data_dir)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    checkpoints = Checkpoints(checkpoint_root / f"{recipe.name}-{recipe.hash()}-seed{seed}")
    resumed = checkpoints.latest()
    if resumed:
        initial_epoch, model, state = resumed
    else:
        initial_epoch, state = 0, {"history": {}, "wall_s": 0.0}
        model = compile_model(recipe, zoo.create_model(recipe.model, **recipe.model_kwargs()),
                              steps_per_execution(recipe))

    stream = zoo.data.training_stream(*train, recipe.batch_size, seed,
                                      recipe.reshuffle_each_epoch,
                                      skip_batches=initial_epoch * recipe.eval_every,
                                      shift=recipe.augment_shift or 0)
    val_ds, test_ds = zoo.data.eval_dataset(*val), zoo.data.eval_dataset(*test)

    tags = {**run_tags(), "recipe": recipe.name, "recipe_hash": recipe.hash(),
            "seed": str(seed), "model": recipe.model, "pid": str(os.getpid()),
            "data_sha256": zoo.data.data_sha256(recipe.dataset),
            "data_source": zoo.data.source_of(recipe.dataset, data_dir)}
    if resumed:
        tags["resumed_from_epoch"] = str(initial_epoch)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{recipe.name}-seed{seed}",
                          tags=tags) as run:
        mlflow.log_params({**{k: str(v) for k, v in asdict(recipe).items()}, "seed": seed})
        for key, values in state["history"].items():  # the epochs before an interruption
            for step, value in enumerate(values):
                mlflow.log_metric(key, value, step=step)
        callbacks = [_EpochEnd(recipe, seed, test_ds, checkpoints, state, progress),
                     MlflowEpochMetrics()]
        t_start, steps_before = time.perf_counter(), initial_epoch * recipe.eval_every
        try:
            model.fit(stream, epochs=recipe.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=recipe.eval_every, validation_data=val_ds,
                      callbacks=callbacks, shuffle=False, verbose=0)
        except KeyboardInterrupt:
            mlflow.end_run(status="KILLED")
            raise
        fit_s = time.perf_counter() - t_start
        metrics = _final_metrics(state, images=(recipe.steps - steps_before) * recipe.batch_size,
                                 fit_s=fit_s)
        # test_accuracy and test_loss are already logged: the last evaluation follows the last step
        mlflow.log_metrics({k: v for k, v in metrics.items() if not k.startswith("test_")})
        _log_artifacts(recipe, seed, model, state, test, log_mlflow_model)
        run_id = run.info.run_id
    checkpoints.clear()
    return {"run_id": run_id, **metrics}


def check_store_for(recipe: Recipe) -> str:
    """Fail fast on a bad store; the id of the recipe's experiment."""
    check_store(experiment_name(recipe))
    return experiment_id(experiment_name(recipe))


def _final_metrics(state, images, fit_s):
    history = state["history"]
    best = int(np.argmax(history["val_accuracy"]))
    return {
        "test_accuracy": history["test_accuracy"][-1],
        "test_loss": history["test_loss"][-1],
        "peak_test_accuracy": max(history["test_accuracy"]),
        "best_val_accuracy": history["val_accuracy"][best],
        "best_val_epoch": best + 1,
        "test_accuracy_at_best_val": history["test_accuracy"][best],
        "wall_s": state["wall_s"],
        "images_per_second": images / fit_s if fit_s > 0 else 0.0,
    }


def trained_copy(recipe: Recipe, model):
    """The trained weights in a fresh, uncompiled zoo model: it loads with `import zoo` alone."""
    clean = zoo.create_model(recipe.model, **recipe.model_kwargs())
    clean.set_weights(model.get_weights())
    return clean


def _log_artifacts(recipe, seed, model, state, test, log_mlflow_model):
    x_test, y_test = test
    classes = zoo.model_info(recipe.model)["classes"]
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    pred = probs.argmax(axis=1)
    title = f"{recipe.name}, seed {seed}"
    figures = {
        "training_curves.png": plots.training_curves(state["history"], title),
        "confusion_matrix.png": plots.confusion_matrix(y_test, pred, classes, title),
        "misclassified.png": plots.misclassified_grid(x_test, y_test, pred, probs.max(axis=1),
                                                      classes, title=f"{title}: errors"),
    }
    clean = trained_copy(recipe, model)
    with tempfile.TemporaryDirectory() as tmp:
        for name, fig in figures.items():
            fig.savefig(Path(tmp) / name, dpi=90)
            plots.plt.close(fig)
            mlflow.log_artifact(str(Path(tmp) / name), "plots")
        path = Path(tmp) / f"{recipe.model}.keras"
        clean.save(path)
        mlflow.log_artifact(str(path), "model")
        (Path(tmp) / "recipe.json").write_text(json.dumps(asdict(recipe), indent=2))
        mlflow.log_artifact(str(Path(tmp) / "recipe.json"))
    if log_mlflow_model:
        versions = {p: run_tags()[f"version.{p}"] for p in ("tensorflow", "keras")}
        mlflow.keras.log_model(clean, name="mlflow_model",
                               pip_requirements=[f"{p}=={v}" for p, v in versions.items()])
