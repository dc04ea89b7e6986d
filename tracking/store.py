"""Where MLflow runs go.

Default: an embedded store inside the repository (ignored by git), no server needed:
    sqlite:///<repo>/mlflow.db  for runs, params and metrics,
    <repo>/mlartifacts/         for artifacts (models, plots).
MLFLOW_TRACKING_URI points everything at another store or at a server (`make mlflow-server`).
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

REPO_ROOT = Path(__file__).resolve().parent.parent


class TrackingError(RuntimeError):
    """The tracking store cannot be reached or written."""


def default_tracking_uri() -> str:
    return f"sqlite:///{REPO_ROOT / 'mlflow.db'}"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else the embedded store; also makes it MLflow's current one."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    mlflow.set_tracking_uri(uri)
    return uri


def _artifact_location(uri: str, name: str) -> str | None:
    """A local sqlite store keeps artifacts in mlartifacts/ beside its database file (for the
    embedded store: <repo>/mlartifacts); a server or another store chooses its own."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts" / name).as_uri()
    return None


def check_store(experiment: str | None = None) -> str:
    """Fail fast, with a message that says what to do, if the store is down or not writable.

    Returns the tracking URI. With `experiment`, also creates it if needed and checks that its
    artifact folder (when local) is writable."""
    uri = tracking_uri()
    if uri.startswith("sqlite:"):
        db = Path(uri.split(":///", 1)[-1])
        if not os.access(db.parent if not db.exists() else db, os.W_OK):
            raise TrackingError(f"the MLflow store {db} is not writable; fix its permissions or "
                                "set MLFLOW_TRACKING_URI to another store")
    # One request with no retries: a server that is down answers in seconds, not minutes.
    saved = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES",
                                            "MLFLOW_HTTP_REQUEST_TIMEOUT")}
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "10"
    try:
        MlflowClient(uri).search_experiments(max_results=1)
        if experiment:
            experiment_id(experiment)
    except TrackingError:
        raise
    except Exception as err:
        raise TrackingError(
            f"cannot use the MLflow tracking store {uri} ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:300]}). Start the server (make mlflow-server), fix "
            "MLFLOW_TRACKING_URI, or unset it to use the embedded store; nothing was trained."
        ) from err
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return uri


def experiment_id(name: str) -> str:
    """The id of experiment `name`, created (with a local artifact folder) when missing."""
    uri = tracking_uri()
    client = MlflowClient(uri)
    found = client.get_experiment_by_name(name)
    if found is not None:
        exp_id, location = found.experiment_id, found.artifact_location
    else:
        location = _artifact_location(uri, name)
        try:
            exp_id = client.create_experiment(name, artifact_location=location)
        except Exception:
            # Another process (a tuning worker started beside its chief) may have created it
            # between our lookup and our create: use theirs. Anything else is a real error.
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
            exp_id, location = found.experiment_id, found.artifact_location
    if location and location.startswith("file:"):
        folder = Path(location.removeprefix("file://"))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".write-check"
            probe.write_text("ok")
            probe.unlink()
        except OSError as err:
            raise TrackingError(f"the artifact folder {folder} of experiment {name!r} is not "
                                f"writable ({err}); fix its permissions") from err
    return exp_id
