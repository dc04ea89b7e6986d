"""Addresses that open MLflow's UI where a newcomer should land: an experiment's runs table.

MLflow 3's UI keeps a GenAI / Model training switch in the browser's localStorage
(`mlflow.workflowType`), which starts on GenAI in a fresh browser; nothing on the server side
sets it (mlflow/mlflow issue 24498 describes the switch). An address carrying
`workflowType=machine_learning` sets it, so `make mlflow-ui` prints one per zoo experiment and the
README tells users to open it.
"""

from __future__ import annotations

from mlflow.tracking import MlflowClient

WORKFLOW = "workflowType=machine_learning"  # MLflow 3's "Model training" view


def runs_address(base_url: str, experiment_id: str) -> str:
    """The runs table of one experiment, in model-training mode."""
    return f"{base_url.rstrip('/')}/#/experiments/{experiment_id}/runs?{WORKFLOW}"


def zoo_addresses(base_url: str, tracking_uri: str | None = None) -> list[str]:
    """One line per zoo experiment of the store ("zoo-mnist: <address>"), or how to get one."""
    experiments = [e for e in MlflowClient(tracking_uri).search_experiments()
                   if e.name.startswith("zoo-")]
    if not experiments:
        return [f"no zoo experiment in this store yet (make reproduce-mnist); then open "
                f"{base_url.rstrip('/')}/#/experiments?{WORKFLOW}"]
    return [f"{e.name}: {runs_address(base_url, e.experiment_id)}"
            for e in sorted(experiments, key=lambda e: e.name)]
