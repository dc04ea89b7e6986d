"""Serve a shipped weight over HTTP with MLflow's scoring protocol: `make serve MODEL=... PORT=...`
(`python -m reproductions serve conv3_bn.mnist --port 5001`).

    curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\
         -d '{"inputs": [[[0, 0, ...28 rows of 28 pixels...]]]}'
    # floats in 0-1: add "params": {"pixel_range": "0-1"} (tracking/pyfunc.py: the contract)

Registers the weight first if the registry lacks it (tracking.register: the model carries its
signature, so the server answers a wrong shape with a 400), then runs MLflow's own scoring app
(`/invocations`, `/ping`, `/health`, `/version`) behind the zoo's guard (tracking/scoring.py: 413
over 8 MB, 400 for malformed or too deeply nested JSON, no input echoed in errors) under uvicorn,
one worker per core, in this process's stead; each worker answers through the zoo's pyfunc
loader (ONNX Runtime on the weight's export: no Keras `predict`, no progress bar a request).
`mlflow models serve -m models:/<arch>@<tag> --env-manager local` serves the same model with
MLflow's own server (one worker, no guard). It binds to 127.0.0.1 by default: the server has no
authentication.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import zoo
from tracking.register import register
from tracking.scoring import MODEL_ENV
from tracking.store import REPO_ROOT, tracking_uri
from zoo.ports import check_free
from zoo.quiet import import_keras_quietly, users_log_level


def command(host: str, port: int, workers: int) -> list[str]:
    """The uvicorn command line of the guarded scoring app, with this venv's uvicorn."""
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    return [uvicorn, "--factory", "tracking.scoring:app_from_environment", "--host", host,
            "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--log-level", "warning"]


def environment(model_uri: str) -> dict[str, str]:
    """The server's environment: the store this process uses, the model to serve, this venv's
    bin first on PATH, and this checkout importable (the app and the models' pyfunc loader live
    in tracking/, which imports zoo)."""
    env = dict(os.environ)
    env["MLFLOW_TRACKING_URI"] = tracking_uri()
    env[MODEL_ENV] = model_uri
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH")] if p)
    # each worker runs its model on one thread (tracking/pyfunc.py); TensorFlow, loaded with the
    # Keras file, must not spread over every core in each worker either
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    # each worker then imports Keras quietly (tracking/scoring.py), and a user who set
    # TF_CPP_MIN_LOG_LEVEL gets TensorFlow's log, as in `zoo`
    return users_log_level(env)


def serve(name: str, host: str = "127.0.0.1", port: int = 5001, workers: int | None = None,
          registering=contextlib.nullcontext) -> int:
    """Register shipped weight `name` if needed, then replace this process with the model
    server for it (returns only if that cannot start). WeightsError for an unknown name,
    TrackingError for a store that cannot be used, PortError for a port taken or out of range:
    all before anything is started. `registering()`: a context around the registering (the
    suite's `serve` verb keeps MLflow's registry lines in a log there)."""
    card = zoo.weight_info(name)
    check_free(host, port)  # a busy port is said now, not after the workers load the model
    # this process becomes the server (execve below), as a command does: the registering's
    # TensorFlow start-up lines and MLflow's download bars kept off the console, as the `zoo`
    # command keeps them (zoo/quiet.py); the server's own lines are its log
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import_keras_quietly()
    with registering():
        [model_uri] = register([str(card.name)])
    workers = workers or os.cpu_count() or 1
    cmd = command(host, port, workers)
    print(f"serving {card.name} ({model_uri}) on http://{host}:{port}/invocations with "
          f"{workers} worker(s)", flush=True)
    os.execve(cmd[0], cmd, environment(model_uri))
    return 1  # not reached: execve raises OSError if it fails
