"""Where MLflow runs go.

Default: an embedded store inside the repository (ignored by git), no server needed:
    sqlite:///<repo>/mlflow.db  for runs, params and metrics,
    <repo>/mlartifacts/         for artifacts (models, plots).
MLFLOW_TRACKING_URI points everything at another store or at a server (`make mlflow-server`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import textwrap
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

REPO_ROOT = Path(__file__).resolve().parent.parent


class TrackingError(RuntimeError):
    """The tracking store cannot be reached or written."""


def default_tracking_uri() -> str:
    return f"sqlite:///{REPO_ROOT / 'mlflow.db'}"


def _sqlite_file(uri: str) -> Path | None:
    """The database file of a sqlite:/// URI (None for other stores and in-memory sqlite)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else the embedded store; also makes it MLflow's current one.

    sqlite:///relative.db (three slashes, the form MLflow's documentation uses) means a file
    relative to the current folder, as SQLAlchemy reads it; it is made absolute here, and in the
    environment, so that artifact folders and child processes agree on the same file."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    db = _sqlite_file(uri)
    if db is not None and not db.is_absolute():
        uri = f"sqlite:///{Path.cwd() / db}" + (uri[uri.index("?"):] if "?" in uri else "")
        os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    return uri


def store_key(uri: str | None = None) -> str:
    """A short name of the store, the same wherever it is used from: what is kept outside the
    store for its runs (checkpoints) is filed under it, so store X's is never used by store Y."""
    uri = uri or tracking_uri()
    return hashlib.sha256(uri.rstrip("/").encode()).hexdigest()[:12]


def results_folder(uri: str | None = None) -> Path:
    """Where a user's results tables from this store go, ignored by git: beside a sqlite file
    (<repo>/mlflow-results for the embedded store), else runs/results/<store key>/. The tables
    committed in reproductions/results are the reference, rewritten only on purpose."""
    uri = uri or tracking_uri()
    db = _sqlite_file(uri)
    if db is not None:
        return db.resolve().parent / f"{db.stem}-results"
    return REPO_ROOT / "runs" / "results" / store_key(uri)


def sqlite_store_problem(db: Path) -> str | None:
    """Why the sqlite store `db` cannot be used, in words, or None; creates nothing.

    os.access alone is not enough: as root it says yes to /proc, where sqlite then fails and
    MLflow retries for minutes. So the folder is tried with a temporary file of our own."""
    fix = "set MLFLOW_TRACKING_URI to another store, or unset it to use the embedded store"
    for folder in [db.parent, *db.parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                return f"{folder} is a file, not a folder: the MLflow store {db} cannot be " \
                       f"created under it; {fix}"
            break
    if not db.parent.is_dir():
        return f"the folder {db.parent} of the MLflow store {db} does not exist; create it " \
               f"(mkdir -p {db.parent}) or {fix}"
    if db.is_dir():
        return f"the MLflow store {db} is a folder, not a database file; {fix}"
    try:
        if db.exists():
            with open(db, "r+b") as f:  # opened for writing, nothing written
                magic = f.read(16)
            if magic and magic != b"SQLite format 3\x00":
                return f"{db} is not an SQLite database (it holds something else); {fix}"
        else:
            tempfile.TemporaryFile(dir=db.parent, prefix=".mlflow-write-check-").close()
    except OSError as err:
        return f"the MLflow store {db} cannot be written in {db.parent} " \
               f"({err.strerror or err}); choose a folder you can write to, or {fix}"
    return None


def _artifact_location(uri: str, name: str) -> str | None:
    """A local sqlite store keeps artifacts in mlartifacts/ beside its database file (for the
    embedded store: <repo>/mlartifacts); a server or another store chooses its own."""
    db = _sqlite_file(uri)
    if db is not None:
        return (db.resolve().parent / "mlartifacts" / name).as_uri()
    return None


@contextlib.contextmanager
def _first_open_lock(uri: str):
    """Processes opening a fresh sqlite store at once each create its tables and run its
    migrations, and all but one fail ("table _alembic_tmp_metrics already exists"). So the
    opening is serialised with an exclusive flock on the store's folder: nothing is left behind,
    and the lock goes with the process if it dies. Servers initialise their store themselves."""
    db = _sqlite_file(uri)
    if db is None or not db.parent.is_dir():
        yield
        return
    fd = os.open(db.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _schema_messages_quiet():
    """MLflow's INFO lines as it makes a new database's tables ("Creating initial MLflow
    database tables...", "Updating database tables") are its business, not the user's."""
    schema = logging.getLogger("mlflow.store.db.utils")
    level = schema.level
    schema.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        schema.setLevel(level)


def check_store(experiment: str | None = None) -> str:
    """Fail fast, with a message that says what to do, if the store is down or not writable.

    Returns the tracking URI. With `experiment`, also creates it if needed and checks that its
    artifact folder (when local) is writable."""
    uri = tracking_uri()
    db = _sqlite_file(uri)
    problem = sqlite_store_problem(db) if db is not None else None
    if problem:
        raise TrackingError(problem)
    # One request with no retries: a server that is down answers in seconds, not minutes.
    saved = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES",
                                            "MLFLOW_HTTP_REQUEST_TIMEOUT")}
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "10"
    try:
        with _first_open_lock(uri), _schema_messages_quiet():
            MlflowClient(uri).search_experiments(max_results=1)
            if experiment:
                experiment_id(experiment)
    except TrackingError:
        raise
    except Exception as err:
        first_line = (str(err).splitlines() or [""])[0]
        if not os.environ.get("MLFLOW_TRACKING_URI"):
            advice = ("This is the embedded store: move the file aside (MLflow makes a new one), "
                      "or set MLFLOW_TRACKING_URI to another store")
        elif uri.startswith(("http://", "https://")):
            advice = ("Start the server (make mlflow-server), fix MLFLOW_TRACKING_URI, or unset "
                      "it to use the embedded store")
        else:
            advice = ("Fix MLFLOW_TRACKING_URI (a tracking server http://host:port, or a "
                      "database: sqlite:////absolute/path/mlflow.db, postgresql://...), or unset "
                      "it to use the embedded store")
        raise TrackingError(
            f"cannot use the MLflow tracking store {uri} ({type(err).__name__}: "
            f"{textwrap.shorten(first_line, 300, placeholder=' ...')}). {advice}; nothing was "
            "done.") from err
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
