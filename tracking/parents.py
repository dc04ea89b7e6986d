"""Recipe-level parent runs: one MLflow run per (recipe, recipe hash) in its experiment, the
seeds' runs nested under it (tag mlflow.parentRunId), carrying the recipe's summary
(tracking.summary: the same figures as the results tables) as metrics and tags.

Finding or creating the parent without races. MLflow has no unique constraint on runs, so two
processes may both miss the parent and both create one. The rule that makes them agree: among
the live parents of a (recipe, hash), the one with the earliest start time (then the smallest
run id) is *the* parent. Whoever creates one reads the parents again right after; a creator that
is not first deletes its own, and every update moves the seeds' runs of any other parent to the
canonical one and deletes the others. Since each seed's process updates the parent after its
run finishes, the store ends with one parent holding every seed, whatever the timing.

A parent is a container, not a process: it is FINISHED from its creation (nothing is left
RUNNING if a training dies), and its summary is rewritten after every seed.
"""

from __future__ import annotations

import sys
import time

from mlflow.entities import Metric, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME, MLFLOW_RUN_NOTE

from tracking.runs import finished_runs
from tracking.summary import MixedData, RecipeSummary, summarize

KIND_TAG, KIND = "run_kind", "recipe-summary"


def _filter(recipe) -> str:
    return f"tags.recipe = '{recipe.name}' and tags.recipe_hash = '{recipe.hash()}'"


def parents(client: MlflowClient, experiment: str, recipe) -> list:
    """The live parent runs of the recipe's current version, canonical first."""
    found = client.search_runs([experiment], f"{_filter(recipe)} and tags.{KIND_TAG} = '{KIND}'")
    return sorted(found, key=lambda r: (r.info.start_time, r.info.run_id))


def parent_run(experiment: str, recipe, note: str = "") -> str:
    """The run id of the recipe's parent, created if missing (see the module's docstring)."""
    client = MlflowClient()
    found = parents(client, experiment, recipe)
    if found:
        return found[0].info.run_id
    mine = client.create_run(experiment, run_name=f"{recipe.name} (all seeds)", tags={
        "recipe": recipe.name, "recipe_hash": recipe.hash(), "model": recipe.model,
        KIND_TAG: KIND, MLFLOW_RUN_NOTE: note})
    client.set_terminated(mine.info.run_id, "FINISHED")
    found = parents(client, experiment, recipe)  # someone else may have created one meanwhile
    canonical = found[0].info.run_id if found else mine.info.run_id
    if canonical != mine.info.run_id:
        _delete(client, mine.info.run_id)
    return canonical


def _delete(client, run_id):
    try:
        client.delete_run(run_id)
    except MlflowException:
        pass  # deleted by another process already


def _children(client, experiment, recipe) -> list:
    """Every run of the recipe's seeds (any status), not the parents."""
    return [r for r in client.search_runs([experiment], _filter(recipe)) if "seed" in r.data.tags]


def update_parent(experiment: str, recipe, note=lambda summary: "", repair: str | None = None
                  ) -> RecipeSummary | None:
    """Nest every seed's run under the recipe's parent and write the summary of its FINISHED
    runs on it; `note(summary)` gives the parent's description. Returns the summary. With
    `repair` (the command that redoes this), a failure is a warning naming it, not an error: a
    seed's run that has just finished stays FINISHED whatever happens to its parent."""
    if repair is None:
        return _update(experiment, recipe, note)
    try:
        return _update(experiment, recipe, note)
    except (MlflowException, RuntimeError, MixedData) as err:
        print(f"warning: the parent run of {recipe.name} was not updated ({err}); `{repair}` "
              "updates it", file=sys.stderr)
        return None


def _update(experiment, recipe, note):
    client = MlflowClient()
    for _ in range(5):  # a concurrent updater may delete the parent we chose: choose again
        parent = parent_run(experiment, recipe)
        summary = summarize(recipe, finished_runs(experiment, recipe))
        try:
            for child in _children(client, experiment, recipe):
                if child.data.tags.get(MLFLOW_PARENT_RUN_ID) != parent:
                    client.set_tag(child.info.run_id, MLFLOW_PARENT_RUN_ID, parent)
            _write(client, parent, recipe, summary, note(summary))
        except MlflowException:
            continue
        others = parents(client, experiment, recipe)
        if others and others[0].info.run_id == parent:
            for other in others[1:]:
                _delete(client, other.info.run_id)
            return summary
    raise RuntimeError(f"could not settle the parent run of {recipe.name} in experiment "
                       f"{experiment}: other processes kept replacing it")


def _write(client, parent: str, recipe, summary: RecipeSummary | None, note: str):
    # the latest value of a metric is the one with the highest (step, timestamp): keep the
    # timestamps strictly increasing so that a quick second update always wins
    last = max((m.timestamp for m in client.get_metric_history(parent, "n_seeds")), default=0)
    now = max(int(time.time() * 1000), last + 1)
    tags = {MLFLOW_RUN_NOTE: note, MLFLOW_RUN_NAME: f"{recipe.name} (all seeds)"}
    metrics = []
    if summary is not None:
        tags |= summary.tags()
        metrics = [Metric(k, v, now, 0) for k, v in summary.metrics().items()]
    client.log_batch(parent, metrics=metrics, tags=[RunTag(k, v) for k, v in tags.items()])
