"""Where the molecule runs are: their MLflow experiment, and the finished runs of a recipe."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from reproductions.recipes.molecules import MoleculeRecipe
from tracking.runs import experiment_name

EXPERIMENT = experiment_name("molecules")
NOTE = ("The molecule reproductions (issue #29): chemception, mol_conv and smiles_cnn against a "
        "random forest on Morgan fingerprints, a linear model on RDKit descriptors, FreeSolv's "
        "`calc` and the mean, per task and split; `python -m reproductions molecules --help`.")


def finished_runs(client: MlflowClient, exp_id: str, recipe: MoleculeRecipe, digest: str) -> dict:
    """{seed: newest FINISHED run} of this recipe version on this split."""
    runs = client.search_runs(
        [exp_id], f"tags.recipe = '{recipe.name}' and tags.recipe_hash = '{recipe.hash()}' and "
        f"tags.data_digest = '{digest}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1000)
    newest = {}
    for run in runs:
        newest.setdefault(int(run.data.tags["seed"]), run)
    return newest
