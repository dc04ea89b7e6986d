"""What a finished run logs besides its metrics: plots of the held-out set it may read, the
trained weights as a fresh zoo model (.keras), its recipe (recipe.json), an MLflow model, and
the console log of the verb that trained it (logs/, when the console was kept quiet)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import mlflow

import zoo.data
from reproductions.run import console
from reproductions.run.prepare import build_model
from tracking import run_tags
from tracking.signatures import log_keras_model
from zoo import plots


def log_artifacts(recipe, seed, model, state, held_out, which, log_mlflow_model, phases):
    """Plots of the held-out set the run may read (`which`: test, or validation if blind);
    the time into `phases` (reproductions/run/phases.py): artifacts, model_logging."""
    t0 = time.perf_counter()
    x_test, y_test = held_out
    classes = zoo.data.get_dataset(recipe.dataset).classes
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    pred = probs.argmax(axis=1)
    title = f"{recipe.name}, seed {seed} ({which} set)"
    figures = {
        "training_curves.png": plots.training_curves(state["history"], title, recipe.eval_every),
        "confusion_matrix.png": plots.confusion_matrix(y_test, pred, classes, title),
        "misclassified.png": plots.misclassified_grid(x_test, y_test, pred, probs.max(axis=1),
                                                      classes, title=f"{title}: errors"),
    }
    # the trained weights in a fresh, uncompiled zoo model: it loads with `import zoo` alone
    clean = build_model(recipe, for_training=False)
    clean.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as tmp:
        for name, fig in figures.items():
            plots.save(fig, Path(tmp) / name, dpi=90)
            mlflow.log_artifact(str(Path(tmp) / name), "plots")
        path = Path(tmp) / f"{recipe.model}.keras"
        clean.save(path)
        mlflow.log_artifact(str(path), "model")
        (Path(tmp) / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2))
        mlflow.log_artifact(str(Path(tmp) / "recipe.json"))
    phases.add("artifacts", time.perf_counter() - t0)
    if log_mlflow_model:
        t0 = time.perf_counter()
        versions = {p: run_tags()[f"version.{p}"] for p in ("tensorflow", "keras")}
        log_keras_model(clean, "mlflow_model", recipe.model, x_test,
                        pip_requirements=[f"{p}=={v}" for p, v in versions.items()])
        phases.add("model_logging", time.perf_counter() - t0)
    if console.current_log is not None:  # MLflow's, TensorFlow's, Keras' lines, so far
        mlflow.log_artifact(str(console.current_log), "logs")
