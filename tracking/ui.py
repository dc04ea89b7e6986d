"""Addresses that open MLflow's UI where a newcomer should land: an experiment's runs table.

MLflow 3's UI keeps a GenAI / Model training switch in the browser's localStorage
(`mlflow.workflowType`), which starts on GenAI in a fresh browser; nothing on the server side
sets it (mlflow/mlflow issue 24498 describes the switch). An address carrying
`workflowType=machine_learning` sets it, so `make mlflow-ui` prints one per zoo experiment and the
README tells users to open it.

The runs table's columns live in the browser too, except for a *shared view*: MLflow's UI reads
a view saved as the experiment tag `mlflow.sharedViewState.<key>` (JSON: the selected columns,
as its "Share" button writes them) when the address carries `viewStateShareKey=<key>`. Every zoo
experiment holds one, VIEW_KEY, whose columns are each parent's verdict, mean, spread and 95%
interval beside the published figure; the printed address opens it.
"""

from __future__ import annotations

import json

from mlflow.tracking import MlflowClient

WORKFLOW = "workflowType=machine_learning"  # MLflow 3's "Model training" view
VIEW_KEY = "zoo-summary"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
# MLflow's column keys: "<attributes|metrics|params|tags>.`<name>`"; the parent runs' summary
# (tracking/summary.py: RecipeSummary.metrics and .tags), the data set column kept first
VIEW_COLUMNS = ("attributes.`Dataset`", "tags.`verdict`", "metrics.`test_accuracy_mean`",
                "metrics.`test_accuracy_std`", "metrics.`test_accuracy_ci95_low`",
                "metrics.`test_accuracy_ci95_high`", "metrics.`target_acc`", "metrics.`n_seeds`")


def view_state() -> str:
    """The shared view's JSON, as the experiment tag holds it."""
    return json.dumps({"selectedColumns": list(VIEW_COLUMNS)})


def save_view(client: MlflowClient, experiment_id: str) -> None:
    """Give the experiment the zoo's runs-table view (where it lacks it, or holds another)."""
    if client.get_experiment(experiment_id).tags.get(VIEW_TAG) != view_state():
        client.set_experiment_tag(experiment_id, VIEW_TAG, view_state())


def runs_address(base_url: str, experiment_id: str) -> str:
    """The runs table of one experiment, in model-training mode, with the zoo's columns."""
    return (f"{base_url.rstrip('/')}/#/experiments/{experiment_id}/runs?{WORKFLOW}"
            f"&viewStateShareKey={VIEW_KEY}")


def zoo_addresses(base_url: str, tracking_uri: str | None = None) -> list[str]:
    """One line per zoo experiment of the store ("zoo-mnist: <address>"), or how to get one."""
    client = MlflowClient(tracking_uri)
    experiments = [e for e in client.search_experiments() if e.name.startswith("zoo-")]
    for e in experiments:  # a store made before the view existed gets it now
        save_view(client, e.experiment_id)
    if not experiments:
        return [f"no zoo experiment in this store yet (make reproduce-mnist); then open "
                f"{base_url.rstrip('/')}/#/experiments?{WORKFLOW}"]
    return [f"{e.name}: {runs_address(base_url, e.experiment_id)}"
            for e in sorted(experiments, key=lambda e: e.name)]
