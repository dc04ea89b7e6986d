"""Runs in one place: experiment names and the queries that find a recipe's runs.

A recipe's runs live in experiment "zoo-<family>" (one per data set family: "zoo-mnist",
"zoo-fsdd" for FSDD and its folds) and are tagged recipe, recipe_hash and seed. A recipe here is
anything with `name`, `family` and `hash()` (reproductions.recipes.Recipe): tracking knows the
zoo, not the training suite.
"""

from __future__ import annotations

import os
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from tracking.claims import pid_alive
from tracking.store import check_store, experiment_id
from tracking.ui import save_view


@contextmanager
def artifact_file(run_id: str, artifact_path: str):
    """One artifact of a run, as a local path valid inside the `with` block.

    MLflow's download_artifacts without dst_path copies from the zoo's stores into a fresh
    temporary folder that nobody removes: every ensemble screening left its members' .keras files
    in /tmp, hundreds of them. Here the copy lives in a folder removed on leaving.
    """
    with tempfile.TemporaryDirectory(prefix="zoo-artifact-") as tmp:
        yield Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact_path,
                                                       dst_path=tmp))


def experiment_name(family: str) -> str:
    """The experiment of a data set family: "zoo-mnist"."""
    return f"zoo-{family}"


def experiment_for(recipe) -> str:
    """Fail fast on a bad store; the id of the recipe's experiment (created if missing)."""
    name = experiment_name(recipe.family)
    check_store(name)
    return experiment_id(name)


def existing_experiment(family: str) -> str | None:
    """The id of the family's experiment, or None if no run was ever logged to it."""
    found = MlflowClient().get_experiment_by_name(experiment_name(family))
    return None if found is None else found.experiment_id


# The experiment's kind: MLflow 3's UI then opens it on its training runs (model training), not
# on the GenAI traces view it shows for an experiment of unknown kind
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}


def describe_experiment(experiment: str, note: str) -> None:
    """Set the experiment's description (MLflow's note, shown above its runs) and kind, where
    they differ."""
    client = MlflowClient()
    tags = client.get_experiment(experiment).tags
    for key, value in ({"mlflow.note.content": note} | EXPERIMENT_KIND).items():
        if tags.get(key) != value:
            client.set_experiment_tag(experiment, key, value)
    save_view(client, experiment)  # the runs table's columns: verdict, mean, interval


def _run_filter(recipe, seed: int | None = None) -> str:
    text = f"tags.recipe = '{recipe.name}' and tags.recipe_hash = '{recipe.hash()}'"
    return text if seed is None else f"{text} and tags.seed = '{seed}'"


def finished_run(recipe, seed: int, experiment: str, data_digest: str | None = None):
    """The FINISHED run of (recipe, seed), if any (and trained on data `data_digest`, the arrays
    in the order the run used them, when given: the same examples in another order train another
    run); also closes runs left RUNNING by a dead process of this host (kill -9), marking them
    KILLED. Runs of live processes, and of other hosts, are left alone: who trains a pair is
    decided by its claim (tracking.claims), which also closes the runs of holders that died
    elsewhere."""
    client = MlflowClient()
    runs = client.search_runs([experiment], _run_filter(recipe, seed))
    for run in runs:
        if run.info.status == "FINISHED" and (
                data_digest is None or run.data.tags.get("data_digest") == data_digest):
            return run
    for run in runs:
        if run.info.status != "RUNNING":
            continue
        tags = run.data.tags
        pid, host = int(tags.get("pid", "0") or 0), tags.get("host")
        if host != socket.gethostname() or not pid or pid == os.getpid() or pid_alive(pid):
            continue
        client.set_tag(run.info.run_id, "ended_by", "its process died; closed by a later run")
        client.set_terminated(run.info.run_id, "KILLED")
    return None


def finished_runs(experiment: str, recipe) -> dict:
    """{seed: run}: the newest FINISHED run of each seed of the recipe's current version."""
    runs = MlflowClient().search_runs(
        [experiment], f"{_run_filter(recipe)} and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"])
    by_seed = {}
    for run in runs:  # newest first; the recipe's parent run (tracking.parents) has no seed
        if "seed" in run.data.tags:
            by_seed.setdefault(int(run.data.tags["seed"]), run)
    return by_seed


def last_value(run, metric: str) -> float:
    """The last logged value of `metric` in `run` (a metric logged per evaluation)."""
    return MlflowClient().get_metric_history(run.info.run_id, metric)[-1].value
