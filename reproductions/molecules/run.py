"""`python -m reproductions molecules`: train each molecule recipe over its seeds, one MLflow run
each (experiment zoo-molecules), then write the tables (report.py).

A (recipe, seed) already FINISHED in the store on the same split (the run's `data_digest` tag) is
not trained again; one being trained by another process is claimed (tracking.claims) and left to
it. Each run carries the recipe's every field as params, the machine and versions as tags, the
validation and test figures, the training seconds, and the trained net (model.keras).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from reproductions.molecules.store import EXPERIMENT, NOTE, finished_runs
from reproductions.recipes.molecules import RECIPES, MoleculeRecipe, recipes_for
from tracking.claims import ClaimHeld, try_claim
from tracking.runs import describe_experiment
from tracking.store import experiment_id
from tracking.tags import run_tags
from zoo.data.specs import get_dataset


def _describe(recipe: MoleculeRecipe, metrics: dict, seconds: float) -> str:
    spec = get_dataset(recipe.dataset)
    if spec.task == "classification":
        figure = f"test accuracy {100 * metrics['test_accuracy']:.1f}%"
    else:
        figure = f"test RMSE {metrics['test_rmse']:.3f} {spec.units}"
    return f"{figure} ({seconds:.0f} s)"


def train_pair(recipe: MoleculeRecipe, seed: int, exp_id: str) -> str:
    """Train (recipe, seed) into one MLflow run; what happened, in a few words."""
    from reproductions.molecules.train import train
    from zoo.data.molecules import molecule_split

    digest = molecule_split(recipe.dataset).digest
    client = MlflowClient()
    if seed in finished_runs(client, exp_id, recipe, digest):
        return "already in the store"
    try:
        claim = try_claim(recipe.name, recipe.hash(), seed)
    except ClaimHeld as held:
        return f"skipped: {held}"
    with claim:
        if seed in finished_runs(client, exp_id, recipe, digest):  # finished meanwhile
            return "already in the store"
        tags = run_tags() | {"recipe": recipe.name, "recipe_hash": recipe.hash(),
                             "seed": str(seed), "model": recipe.model,
                             "dataset": recipe.dataset, "data_digest": digest}
        with mlflow.start_run(experiment_id=exp_id, run_name=f"{recipe.name} seed {seed}",
                              tags=tags) as run:
            claim.attach_run(run.info.run_id)
            mlflow.log_params(recipe.params())
            outcome, _ = train(recipe, seed)
            claim.check()
            mlflow.log_metrics(outcome.metrics | {"train_seconds": outcome.seconds,
                                                  "epochs": outcome.epochs})
            if outcome.model is not None:
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "model.keras"
                    outcome.model.save(path)
                    mlflow.log_artifact(str(path))
        return _describe(recipe, outcome.metrics, outcome.seconds)


def run(args) -> int:
    from zoo.quiet import import_keras_quietly

    if args.ship and not args.reference:  # the shipped weights go with the committed tables
        args.verb_parser.error("--ship replaces the shipped molecule weights: give --reference "
                               "too, on the reference store (deliberate)")
    import_keras_quietly()
    recipes = recipes_for(args.models, args.datasets)
    failed = 0
    if not args.report_only:
        exp_id = experiment_id(EXPERIMENT)
        describe_experiment(exp_id, NOTE)
        pairs = [(r, s) for r in recipes for s in (args.seeds or r.trained_seeds)
                 if not (r.deterministic and args.seeds and s != r.trained_seeds[0])]
        print(f"{len(pairs)} runs: {len(recipes)} recipes of {len(RECIPES)}, each over its "
              "seeds (deterministic ones once)", flush=True)
        start, failed = time.perf_counter(), 0
        for i, (recipe, seed) in enumerate(pairs, 1):
            try:
                said = train_pair(recipe, seed, exp_id)
            except Exception as err:  # noqa: BLE001 - one failed pair must not stop the others
                failed += 1  # its MLflow run is FAILED, the traceback in the log
                import traceback

                traceback.print_exc(file=sys.__stderr__)
                said = f"failed ({type(err).__name__}: {err}); the others go on"
            print(f"[{i}/{len(pairs)}] {recipe.name} seed {seed}: {said}", flush=True)
        print(f"trained in {time.perf_counter() - start:.0f} s", flush=True)
        if failed:
            print(f"error: {failed} runs failed (the log has their tracebacks)", file=sys.stderr)
    from reproductions.molecules.report import write_report

    written = write_report(reference=args.reference)
    if not written:
        print("error: no FINISHED molecule run in this store: nothing to tabulate (`python -m "
              "reproductions molecules` trains them)", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if args.ship:
        from reproductions.molecules.ship import ship

        for line in ship():
            print(line)
    return 1 if not args.report_only and failed else 0
