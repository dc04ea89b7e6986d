"""Train one (recipe, seed) pair as one MLflow run, resumed if it was interrupted:
train_run(get_recipe("conv3_bn"), seed=1). Every metric is logged against the training step
(tracking/curves.py); the run logs its data sets, nests under its recipe's parent run and says
what it is (reproductions/notes.py). Test accuracy during training only feeds the optimistic
`peak_test_accuracy` (what Görner quotes); the figure that counts is `test_accuracy`, after the
last step; validation is for selection. Setting a run up is reproductions/prepare.py's; finding
runs is tracking/runs.py's.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import keras
import mlflow
import numpy as np
import tensorflow as tf

import zoo
import zoo.data
from reproductions.checkpoint import Checkpoints
from reproductions import notes
from reproductions.prepare import build_model, compile_model, load_data, steps_per_execution
from reproductions.recipes import Recipe
from tracking import REPO_ROOT, run_tags
from tracking.claims import ClaimLost, try_claim
from tracking.curves import SYSTEM_METRICS, ModelInfo, StepCurves
from tracking.datasets import log_datasets
from tracking.runs import experiment_for, finished_run
from tracking.store import store_key
from tracking.signatures import log_keras_model
from zoo import plots

CHECKPOINT_ROOT = REPO_ROOT / "runs" / "checkpoints"


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


def run_params(recipe: Recipe, seed: int) -> dict:
    """The run's parameters: the recipe as it is hashed (the flat form older runs have too),
    its names, and the seed."""
    names = {"name": recipe.name, "target_acc": recipe.target_acc,
             "target_source": recipe.target_source, "seeds": recipe.seeds, "notes": recipe.notes,
             "schedule": recipe.schedule.kind}
    return {k: str(v) for k, v in (names | recipe.training_config()).items()} | {"seed": seed}


def train_run(recipe: Recipe, seed: int, *, data_dir=None, progress=None,
              checkpoint_root: Path = CHECKPOINT_ROOT, log_mlflow_model: bool = True,
              system_metrics: bool = SYSTEM_METRICS, step_curves: bool = True):
    """Train (recipe, seed) unless a FINISHED run exists; return the run's metrics dict."""
    zoo.registry.get_spec(recipe.model)  # an unknown model fails here, before any work
    experiment = experiment_for(recipe)
    done = finished_run(recipe, seed, experiment)
    if done is None:
        # exactly one process trains a pair, among all those sharing the store (other
        # machines too): a pair held elsewhere raises ClaimHeld, and the caller moves on
        with try_claim(recipe.name, recipe.hash(), seed) as claim:
            done = finished_run(recipe, seed, experiment)  # finished by the previous holder?
            if done is None:
                return _train_claimed(recipe, seed, experiment, claim, data_dir, progress,
                                      checkpoint_root, log_mlflow_model, system_metrics, step_curves)
    if progress:
        progress.skipped(recipe, seed)
    return {"skipped": True, **done.data.metrics}


