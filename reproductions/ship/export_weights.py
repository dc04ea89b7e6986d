"""Ship the reproductions' weights in the zoo: zoo/weights/*.keras, manifest.json, zoo/MODELS.md.

    python -m reproductions export-weights [mnist xo fsdd]      # `make zoo-weights`

For each recipe with FINISHED runs in the MLflow store, the run of its first reported seed ships
(`shipped_seed`: fixed before training, never chosen by test accuracy), its `.keras` artifact
is copied byte for byte, and its test accuracy is recomputed from the file. Each weight's card (zoo.weights.WeightCard) is written to the
manifest; zoo/MODELS.md is generated from the cards. Naming rule (`weight_name`): a model's
canonical recipe, or the only recipe of a model that has none of its name, ships as
"<model>.<data set tag>" ("conv3_bn.mnist", "conv3_bn_small.mnist", "xo.generated",
"audio_conv.fsdd"); recipe "<model>_<rest>" ships as "<model>.<rest>" ("conv3.tuned").
"""

from __future__ import annotations

import dataclasses
import json

import keras
import mlflow
import numpy as np
import tensorflow as tf

import zoo
import zoo.data
from reproductions.report import tables as report
from reproductions.recipes import RECIPES
from reproductions.recipes.notes import threads_of, with_threads
from reproductions.ship.models_md import MODELS_MD, write_models_md
from reproductions.ship.naming import DEFAULT_TAGS, ENSEMBLE_SUFFIX, shipped_seed, weight_name
from tracking import check_store
from tracking.runs import artifact_file
from zoo.data.idx import sha256_of
from zoo.files import atomic_path, copy_file, write_text
from zoo.weights import MANIFEST, WEIGHTS_DIR, WeightCard, WeightName, accuracy, load_file




def _trainable_params(model) -> int:
    # counted from the file, not the registry: a recipe's model_options may resize the net
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def why_not_shipped(recipe, verdict: str) -> str | None:
    """Why a recipe with runs ships no weight, None if it ships. The zoo's weights are float32.
    A study ships only when its whole interval clears its bar (issue 28: the distilled net ships
    if it does), its verdict computed by the tables' two-sided rule over its declared seeds."""
    if recipe.precision is not None:
        return (f"trained in {recipe.precision}, measured in the tables, not shipped (the zoo "
                "ships float32 weights)")
    if recipe.study and verdict != "above":
        return (f"a study, measured in the tables; it ships only when its whole 95% interval "
                f"clears its bar (its verdict: {verdict})")
    return None


def export(dataset: str = "mnist") -> list[WeightCard]:
    tf.config.experimental.enable_op_determinism()
    spec = zoo.data.get_dataset(dataset)
    loaded = zoo.data.load_dataset(dataset)
    x_test, y_test = loaded.test
    rows = report.collect(dataset)
    if not rows:  # a store without this data set's runs must not unship its weights
        print(f"{dataset}: no FINISHED runs of its recipes in this MLflow store; its shipped "
              "weights are kept as they are")
        return list(zoo.weights.cards(MANIFEST).values())
    entries = []
    for row in rows:
        recipe = RECIPES[row["recipe"]]
        if recipe.dataset != dataset:  # leave-one-speaker-out folds are measurements, not zoo
            continue
        unshipped = why_not_shipped(recipe, row["verdict"])
        if unshipped:
            print(f"{recipe.name}: {unshipped}")
            continue
        summary = row["summary"]
        mean = row["mean_test_acc"]
        seed = shipped_seed(recipe)
        if seed not in summary.seeds:
            raise ValueError(f"recipe {recipe.name}: its shipped seed {seed} (the first reported "
                             f"seed) has no FINISHED run; train it (make reproduce-{dataset} "
                             f"RECIPES={recipe.name})")
        run = mlflow.get_run(summary.run_ids[summary.seeds.index(seed)])
        name = weight_name(recipe)
        target = WEIGHTS_DIR / f"{name}.keras"
        with artifact_file(run.info.run_id, f"model/{recipe.model}.keras") as artifact:
            copy_file(artifact, target)
        model = load_file(target)
        entries.append(WeightCard(
            name=name, dataset=dataset, file=target.name, sha256=sha256_of(target),
            size=target.stat().st_size, params=_trainable_params(model),
            test_accuracy=accuracy(model, x_test, y_test),
            recipe=recipe.name, recipe_mean=mean, recipe_std=row["std_test_acc"],
            recipe_seeds=row["n_seeds"], target_acc=recipe.target_acc,
            target_source=recipe.target_source,
            command=with_threads(f"make reproduce-{dataset} RECIPES={recipe.name} SEEDS={seed}",
                                 threads_of(run.data.tags.get("tf_threads")))
                    + " && make zoo-weights",
            seed=seed, mlflow_run_id=run.info.run_id,
            chosen="the recipe's first reported seed, fixed before training (never chosen by "
                   "test accuracy)",
            data_sha256=run.data.tags["data_sha256"],
            keras_version=run.data.tags["version.keras"],
            tensorflow_version=run.data.tags["version.tensorflow"],
            git_commit=run.data.tags["git_commit"], input=spec.input,
            license=spec.weights_license, recipe_hash=run.data.tags["recipe_hash"]))
        print(f"{name}: seed {seed}, test accuracy {entries[-1].test_accuracy:.4f} "
              f"(recipe mean {mean:.4f})")
    if dataset == "xo":
        entries.append(_xo_lecture_card(x_test, y_test, loaded.provenance))
    names = [str(e.name) for e in entries]
    if len(names) != len(set(names)):
        raise ValueError(f"two recipes would ship weights under one name: {sorted(names)}; "
                         "give one of them a name that starts with its model's")
    # cards of other datasets, ensembles (made by their own commands: `make zoo-ensemble`) and
    # the weights of recipes this store has no runs of (a store that retrained some recipes
    # re-ships those only) stay as they are
    in_store = {row["recipe"] for row in rows}
    kept = [c for c in zoo.weights.cards(MANIFEST).values()
            if c.dataset != dataset or c.name.arch.endswith(ENSEMBLE_SUFFIX)
            or c.recipe not in in_store]
    kept = [c for c in kept if str(c.name) not in names]  # re-made here (xo_lecture's card)
    kept = _refreshed(kept, dataset)
    merged = sorted(kept + entries, key=lambda c: str(c.name))
    write_text(MANIFEST, json.dumps([c.to_manifest() for c in merged], indent=2) + "\n")
    zoo.weights.cards.cache_clear()
    for stale in WEIGHTS_DIR.glob("*.keras"):
        if stale.name not in {c.file for c in merged}:
            stale.unlink()
    write_models_md(merged)
    return merged


