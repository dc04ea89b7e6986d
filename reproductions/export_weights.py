"""Ship the reproductions' weights in the zoo: zoo/weights/*.keras, manifest.json, zoo/MODELS.md.

    python -m reproductions.export_weights [mnist xo fsdd]      # `make zoo-weights`

For each recipe with FINISHED runs in the MLflow store, the run whose final test accuracy is
closest to the recipe's mean over seeds is chosen (not the best one: the shipped file should be
a typical result), its `.keras` artifact is copied byte for byte, and its test accuracy is
recomputed from the file. Weight names are "<model>.mnist" for a model's canonical recipe and
"<model>.<rest>" for recipe "<model>_<rest>".
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys

import keras
import mlflow
import numpy as np
import tensorflow as tf
from mlflow.tracking import MlflowClient

import zoo
import zoo.data
from reproductions import report
from reproductions.recipes import RECIPES
from tracking import REPO_ROOT, check_store
from zoo.pretrained import MANIFEST, WEIGHTS_DIR, accuracy, load_file
from zoo.data.idx import sha256_of

MODELS_MD = REPO_ROOT / "zoo" / "MODELS.md"
LICENSES = {
    "mnist": "MNIST: CC BY-SA 3.0 (LeCun, Cortes, Burges); weights under the same terms",
    "fsdd": "FSDD: CC BY-SA 4.0 (Jakobovski et al.); weights under the same terms",
    "xo": "generated data (zoo.data.xo); weights under this repository's terms",
}
INPUTS = {
    "mnist": "uint8 pixels 0-255, shape (n, 28, 28); scaling happens inside the model",
    "fsdd": "log-mel spectrograms (n, 64, 61) from zoo.data.fsdd.spectrogram_of_file (8 kHz WAV)",
    "xo": "9x9 images with pixels in {-1, +1} (stroke +1), as zoo.data.xo draws them",
}
DEFAULT_TAGS = {"mnist": "mnist", "fsdd": "fsdd", "xo": "generated"}  # the model's default weights


def weight_name(recipe) -> str:
    """conv3_bn.mnist for a model's own recipe (or the one recipe of a model that has no recipe of
    its name, as conv3_bn_small); conv3.tuned for the recipe conv3_tuned of conv3."""
    if recipe.name == recipe.model or recipe.model not in RECIPES:
        return f"{recipe.model}.{DEFAULT_TAGS[recipe.dataset]}"
    return f"{recipe.model}.{recipe.name.removeprefix(f'{recipe.model}_')}"


def _trainable_params(model) -> int:
    # counted from the file, not the registry: a recipe's model_options may resize the net
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def export(dataset: str = "mnist") -> list[dict]:
    tf.config.experimental.enable_op_determinism()
    (_, _), (x_test, y_test) = zoo.data.load(dataset)
    client = MlflowClient()
    exp = client.get_experiment_by_name(f"zoo-{dataset}")
    WEIGHTS_DIR.mkdir(exist_ok=True)
    entries = []
    for row in report.collect(dataset):
        recipe = RECIPES[row["recipe"]]
        if recipe.dataset != dataset:  # leave-one-speaker-out folds are measurements, not zoo
            continue
        by_seed = report.finished_runs(client, exp.experiment_id, recipe)
        mean = row["mean_test_acc"]
        seed, run = min(by_seed.items(),
                        key=lambda kv: (abs(kv[1].data.metrics["test_accuracy"] - mean), kv[0]))
        name = weight_name(recipe)
        artifact = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path=f"model/{recipe.model}.keras")
        target = WEIGHTS_DIR / f"{name}.keras"
        shutil.copyfile(artifact, target)
        model = load_file(target)
        entries.append({
            "name": name, "dataset": dataset, "file": target.name, "sha256": sha256_of(target),
            "size": target.stat().st_size, "params": _trainable_params(model),
            "test_accuracy": accuracy(model, x_test, y_test),
            "recipe": recipe.name, "recipe_mean": mean, "recipe_std": row["std_test_acc"],
            "recipe_seeds": row["n_seeds"], "target_acc": recipe.target_acc,
            "target_source": recipe.target_source,
            "command": f"make reproduce-{dataset} MODELS={recipe.name} SEEDS={seed} && "
                       "make zoo-weights",
            "seed": seed, "mlflow_run_id": run.info.run_id,
            "chosen": "the seed whose final test accuracy is closest to the recipe's mean",
            "data_sha256": run.data.tags["data_sha256"],
            "keras_version": run.data.tags["version.keras"],
            "tensorflow_version": run.data.tags["version.tensorflow"],
            "git_commit": run.data.tags["git_commit"],
            "input": INPUTS[dataset],
            "license": LICENSES[dataset],
        })
        print(f"{name}: seed {seed}, test accuracy {entries[-1]['test_accuracy']:.4f} "
              f"(recipe mean {mean:.4f})")
    if dataset == "xo":
        entries.append(_xo_lecture_entry(x_test, y_test))
    names = [e["name"] for e in entries]
    if len(names) != len(set(names)):
        raise ValueError(f"two recipes would ship weights under one name: {sorted(names)}; "
                         "give one of them a name that starts with its model's")
    # entries of other datasets (made by their own commands) stay as they are
    merged = sorted([e for e in _existing() if e["dataset"] != dataset] + entries,
                    key=lambda e: e["name"])
    MANIFEST.write_text(json.dumps(merged, indent=2) + "\n")
    for stale in WEIGHTS_DIR.glob("*.keras"):
        if stale.name not in {e["file"] for e in merged}:
            stale.unlink()
    write_models_md(merged)
    return merged


def _xo_lecture_entry(x_test, y_test) -> dict:
    """xo_lecture is not trained: its features are the lecture's and its vote is derived."""
    target = WEIGHTS_DIR / "xo_lecture.lecture.keras"
    zoo.create_model("xo_lecture").save(target)
    acc = accuracy(load_file(target), x_test, y_test)
    return {
        "name": "xo_lecture.lecture", "dataset": "xo", "file": target.name,
        "sha256": sha256_of(target), "size": target.stat().st_size,
        "params": zoo.model_info("xo_lecture")["params"], "test_accuracy": acc,
        "recipe": "none: hand-set features, derived vote (zoo/models/xo.py)",
        "recipe_mean": acc, "recipe_std": 0.0, "recipe_seeds": 0, "target_acc": 0.5,
        "target_source": "the lecture's X/O example (no published accuracy)",
        "command": "make zoo-weights", "seed": None, "mlflow_run_id": None,
        "chosen": "built, not trained", "data_sha256": zoo.data.data_sha256("xo"),
        "keras_version": keras.__version__, "tensorflow_version": tf.__version__,
        "git_commit": None, "input": INPUTS["xo"], "license": LICENSES["xo"],
    }