def _train_claimed(recipe, seed, experiment, claim, data_dir, progress, checkpoint_root,
                   log_mlflow_model, system_metrics, step_curves):
    data = load_data(recipe, data_dir)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    # filed under the store: a run killed in store X is resumed by store X only, never by a
    # fresh run in store Y (whose X run would stay RUNNING)
    checkpoints = Checkpoints(checkpoint_root / store_key()
                              / f"{recipe.name}-{recipe.hash()}-seed{seed}")
    resumed = checkpoints.latest()
    if resumed:
        initial_epoch, model, state = resumed
    else:
        initial_epoch, state = 0, {"history": {}, "wall_s": 0.0}
        model = compile_model(recipe, build_model(recipe), steps_per_execution(recipe))

    stream = zoo.data.training_stream(*data.train, recipe.batch_size, seed,
                                      recipe.reshuffle_each_epoch,
                                      skip_batches=initial_epoch * recipe.eval_every,
                                      shift=recipe.augment_shift or 0, affine=recipe.augment_affine)
    val_ds, test_ds = zoo.data.eval_dataset(*data.val), zoo.data.eval_dataset(*data.test)

    tags = {**run_tags(), "recipe": recipe.name, "recipe_hash": recipe.hash(),
            "seed": str(seed), "model": recipe.model, "pid": str(os.getpid()),
            "data_sha256": data.provenance.digest, "data_source": data.provenance.source}
    if resumed:
        tags["resumed_from_epoch"] = str(initial_epoch)
    description = notes.describe(experiment, recipe, seed, tags)  # and nests it under the parent
    with mlflow.start_run(experiment_id=experiment, run_name=f"{recipe.name}-seed{seed}",
                          tags=tags, description=description,
                          log_system_metrics=system_metrics) as run:
        claim.attach_run(run.info.run_id)
        mlflow.log_params(run_params(recipe, seed))
        datasets_s = log_datasets(data.provenance, {"training": data.train, "validation": data.val,
                                                    "test": data.test})
        curves = StepCurves(recipe.steps, recipe.eval_every, steps_per_execution(recipe), state,
                            step_curves)  # also logs the points of before an interruption
        callbacks = [_EpochEnd(recipe, seed, test_ds, checkpoints, state, progress), curves,
                     ModelInfo(),  # and stop if the pair was taken over meanwhile
                     keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: claim.check())]
        t_start, steps_before = time.perf_counter(), initial_epoch * recipe.eval_every
        try:
            model.fit(stream, epochs=recipe.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=recipe.eval_every, validation_data=val_ds,
                      callbacks=callbacks, shuffle=False, verbose=0)
        except (KeyboardInterrupt, ClaimLost):
            mlflow.end_run(status="KILLED")
            raise
        fit_s = time.perf_counter() - t_start
        metrics = _final_metrics(state, images=(recipe.steps - steps_before) * recipe.batch_size,
                                 fit_s=fit_s)
        # test_accuracy and test_loss are already logged: the last evaluation follows the last step
        mlflow.log_metrics({k: v for k, v in metrics.items() if not k.startswith("test_")},
                           step=recipe.steps)
        _log_artifacts(recipe, seed, model, state, data.test, log_mlflow_model)
        run_id = run.info.run_id
    checkpoints.clear()
    notes.update_parent(experiment, recipe)
    return {"run_id": run_id, **metrics, "curve_logging_s": curves.seconds,
            "dataset_logging_s": datasets_s}


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


def _log_artifacts(recipe, seed, model, state, test, log_mlflow_model):
    x_test, y_test = test
    classes = zoo.data.get_dataset(recipe.dataset).classes
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    pred = probs.argmax(axis=1)
    title = f"{recipe.name}, seed {seed}"
    figures = {
        "training_curves.png": plots.training_curves(state["history"], title, recipe.eval_every),
        "confusion_matrix.png": plots.confusion_matrix(y_test, pred, classes, title),
        "misclassified.png": plots.misclassified_grid(x_test, y_test, pred, probs.max(axis=1),
                                                      classes, title=f"{title}: errors"),
    }
    # the trained weights in a fresh, uncompiled zoo model: it loads with `import zoo` alone
    clean = build_model(recipe)
    clean.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as tmp:
        for name, fig in figures.items():
            fig.savefig(Path(tmp) / name, dpi=90)
            plots.plt.close(fig)
            mlflow.log_artifact(str(Path(tmp) / name), "plots")
        path = Path(tmp) / f"{recipe.model}.keras"
        clean.save(path)
        mlflow.log_artifact(str(path), "model")
        (Path(tmp) / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2))
        mlflow.log_artifact(str(Path(tmp) / "recipe.json"))
    if log_mlflow_model:
        versions = {p: run_tags()[f"version.{p}"] for p in ("tensorflow", "keras")}
        log_keras_model(clean, "mlflow_model", recipe.model, x_test,
                        pip_requirements=[f"{p}=={v}" for p, v in versions.items()])
