"""KerasTuner searches around a zoo recipe, every trial tracked in MLflow, on one machine or many.

    python -m reproductions tune --recipe conv3 --tuner hyperband --max-epochs 4   # make tune-mnist

The search space (reproductions/search/spaces.py) is centred on the recipe. Trials are selected
on the validation split only and the search never holds the test set (it is dropped before the
search starts, so no trial and no summary can log a test metric); the best hyperparameters are
exported as a new, chosen recipe, reproductions/recipes/tuned/<recipe>_tuned.json, with the validation
split it was chosen on, which `make reproduce-mnist RECIPES=<recipe>_tuned` trains over its
reported seeds, each evaluating the test set once at the end.

MLflow (experiment zoo-tuning): one parent run per search, one nested run per trial with its
hyperparameters, per-epoch metrics and score. Re-running the same search continues it
(KerasTuner's overwrite=False) and reuses the MLflow runs it already has.

Team mode uses KerasTuner's own distributed engine: a chief (the oracle, over gRPC) and workers,
set by KERASTUNER_TUNER_ID ("chief" or a worker id), KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT.
All must see the same tuning folder (--dir) and the same MLflow store (a tracking server).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import keras_tuner as kt
import mlflow
from mlflow.tracking import MlflowClient

import zoo
import zoo.data
from reproductions.run.prepare import load_data
from reproductions.recipes import TUNED, Recipe, derive, get_recipe
from reproductions.search.spaces import ZooHyperModel, recipe_from
from tracking import REPO_ROOT, TrackingError, check_store, experiment_id, run_tags
from tracking.curves import MlflowEpochMetrics
from tracking.tags import git_commit, machine
from zoo.data import DataError
from zoo.files import make_folder, write_text

EXPERIMENT = "zoo-tuning"
TUNING_DIR = REPO_ROOT / "runs" / "tuning"
TUNERS = {"hyperband": kt.Hyperband, "random": kt.RandomSearch,
          "bayesian": kt.BayesianOptimization}


class TuningError(RuntimeError):
    """A search that cannot start: a chief out of reach, no parent run, a bad argument."""


def is_chief() -> bool:
    return os.environ.get("KERASTUNER_TUNER_ID") == "chief"


def is_worker() -> bool:
    return "KERASTUNER_ORACLE_IP" in os.environ and not is_chief()


class MlflowTrials:
    """Mixed into a KerasTuner tuner: each trial runs inside its own MLflow run, nested under
    the search's parent run. A trial that already has a run (a resumed search) reuses it."""

    parent_run_id: str
    search_name: str

    def run_trial(self, trial, *args, **kwargs):
        client = MlflowClient()
        exp = experiment_id(EXPERIMENT)
        found = client.search_runs([exp], f"tags.search = '{self.search_name}' and "
                                          f"tags.trial_id = '{trial.trial_id}'")
        tags = {"mlflow.parentRunId": self.parent_run_id, "search": self.search_name,
                "trial_id": trial.trial_id, "tuner_id": self.tuner_id}
        with mlflow.start_run(run_id=found[0].info.run_id if found else None,
                              experiment_id=None if found else exp,
                              run_name=f"trial {trial.trial_id}", tags=tags):
            mlflow.log_params({k: str(v) for k, v in trial.hyperparameters.values.items()})
            kwargs["callbacks"] = list(kwargs.get("callbacks", [])) + [MlflowEpochMetrics()]
            started = time.monotonic()
            histories = super().run_trial(trial, *args, **kwargs)
            # the trial's own training time, for the search record (reads it back from here)
            mlflow.log_metric("wall_s", time.monotonic() - started)
            scores = [max(h.history["val_accuracy"]) for h in _as_list(histories)]
            mlflow.log_metric("score", max(scores))
        print(f"[{self.search_name}] trial {trial.trial_id} by {self.tuner_id}: "
              f"val_accuracy {max(scores):.4f}  {trial.hyperparameters.values}", flush=True)
        return histories


def _as_list(results):
    return results if isinstance(results, list) else [results]


