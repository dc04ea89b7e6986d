"""`python -m reproductions molecules --ship`: each net's weights for each shipped task, with
its card, into zoo/molecules/weights/ (manifest.json and <net>.<tag>.keras).

Which seed ships: the one with the best validation figure (lowest validation RMSE, highest
validation accuracy) among the recipe's declared seeds in the store; its test figure is written
on the card beside the recipe's mean over seeds, read after the choice, never used for it. The
recipe's figure comes from the same rows as the committed table (report.summary_rows).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlflow.tracking import MlflowClient

from reproductions.molecules.report import summary_rows, seed_rows
from reproductions.molecules.store import EXPERIMENT
from reproductions.recipes.molecules import NETS, RECIPES, SHIPPED_TAGS
from tracking.runs import artifact_file
from zoo.data.idx import sha256_of
from zoo.data.specs import get_dataset
from zoo.files import atomic_path, copy_file
from zoo.molecules import weights

COMMAND = "python -m reproductions molecules --reference --ship"


def ship(folder: Path | None = None) -> list[str]:
    """Write the weights and the manifest; what was shipped, one line each."""
    folder = folder or weights.WEIGHTS_DIR
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # not on the console
    client = MlflowClient()
    found = client.get_experiment_by_name(EXPERIMENT)
    rows = seed_rows(client, None if found is None else found.experiment_id)
    summary = {(r["model"], r["dataset"]): r for r in summary_rows(rows)}
    entries, said = [], []
    for dataset, tag in SHIPPED_TAGS.items():
        spec = get_dataset(dataset)
        for net in NETS:
            recipe = RECIPES[f"{net}@{dataset}"]
            mine = [r for r in rows if r["recipe"] == recipe.name]
            if len(mine) < len(recipe.trained_seeds):
                said.append(f"{net}.{tag}: {len(mine)} of {len(recipe.trained_seeds)} seeds "
                            "in the store; not shipped")
                continue
            sign = -1 if spec.task == "classification" else 1  # lower is better after the sign
            best = min(mine, key=lambda r: (sign * r["validation"], r["seed"]))
            name = f"{net}.{tag}"
            target = folder / f"{name}.keras"
            with artifact_file(best["run_id"], "model.keras") as got:
                copy_file(got, target)
            figure = summary[(net, dataset)]
            entries.append(weights.MoleculeCard(
                name=name, net=net, dataset=dataset, task=spec.task, target=spec.target,
                units=spec.units, classes=spec.classes, split=spec.splits,
                metric=figure["metric"], recipe=recipe.name, recipe_hash=recipe.hash(),
                recipe_mean=figure["mean"], recipe_std=figure["std"],
                recipe_seeds=figure["seeds"], seed=best["seed"],
                validation=best["validation"], test=best["test"], sha256=sha256_of(target),
                size=target.stat().st_size, license=spec.weights_license,
                command=COMMAND).to_manifest())
            said.append(f"{name}: seed {best['seed']} (best validation {figure['metric']} "
                        f"{best['validation']:.3f}), {target}")
    with atomic_path(folder / "manifest.json") as part:
        part.write_text(json.dumps(entries, indent=1) + "\n")
    shipped = {f"{e['name']}.keras" for e in entries}
    for stale in folder.glob("*.keras"):  # a net no longer shipped leaves no file behind
        if stale.name not in shipped:
            stale.unlink()
            said.append(f"{stale.stem}: removed (not shipped any more)")
    weights.cards.cache_clear()
    return said
