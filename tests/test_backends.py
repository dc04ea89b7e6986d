"""Every shipped weight on Keras' JAX and PyTorch backends, in a venv without TensorFlow
(.venv-backends, `make venv-backends`): loaded with zoo's loader, it gets exactly as many test
answers right as its card says. Run by `make test-backends` (and CI); marked `backends`, so
the default `make test` leaves it out."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import zoo

pytestmark = pytest.mark.backends
REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv-backends" / "bin" / "python"
TEST_SIZES = {"mnist": 10_000, "xo": 2_000, "fsdd": 300}


@pytest.fixture(scope="module")
def fsdd_test(tmp_path_factory, fsdd):
    """FSDD's test spectrograms, computed here with zoo's TensorFlow signal ops."""
    (_, _), (x, y) = fsdd
    path = tmp_path_factory.mktemp("fsdd") / "test.npz"
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_every_shipped_weight_reaches_its_card(backend, fsdd_test):
    if not PYTHON.exists():
        pytest.fail(f"{PYTHON} is missing: run `make venv-backends` (make test-backends does)")
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(REPO))
    out = subprocess.run([str(PYTHON), str(REPO / "tests" / "backend_check.py"), "--fsdd",
                          str(fsdd_test)], capture_output=True, text=True, env=env,
                         timeout=900, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend and not result["tensorflow_imported"]
    assert sorted(result["weights"]) == zoo.list_weights()
    for name, got in result["weights"].items():
        card = zoo.weight_info(name)
        assert got["n"] == TEST_SIZES[card.dataset], name
        assert got["correct"] == round(card.test_accuracy * got["n"]), (name, got, card)
    assert result["fused_bn_max_diff"] < 1e-5
    assert np.isfinite(result["train_loss"])