def _tuner_class(kind: str):
    try:
        base = TUNERS[kind]
    except KeyError:
        raise TuningError(f"unknown tuner {kind!r}; choose {', '.join(TUNERS)}") from None
    return type(f"Mlflow{base.__name__}", (MlflowTrials, base), {})


OBJECTIVES = {"val_accuracy": "max", "val_loss": "min"}


def make_tuner(recipe: Recipe, kind: str, max_trials: int, max_epochs: int, directory: Path,
               name: str, seed: int = 0, objective: str = "val_accuracy",
               hyperband_iterations: int = 1):
    hypermodel = ZooHyperModel(recipe)
    common = dict(objective=kt.Objective(objective, OBJECTIVES[objective]),
                  directory=str(directory), project_name=name, overwrite=False, seed=seed)
    if kind == "hyperband":
        return _tuner_class(kind)(hypermodel, max_epochs=max_epochs, factor=3,
                                  hyperband_iterations=hyperband_iterations, **common)
    return _tuner_class(kind)(hypermodel, max_trials=max_trials, **common)


def _parent_run(name: str, create: bool, params: dict, wait_s: float = 0) -> str:
    """The search's parent run id: found by its tag, created if asked, else waited for."""
    client = MlflowClient()
    exp = experiment_id(EXPERIMENT)
    deadline = time.monotonic() + wait_s
    while True:
        runs = client.search_runs([exp], f"tags.search = '{name}' and tags.role = 'parent'")
        if runs:
            return runs[0].info.run_id
        if create:
            run = client.create_run(exp, run_name=f"search {name}",
                                    tags={**run_tags(), "search": name, "role": "parent"})
            for key, value in params.items():
                client.log_param(run.info.run_id, key, value)
            return run.info.run_id
        if time.monotonic() > deadline:
            raise TuningError(f"no MLflow parent run for search {name!r}: start the chief first "
                              "(make tune-chief), with the same MLFLOW_TRACKING_URI")
        time.sleep(2)


CHIEF_WAIT_S = 30  # a worker started just before its chief waits this long for it


def _check_chief_reachable(timeout_s: float | None = None):
    timeout_s = CHIEF_WAIT_S if timeout_s is None else timeout_s
    host = os.environ["KERASTUNER_ORACLE_IP"]
    port = int(os.environ.get("KERASTUNER_ORACLE_PORT", "8000"))
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=3):
                return
        except OSError as err:
            if time.monotonic() > deadline:
                raise TuningError(
                    f"cannot reach the tuning chief at {host}:{port} ({err}); start it first "
                    "(make tune-chief) or fix KERASTUNER_ORACLE_IP / KERASTUNER_ORACLE_PORT"
                ) from err
            time.sleep(1)


def search(recipe: Recipe, kind: str = "hyperband", max_trials: int = 10, max_epochs: int = 4,
           train_subset: int | None = None, directory: Path = TUNING_DIR,
           name: str | None = None, data_dir=None, export_dir: Path | None = TUNED,
           objective: str = "val_accuracy", hyperband_iterations: int = 1,
           command: str | None = None) -> dict:
    """Run (or continue, or take part in) a search; returns a summary (chief/standalone)."""
    if max_trials < 1 or max_epochs < 1:
        raise TuningError(f"max_trials and max_epochs must be >= 1, got {max_trials}, "
                          f"{max_epochs}")
    name = name or f"{recipe.name}-{kind}"
    check_store(EXPERIMENT)
    if is_worker():
        _check_chief_reachable()
    if objective not in OBJECTIVES:
        raise TuningError(f"unknown objective {objective!r}; choose {', '.join(OBJECTIVES)}")
    params = {"recipe": recipe.name, "recipe_hash": recipe.hash(), "tuner": kind,
              "max_trials": max_trials, "max_epochs": max_epochs,
              "train_subset": train_subset, "space": ZooHyperModel(recipe).describe(),
              "objective": objective, "hyperband_iterations": hyperband_iterations}
    # what could refuse the search is tried before its parent run exists and before any trial:
    # the folders (a file in the way, a read-only place) and the data
    make_folder(directory)
    if export_dir is not None and not is_worker():
        make_folder(export_dir / "searches")
    keras.utils.set_random_seed(0)
    data = load_data(searched(recipe), data_dir, with_test=False)  # no test set, by design
    parent = _parent_run(name, create=not is_worker(), params=params,
                         wait_s=60 if is_worker() else 0)
    commit = git_commit()  # now: the export below writes tracked files (tuned/*.json)
    (x, y), val = data.train, data.val
    if train_subset:
        x, y = x[:train_subset], y[:train_subset]
    tuner = make_tuner(recipe, kind, max_trials, max_epochs, directory, name,
                       objective=objective, hyperband_iterations=hyperband_iterations)
    tuner.parent_run_id, tuner.search_name = parent, name
    tuner.search(x, y, validation_data=val, epochs=max_epochs, verbose=0)
    if is_worker():
        return {"worker": tuner.tuner_id}
    data_facts = {"command": command, "git_commit": commit, "train_examples": int(len(x)), "validation_examples": int(len(val[0])),
                  "data_digest": data.digest}
    return _finish(tuner, recipe, name, parent, export_dir, {**params, **data_facts})


