"""Serve a shipped weight over HTTP with MLflow's own model server: `make serve MODEL=... PORT=...`
(`python -m reproductions serve conv3_bn.mnist --port 5001`).

    curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\
         -d '{"inputs": [[[0, 0, ...28 rows of 28 pixels...]]]}'

Registers the weight first if the registry lacks it (tracking.register: the model carries its
signature, so the server answers a wrong shape or dtype with a 400), then runs
`mlflow models serve -m models:/<arch>@<tag> --env-manager local` in this process's stead: no
conda or virtualenv is made, the server runs in this venv. It binds to 127.0.0.1 by default;
MLflow's scoring server has no authentication.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import zoo
from tracking.register import register
from tracking.store import REPO_ROOT, tracking_uri


def command(model_uri: str, host: str, port: int) -> list[str]:
    """The `mlflow models serve` command line, with this venv's mlflow."""
    mlflow_cli = str(Path(sys.executable).parent / "mlflow")
    return [mlflow_cli, "models", "serve", "-m", model_uri, "--env-manager", "local",
            "--host", host, "--port", str(port)]


def environment() -> dict[str, str]:
    """The server's environment: the store this process uses, this venv's bin first on PATH
    (MLflow starts `uvicorn` by name), and this checkout importable (the models' pyfunc loader
    is tracking.pyfunc, which imports zoo.layers)."""
    env = dict(os.environ)
    env["MLFLOW_TRACKING_URI"] = tracking_uri()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH")] if p)
    return env


def serve(name: str, host: str = "127.0.0.1", port: int = 5001) -> int:
    """Register shipped weight `name` if needed, then replace this process with MLflow's model
    server for it (returns only if that cannot start). WeightsError for an unknown name,
    TrackingError for a store that cannot be used, both before anything is started."""
    card = zoo.weight_info(name)
    [model_uri] = register([str(card.name)])
    cmd = command(model_uri, host, port)
    print(f"serving {card.name} ({model_uri}) on http://{host}:{port}/invocations", flush=True)
    os.execve(cmd[0], cmd, environment())
    return 1  # not reached: execve raises OSError if it fails
