"""Shared fixtures. The data comes from ZOO_DATA_DIR; next to a checkout that has ../shared (as in
CI), that folder is used when the variable is unset. Nothing here is ever skipped for want of data:
without local files, zoo.data falls back to tensorflow-datasets, which downloads."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "ZOO_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["ZOO_DATA_DIR"] = str(SHARED_DATA)

# `zoo predict`'s cached ONNX exports (zoo/runtime.py) go to a folder of this test session,
# never to the user's ~/.cache: each session builds them once, as a first-time user would
if "ZOO_CACHE_DIR" not in os.environ:
    os.environ["ZOO_CACHE_DIR"] = tempfile.mkdtemp(prefix="zoo-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ZOO_CACHE_DIR"], ignore_errors=True)

import zoo.data  # noqa: E402  (after ZOO_DATA_DIR is settled)


@pytest.fixture(scope="session")
def mnist():
    return zoo.data.load_mnist()


@pytest.fixture(scope="session")
def mnist_batch(mnist):
    """A fixed real batch: the first 256 test images and labels."""
    (_, _), (x_test, y_test) = mnist
    return x_test[:256], y_test[:256]


@pytest.fixture(scope="session")
def fsdd():
    return zoo.data.load("fsdd")


@pytest.fixture(scope="session")
def keras_answers(tmp_path_factory):
    """keras_answers(weight) -> (its whole test set x, y, Keras' probabilities on x): Keras
    itself on the shipped file, computed once a session for all its processes (tests/shared.py);
    the reference of the export parity tests and of test_results.py's independent reader."""
    from tests.shared import KerasAnswers, session_folder

    return KerasAnswers(session_folder(tmp_path_factory, "keras-answers"))


@pytest.fixture()
def mlflow_store(tmp_path, monkeypatch):
    """A fresh sqlite MLflow store for one test; returns its URI."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)  # MlflowClient() in the test itself must see it too
    yield uri
    mlflow.set_tracking_uri(None)


def first_idx_bytes(images: np.ndarray) -> bytes:
    """A small valid IDX image file, for corrupting in tests."""
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    return header + images.astype(np.uint8).tobytes()