def searched(recipe: Recipe) -> Recipe:
    """The recipe a search judges trials with: a published recipe (no split) gets the default
    validation split, since a search chooses and must choose on validation, not on the test;
    so does a refit (refit_of), which is searched as the chosen recipe it refits."""
    if recipe.validation_size == 0:
        # derive: a chosen recipe drops its source's test cadence (and keeps its name)
        return derive(recipe, {"validation_size": zoo.data.VALIDATION_SIZE, "refit_of": None},
                      name=recipe.name)
    return recipe


def trial_records(tuner, name: str, train_examples: int, max_epochs: int) -> list[dict]:
    """Every trial of a search as plain data: hyperparameters, epochs and steps trained,
    best validation loss and accuracy, wall time (from its MLflow run), status."""
    client = MlflowClient()
    exp = experiment_id(EXPERIMENT)
    walls = {r.data.tags.get("trial_id"): r.data.metrics.get("wall_s")
             for r in client.search_runs([exp], f"tags.search = '{name}'", max_results=5000)}
    rows = []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        hp = dict(trial.hyperparameters.values)
        epochs = hp.get("tuner/epochs", max_epochs)  # hyperband sets it per trial
        initial = hp.get("tuner/initial_epoch", 0)
        batch = hp.get("batch_size")
        trained = epochs - initial
        best = {m: (trial.metrics.get_best_value(m) if trial.metrics.exists(m) else None)
                for m in ("val_loss", "val_accuracy")}
        rows.append({
            "trial_id": trial_id, "status": str(trial.status),
            "hyperparameters": {k: v for k, v in hp.items() if not k.startswith("tuner/")},
            "hyperband": {k: v for k, v in hp.items() if k.startswith("tuner/")},
            "epochs_trained": trained,
            "steps_trained": trained * -(-train_examples // batch) if batch else None,
            "best_val_loss": best["val_loss"], "best_val_accuracy": best["val_accuracy"],
            "score": trial.score, "wall_s": walls.get(trial_id)})
    return rows


def write_record(path: Path, tuner, recipe: Recipe, tuned: Recipe, name: str, facts: dict):
    """The search's record, committed beside the recipe it produced: how it was run (command,
    commit, machine, budget, space) and every trial, so that the choice can be checked."""
    rows = trial_records(tuner, name, facts["train_examples"], facts["max_epochs"])
    record = {
        "search": name, "command": facts.get("command"),
        "git_commit": facts["git_commit"], "machine": machine(),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "recipe": recipe.name, "recipe_hash": recipe.hash(), "settings": facts,
        "test_set": "never loaded: the data are read with with_test=False",
        "best_trial_id": tuner.oracle.get_best_trials(1)[0].trial_id,
        "tuned_recipe": tuned.name, "tuned_recipe_hash": tuned.hash(),
        "trials_total": len(rows),
        "wall_s_total": round(sum(r["wall_s"] or 0 for r in rows), 1),
        "trials": rows}
    write_text(path, json.dumps(record, indent=1, default=str) + "\n")


def _finish(tuner, recipe, name, parent, export_dir, facts) -> dict:
    best_hp = tuner.get_best_hyperparameters(1)[0]
    # the winner as it was trained: its passes (hyperband: the epochs of its last round)
    passes = best_hp.values.get("tuner/epochs", facts["max_epochs"])
    tuned = recipe_from(searched(recipe), best_hp, name=f"{recipe.name}_tuned", passes=passes,
                        train_examples=facts["train_examples"])
    client = MlflowClient()
    best = tuner.oracle.get_best_trials(1)[0]
    if best.score is not None:
        client.log_metric(parent, "best_trial_score", float(best.score))
    client.log_dict(parent, best_hp.values, "best_hyperparameters.json")
    client.log_text(parent, tuned.to_json(), f"{tuned.name}.json")
    trials = tuner.oracle.get_best_trials(1)
    client.set_tag(parent, "best_trial_id", trials[0].trial_id)
    client.set_terminated(parent, "FINISHED")
    if export_dir is not None:
        write_text(export_dir / f"{tuned.name}.json", tuned.to_json() + "\n")
        # searches/ is not read as recipes (load_tuned reads tuned/*.json only)
        write_record(export_dir / "searches" / f"{name}.json", tuner, recipe, tuned, name,
                     facts)
    return {"parent_run_id": parent, "best_hyperparameters": best_hp.values,
            "best_trial_score": best.score, "recipe": tuned.to_dict()}


def command_line(args) -> str:
    """The `tune` command that makes this search, for its record."""
    words = ["python -m reproductions tune", f"--recipe {args.recipe}", f"--tuner {args.tuner}",
             f"--max-epochs {args.max_epochs}", f"--objective {args.objective}"]
    if args.tuner == "hyperband":
        words.append(f"--hyperband-iterations {args.hyperband_iterations}")
    else:
        words.append(f"--max-trials {args.max_trials}")
    for flag in ("train_subset", "name"):
        if getattr(args, flag):
            words.append(f"--{flag.replace('_', '-')} {getattr(args, flag)}")
    return " ".join(words)


def committed(path: Path) -> bool:
    """Whether git tracks `path`: a user's own earlier export there is not the reference. Where
    git cannot tell (not a checkout, no git), a file there counts as committed, to be safe."""
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "--error-unmatch",
                              str(path)], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return path.exists()
    return out.returncode == 0 or (out.returncode != 1 and path.exists())  # 1: not tracked


