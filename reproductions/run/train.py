"""Train one (recipe, seed) pair, tracked as one MLflow run; resume it if it was interrupted.

    train_run(get_recipe("conv3_bn"), seed=1)
    train_run(variant, seed=4, blind=True)   # screening, tuning: the test set is never computed

What a run evaluates depends on the kind of recipe (Recipe.published): a published recipe (no
validation split) evaluates the test set after the steps its source did (Recipe.test_steps:
Görner's cadence, else every `eval_every` steps): `test_accuracy` after the last step is the
figure, `peak_test_accuracy` (the max over those tests, the sources' own measure) is kept beside
it, optimistic, and the tests' time (`test_eval_s`) is kept out of `wall_s`; a chosen recipe's
reported seeds evaluate validation every `eval_every` steps and the test set ONCE, after the
last step; a blind run (screening, searches) never holds the test
arrays and logs no test metric. Every metric is logged against the training step
(tracking/curves.py); the run logs its data sets, nests under its recipe's parent run and says
what it is (reproductions/recipes/notes.py). Set-up: reproductions/run/prepare.py; finding runs:
tracking/runs.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import keras
import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric

import zoo.data
from reproductions.run.artifacts import log_artifacts
from reproductions.run.checkpoint import Checkpoints, EvaluationEnd
from reproductions.run.interrupt import StopAtBatchEnd
from reproductions.run.phases import Phases, system_metrics_cpu_seconds
from reproductions.run.prepare import (batchnorm_kernel, build_model, compile_model, load_data,
                                       optimizer_callbacks, seed_run, steps_per_execution)
from reproductions.run.source_tests import SourceTests, test_reads
from reproductions.recipes import RECIPES, Recipe, notes
from tracking import REPO_ROOT, run_tags
from tracking.claims import ClaimLost, try_claim
from tracking.store import store_key
from tracking.curves import SYSTEM_METRICS, ModelInfo, StepCurves
from tracking.datasets import log_datasets
from tracking.runs import experiment_for, finished_run

CHECKPOINT_ROOT = REPO_ROOT / "runs" / "checkpoints"


def run_params(recipe: Recipe, seed: int) -> dict:
    """The run's parameters: the recipe as it is hashed (the flat form older runs have too),
    its names, and the seed."""
    names = {"name": recipe.name, "target_acc": recipe.target_acc,
             "target_source": recipe.target_source, "seeds": recipe.seeds, "notes": recipe.notes,
             "schedule": recipe.schedule.kind}
    return {k: str(v) for k, v in (names | recipe.training_config()).items()} | {"seed": seed}


def train_run(recipe: Recipe, seed: int, *, data_dir=None, progress=None,
              checkpoint_root: Path = CHECKPOINT_ROOT, log_mlflow_model: bool = True,
              system_metrics: bool = SYSTEM_METRICS, step_curves: bool = True,
              blind: bool = False):
    """Train (recipe, seed) unless a FINISHED run of it on the same data exists; return the
    run's metrics dict. blind=True: a run of a choice (screening, search), which never holds the
    test set and logs no test metric; it needs a validation split to be judged on."""
    zoo.registry.get_spec(recipe.model)  # an unknown model fails here, before any work
    phases = Phases()  # the time outside training steps (reproductions/run/phases.py)
    if blind and recipe.validation_size == 0:  # published, or the refit of a chosen recipe
        raise ValueError(f"recipe {recipe.name!r} has no validation split: a blind run needs one "
                         "to be judged on")
    experiment = experiment_for(recipe)
    with phases("data"):
        data = load_data(recipe, data_dir, with_test=not blind)
        digest = data.digest
    with phases("store"):
        done = finished_run(recipe, seed, experiment, data_digest=digest)
    if done is None:
        # exactly one process trains a pair, among all those sharing the store (other
        # machines too): a pair held elsewhere raises ClaimHeld, and the caller moves on
        t0 = time.perf_counter()
        with try_claim(recipe.name, recipe.hash(), seed) as claim:
            # finished by the previous holder?
            done = finished_run(recipe, seed, experiment, data_digest=digest)
            phases.add("store", time.perf_counter() - t0)
            if done is None:
                return _train_claimed(recipe, seed, experiment, claim, data, blind, progress,
                                      checkpoint_root, log_mlflow_model, system_metrics,
                                      step_curves, phases)
    if progress:
        progress.skipped(recipe, seed)
    return {"skipped": True, **done.data.metrics}


def _train_claimed(recipe, seed, experiment, claim, data, blind, progress, checkpoint_root,
                   log_mlflow_model, system_metrics, step_curves, phases):
    phases.training_starts()
    seed_run(recipe, seed)

    # filed under the store: a run killed in store X is resumed by store X only, never by a
    # fresh run in store Y (whose X run would stay RUNNING)
    checkpoints = Checkpoints(checkpoint_root / store_key()
                              / f"{recipe.name}-{recipe.hash()}-seed{seed}")
    with phases("model"):
        resumed = checkpoints.latest()
        if resumed:
            initial_epoch, model, state = resumed
        else:
            initial_epoch, state = 0, {"history": {}, "wall_s": data.teacher_s}  # teacher's pass
            model = compile_model(recipe, build_model(recipe), steps_per_execution(recipe))
    test_s_before = state.get("test_s", 0.0)

    stream = zoo.data.training_stream(*data.train, recipe.batch_size, seed,
                                      recipe.reshuffle_each_epoch,
                                      skip_batches=initial_epoch * recipe.eval_every,
                                      **recipe.augmentation())
    val_ds, test_ds = (zoo.data.eval_dataset(*d) if d is not None else None
                       for d in (data.val, data.test))

    tags = {**run_tags(), "recipe": recipe.name, "recipe_hash": recipe.hash(),
            "seed": str(seed), "model": recipe.model, "pid": str(os.getpid()),
            "data_sha256": data.provenance.digest, "data_source": data.provenance.source,
            "data_digest": data.digest, "test_set": test_reads(recipe, blind),
            "protocol": "published" if recipe.published else "chosen", "batchnorm_kernel":
            batchnorm_kernel(model), "exploratory": str(recipe.name not in RECIPES).lower()}
    if resumed:
        tags["resumed_from_epoch"] = str(initial_epoch)
    t0 = time.perf_counter()
    description = notes.describe(experiment, recipe, seed, tags)  # and nests it under the parent
    with mlflow.start_run(experiment_id=experiment, run_name=f"{recipe.name}-seed{seed}",
                          tags=tags, description=description,
                          log_system_metrics=system_metrics) as run:
        claim.attach_run(run.info.run_id)
        mlflow.log_params(run_params(recipe, seed))
        datasets_s = log_datasets(data.provenance, {"training": data.train, "validation": data.val,
                                                    "test": data.test})
        phases.add("mlflow_start", time.perf_counter() - t0)
        curves = StepCurves(recipe.steps, recipe.eval_every, steps_per_execution(recipe), state,
                            step_curves)  # also logs the points of before an interruption
        tests = [SourceTests(recipe, test_ds, data.test[1], state)] if recipe.published else []
        callbacks = [*optimizer_callbacks(recipe, data, seed), *tests,
                     EvaluationEnd(recipe, seed, checkpoints, state, progress, phases), curves,
                     ModelInfo(),  # and stop if the pair was taken over meanwhile
                     keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: claim.check()),
                     StopAtBatchEnd()]  # a deferred Ctrl-C, after the epoch's checkpoint
        t_start, steps_before = time.perf_counter(), initial_epoch * recipe.eval_every
        try:
            model.fit(stream, epochs=recipe.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=recipe.eval_every, validation_data=val_ds,
                      callbacks=callbacks, shuffle=False, verbose=0)
        except (KeyboardInterrupt, ClaimLost):
            mlflow.end_run(status="KILLED")
            raise
        fit_s = time.perf_counter() - t_start
        metrics = _final_metrics(recipe, state,
                                 images=(recipe.steps - steps_before) * recipe.batch_size,
                                 fit_s=fit_s)
        metrics |= {"test_examples": len(data.test[1])} if data.test is not None else {}
        if recipe.published:  # a blind run logs no metric of the test set, not even its time
            phases.add("test_evals", state.get("test_s", 0.0) - test_s_before)
        phases.add("step_logging", curves.seconds)
        if test_ds is not None and not recipe.published:  # a chosen recipe: the one test read
            with phases("final_test"):
                test = model.evaluate(test_ds, verbose=0, return_dict=True)
            metrics |= {"test_accuracy": test["accuracy"], "test_loss": test["loss"]}
            mlflow.log_metrics({"test_accuracy": test["accuracy"], "test_loss": test["loss"]},
                               step=recipe.steps)
        # a published recipe's test_accuracy/test_loss are logged per evaluation already
        mlflow.log_metrics({k: v for k, v in metrics.items()
                            if k not in ("test_accuracy", "test_loss")}, step=recipe.steps)
        log_artifacts(recipe, seed, model, state, data.test if not blind else data.val,
                       "test" if not blind else "validation", log_mlflow_model, phases)
        if (cpu := system_metrics_cpu_seconds()) is not None:
            phases.add("system_metrics", cpu)
        run_id = run.info.run_id
    checkpoints.clear()
    if not blind:  # a blind run has no test figure to summarise
        with phases("parent"):
            notes.update_parent(experiment, recipe)
    MlflowClient().log_batch(run_id, [Metric(k, v, int(time.time() * 1000), recipe.steps)
                                      for k, v in phases.metrics().items()])
    return {"run_id": run_id, **metrics, **phases.metrics(), "curve_logging_s": curves.seconds,
            "dataset_logging_s": datasets_s}


def _final_metrics(recipe, state, images, fit_s):
    history = state["history"]
    metrics = {"wall_s": state["wall_s"],
               "images_per_second": images / fit_s if fit_s > 0 else 0.0}
    if state.get("tests"):  # published: the test set on its source's cadence
        tests = state["tests"]
        metrics |= {"test_accuracy": tests[-1][1], "test_loss": tests[-1][2],
                    "peak_test_accuracy": max(accuracy for _, accuracy, _ in tests),
                    "test_evaluations": len(tests), "test_eval_s": state["test_s"]}
    if "val_accuracy" in history:  # chosen (and blind): the validation split
        best = int(np.argmax(history["val_accuracy"]))
        metrics |= {"final_val_accuracy": history["val_accuracy"][-1],
                    "best_val_accuracy": history["val_accuracy"][best],
                    "best_val_epoch": best + 1}
    return metrics