def _existing() -> list[dict]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else []


def write_models_md(entries: list[dict]) -> None:
    lines = [
        "# Shipped weights",
        "",
        "Generated from `zoo/weights/manifest.json` by `make zoo-weights` (never typed). Each file "
        "is the run of its recipe whose final test accuracy is closest to the recipe's mean over "
        "seeds, not the best one. MNIST models take raw uint8 pixels (0-255, 28x28), the scaling "
        "is inside; each card's `input` (zoo.weight_info) says what its model takes. Load with "
        "`zoo.load(name)`: the SHA256 is checked before anything is read.",
        "",
        "| name | params | test acc of this file | recipe mean ± std (seeds) | published | size | "
        "sha256 |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| `{e['name']}` | {e['params']:,} | {100 * e['test_accuracy']:.2f}% "
            f"| {100 * e['recipe_mean']:.2f}% ± {100 * e['recipe_std']:.2f} ({e['recipe_seeds']}) "
            f"| {e['target_source']} | {e['size'] / 1e6:.2f} MB | `{e['sha256'][:12]}` |")
    MODELS_MD.write_text("\n".join(lines) + "\n")


def main(argv=None):
    datasets = (argv if argv is not None else sys.argv[1:]) or ["mnist", "xo", "fsdd"]
    check_store()
    keras.utils.set_random_seed(0)
    for dataset in datasets:
        export(dataset)
    print(f"wrote {MANIFEST} and {MODELS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