def committed_replaced(recipe: Recipe, name: str, export_dir: Path) -> list[Path]:
    """The committed files a search's export into `export_dir` would replace: its tuned recipe
    and its record, where `export_dir` is the suite's own tuned/ folder."""
    if export_dir.resolve() != TUNED.resolve():
        return []
    return [path for path in (TUNED / f"{recipe.name}_tuned.json",
                              TUNED / "searches" / f"{name}.json") if committed(path)]


def run(args) -> int:
    """The `tune` verb (arguments: its room's verbs.py)."""
    try:
        recipe = get_recipe(args.recipe)
        export_dir = Path(args.export_dir) if args.export_dir else TUNED
        # a user's search never replaces the committed recipe behind the reference tables
        # (conv3_tuned): refused now, not after hours of trials
        replaced = ([] if args.reference or is_worker() else
                    committed_replaced(recipe, args.name or f"{recipe.name}-{args.tuner}",
                                       export_dir))
        if replaced:
            named = " and ".join(str(path.relative_to(REPO_ROOT)) for path in replaced)
            raise TuningError(f"this search would replace the committed {named}; give "
                              "--export-dir DIR to write elsewhere, or --reference to replace "
                              "them on purpose")
        summary = search(recipe, args.tuner, args.max_trials, args.max_epochs,
                         args.train_subset, Path(args.dir) if args.dir else TUNING_DIR,
                         args.name, args.data_dir, export_dir,
                         args.objective, args.hyperband_iterations, command_line(args))
    except (TuningError, TrackingError, KeyError, DataError) as err:
        print(f"error: {str(err).strip(chr(39))}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2, default=str))
    return 0