def _refreshed(cards: list[WeightCard], dataset: str) -> list[WeightCard]:
    """Kept single-net cards of `dataset` with their recipe's figure as the committed per-seed
    file gives it now (its declared seeds of the card's recipe version): the weight file stays,
    its card's mean, spread and seed count follow the reference tables (a seed dropped from the
    declared ones leaves the card's figure too). Cards of another version of their recipe keep
    the figure they were shipped with: it is that version's."""
    table, _ = report.summaries(dataset, report.committed_rows(dataset))
    figures = {row["recipe"]: row for row in table}
    out = []
    for card in cards:
        row = figures.get(card.recipe)
        if (card.dataset == dataset and row is not None
                and not card.name.arch.endswith(ENSEMBLE_SUFFIX)
                and card.recipe_hash == RECIPES[card.recipe].hash()):
            card = dataclasses.replace(card, recipe_mean=row["mean_test_acc"],
                                       recipe_std=row["std_test_acc"],
                                       recipe_seeds=row["n_seeds"])
        out.append(card)
    return out


def _xo_lecture_card(x_test, y_test, provenance) -> WeightCard:
    """xo_lecture is not trained: its features are the lecture's and its vote is derived."""
    name = WeightName("xo_lecture", "lecture")
    target = WEIGHTS_DIR / f"{name}.keras"
    with atomic_path(target) as temp:
        zoo.create_model(name.arch).save(temp)
    acc = accuracy(load_file(target), x_test, y_test)
    spec = zoo.data.get_dataset("xo")
    return WeightCard(
        name=name, dataset="xo", file=target.name, sha256=sha256_of(target),
        size=target.stat().st_size, params=zoo.model_info(name.arch)["params"],
        test_accuracy=acc, recipe="none: hand-set features, derived vote (zoo/models/xo.py)",
        recipe_mean=acc, recipe_std=0.0, recipe_seeds=0, target_acc=None,  # no bar: not at chance
        target_source="the lecture's X/O example (no published accuracy)",
        command="make zoo-weights", seed=None, mlflow_run_id=None, chosen="built, not trained",
        data_sha256=provenance.digest, keras_version=keras.__version__,
        tensorflow_version=tf.__version__, git_commit=None, input=spec.input,
        license=spec.weights_license)



def run(args) -> int:
    """The `export-weights` verb."""
    for dataset in args.datasets:
        if dataset not in DEFAULT_TAGS:
            args.verb_parser.error(f"export-weights takes data sets with shipped weights "
                                   f"({', '.join(DEFAULT_TAGS)}), not {dataset!r}")
    check_store()
    keras.utils.set_random_seed(0)
    for dataset in args.datasets:
        export(dataset)
    write_models_md(list(zoo.weights.cards(MANIFEST).values()))  # also when nothing re-shipped
    print(f"wrote {MANIFEST} and {MODELS_MD}")
    return 0
