"""Suite verbs that publish the library's work to MLflow: `register` (shipped weights into the
model registry, tracking/register.py), `explain` (the zoo's explainer page, logged as a run
of experiment zoo-explain) and `serve` (MLflow's model server for a registered weight,
tracking/serve.py). The zoo's own `zoo explain` writes the page and touches no MLflow."""

from __future__ import annotations

import contextlib
import sys

import mlflow

from tracking import REPO_ROOT, TrackingError, check_store, experiment_id, run_tags
from tracking.register import register
from tracking.serve import serve
from zoo.cli import explain_to
from zoo.data import DataError

EXPLAIN_EXPERIMENT = "zoo-explain"


def register_run(args) -> int:
    """The `register` verb."""
    try:
        register(args.names or None)
    except (TrackingError, ValueError) as err:  # a store that is down, an unknown weight
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def explain_run(args) -> int:
    """The `explain` verb: the page of `zoo explain`, also logged to MLflow."""
    try:
        check_store(EXPLAIN_EXPERIMENT)
        page, folder, label, _ = explain_to(args.model, args.input,
                                            args.out or REPO_ROOT / "runs" / "explain")
    except (TrackingError, ValueError, KeyError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {page}")
    with mlflow.start_run(experiment_id=experiment_id(EXPLAIN_EXPERIMENT),
                          run_name=f"explain {label} {args.input}", tags=run_tags()):
        mlflow.log_artifacts(str(folder), "explain")
    print(f"logged to MLflow, experiment {EXPLAIN_EXPERIMENT}")
    return 0


def serve_run(args) -> int:
    """The `serve` verb: registers the weight if needed, then becomes MLflow's model server."""
    try:
        return serve(args.model, args.host, args.port, args.workers,
                     registering=lambda: _registering_logged(args.model))
    except (TrackingError, ValueError) as err:  # a store that is down, an unknown weight
        print(f"error: {err}", file=sys.stderr)
        return 2


@contextlib.contextmanager
def _registering_logged(name: str):
    """Around serve's registering: MLflow's "Successfully registered model" and "Created version"
    lines (a weight's first serve) and whatever else MLflow or TensorFlow write meanwhile go to
    runs/logs/serve-<time>-<pid>.log, as `register` keeps them; the console names the file when
    it holds something, and an empty one is removed (the weight was registered already)."""
    from reproductions.run import console

    log = None
    try:
        with console.quiet("serve") as log:
            yield
    finally:
        if log is not None and log.stat().st_size:
            print(f"log: {log} (MLflow's messages from registering {name})", flush=True)
        elif log is not None:
            log.unlink()
