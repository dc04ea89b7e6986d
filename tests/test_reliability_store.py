"""Issue 17, item 5: sqlite stores given in every form MLflow documents, and every bad one refused
in seconds with what to do, creating nothing."""

import time

import mlflow
import pytest

from tracking.store import TrackingError, check_store


@pytest.fixture()
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    mlflow.set_tracking_uri(None)


def test_relative_sqlite_uri_is_a_file_in_the_current_folder(in_tmp, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///relative.db")
    uri = check_store("zoo-reliability")
    assert uri == f"sqlite:///{in_tmp / 'relative.db'}"
    assert (in_tmp / "relative.db").is_file()
    assert (in_tmp / "mlartifacts" / "zoo-reliability").is_dir()
    # child processes inherit the absolute form: same file whatever their folder
    import os

    assert os.environ["MLFLOW_TRACKING_URI"] == uri


@pytest.mark.parametrize("where, message", [
    ("missing/x.db", r"the folder {tmp}/missing of the MLflow store {tmp}/missing/x\.db does not "
                     r"exist; create it \(mkdir -p {tmp}/missing\)"),
    ("afile/x.db", r"{tmp}/afile is a file, not a folder: the MLflow store {tmp}/afile/x\.db "
                   r"cannot be created under it"),
    ("afile/deeper/x.db", r"{tmp}/afile is a file, not a folder"),
    ("notdb.db", r"{tmp}/notdb\.db is not an SQLite database"),
    ("/proc/zoo-x.db", r"the MLflow store /proc/zoo-x\.db cannot be written in /proc \("),
])
def test_bad_sqlite_stores_are_refused_fast_and_leave_nothing(in_tmp, monkeypatch, where,
                                                              message):
    (in_tmp / "afile").write_text("a file")
    (in_tmp / "notdb.db").write_text("not a database")
    before = sorted(p.name for p in in_tmp.iterdir())
    path = where if where.startswith("/") else f"{in_tmp}/{where}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{path}")
    t0 = time.monotonic()
    with pytest.raises(TrackingError, match=message.format(tmp=in_tmp)):
        check_store("zoo-reliability")
    assert time.monotonic() - t0 < 10  # MLflow's own retries took 111 s under /proc
    assert sorted(p.name for p in in_tmp.iterdir()) == before
    assert (in_tmp / "notdb.db").read_text() == "not a database"
    assert not __import__("os").path.exists("/proc/zoo-x.db")
