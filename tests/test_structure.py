"""The house's structure: imports run one way (reproductions -> tracking -> zoo), the zoo imports
and lists itself without Keras, TensorFlow or MLflow, and weight names have one parser."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts: the layers, no MLflow in the zoo, and
    models built, loaded and run without TensorFlow."""
    done = subprocess.run([str(LINT_IMPORTS), str(REPO / "pyproject.toml")], cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


# Run in a fresh interpreter in which mlflow and tensorflow cannot be imported at all (as on a
# machine without them): the zoo must still import, list itself and describe its models.
HIDDEN = textwrap.dedent("""
    import importlib.abc, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("mlflow", "tensorflow", "keras_tuner"):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")

    sys.meta_path.insert(0, Hide())
    import zoo, zoo.data
    from zoo.cli import main
    assert main(["list"]) == 0
    assert main(["info", "conv3_bn"]) == 0
    assert main(["info", "audio_conv.fsdd"]) == 0
    assert zoo.weight_info("conv3_bn").classes == tuple("0123456789")
    assert zoo.data.get_dataset("fsdd/loso-theo").family == "fsdd"
    heavy = sorted(m for m in ("keras", "tensorflow", "mlflow", "matplotlib", "PIL")
                   if m in sys.modules)
    print("HEAVY", heavy)
""")


def test_zoo_imports_and_lists_without_mlflow_tensorflow_or_keras():
    done = subprocess.run([sys.executable, "-c", HIDDEN], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY []" in done.stdout  # not even keras: plain data until a model is built
    assert "conv3_bn.mnist" in done.stdout and "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in done.stdout


def test_the_zoo_command_answers_quickly_without_keras():
    code = ("import sys, time; t = time.perf_counter(); from zoo.cli import main; "
            "main(['list']); print('TOOK', time.perf_counter() - t, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    took, keras_loaded = done.stdout.split("TOOK ")[1].split()
    assert keras_loaded == "False" and float(took) < 1.0


def test_help_of_both_commands_loads_nothing_heavy():
    for module in ("zoo.cli", "reproductions"):
        code = (f"import runpy, sys\nsys.argv = ['x', '--help']\ntry:\n    "
                f"runpy.run_module('{module}', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                "print('LOADED', [m for m in ('keras', 'tensorflow', 'mlflow') "
                "if m in sys.modules])")
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=60)
        assert "LOADED []" in done.stdout, (module, done.stdout[-500:], done.stderr[-2000:])


PY_FILES = [p for d in ("zoo", "tracking", "reproductions") for p in (REPO / d).rglob("*.py")]


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_weight_name_is_split_outside_its_parser(path):
    text = path.read_text()
    assert not re.search(r"""\.split\(\s*["']\.["']""", text), \
        f"{path.relative_to(REPO)} splits a name on '.': use zoo.weights.WeightName.parse"
    assert not re.search(r"""["']\.["']\s+in\s+\w*name""", text), \
        f"{path.relative_to(REPO)} tests a name for '.': use WeightName.is_weight_name"


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_data_set_is_dispatched_on_its_name(path):
    text = path.read_text()
    for pattern in (r"""startswith\(["']fsdd""", r"""["']_loso_["']\s+in""",
                    r"""partition\(["']/loso-"""):
        assert not re.search(pattern, text), \
            f"{path.relative_to(REPO)}: ask zoo.data.get_dataset(name) for the facts instead"


def test_suite_modules_have_no_entry_points_of_their_own():
    """One command for the suite: no module reads sys.argv or runs as a script of its own."""
    for path in PY_FILES:
        text = path.read_text()
        assert "sys.argv" not in text, path
        if path.name != "__main__.py" and path != REPO / "zoo" / "cli.py":
            assert '__name__ == "__main__"' not in text, path


def test_nothing_imports_train_for_bookkeeping():
    for path in PY_FILES:
        for line in path.read_text().splitlines():
            if "reproductions.train import" in line:
                assert re.search(r"import (train_run|CHECKPOINT_ROOT)", line), (path, line)
    assert len((REPO / "reproductions" / "train.py").read_text().splitlines()) < 200
