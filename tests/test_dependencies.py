"""Every pinned dependency imports, at the version requirements.txt pins."""

import importlib
import importlib.metadata
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
MODULES = {"tensorflow": "tensorflow", "keras": "keras", "keras-tuner": "keras_tuner",
           "mlflow": "mlflow", "tensorflow-datasets": "tensorflow_datasets",
           "matplotlib": "matplotlib", "pillow": "PIL", "adjustText": "adjustText",
           "pytest": "pytest", "pytest-xdist": "xdist", "execnet": "execnet",
           "protobuf": "google.protobuf", "numpy": "numpy",
           "importlib_resources": "importlib_resources", "tensorboard": "tensorboard",
           "psycopg": "psycopg", "psycopg-binary": "psycopg_binary", "pydub": "pydub",
           "import-linter": "importlinter", "grimp": "grimp",
           "Flask": "flask", "selenium": "selenium",
           "tf2onnx": "tf2onnx", "onnx": "onnx", "onnxruntime": "onnxruntime",
           "ai-edge-litert": "ai_edge_litert", "scipy": "scipy", "psutil": "psutil",
           "gunicorn": "gunicorn", "uvicorn": "uvicorn", "aiohttp": "aiohttp",
           "datamol": "datamol", "rdkit": "rdkit", "scikit-learn": "sklearn"}
BACKENDS = REQUIREMENTS.with_name("requirements-backends.txt")


def pins():
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            yield name, version


def test_every_requirement_is_pinned_exactly():
    lines = [ln.split("#", 1)[0].strip() for ln in REQUIREMENTS.read_text().splitlines()]
    assert all("==" in ln for ln in lines if ln)
    assert {name for name, _ in pins()} == set(MODULES)


@pytest.mark.parametrize("name,version", list(pins()))
def test_pinned_package_imports_at_its_version(name, version):
    importlib.import_module(MODULES[name])
    assert importlib.metadata.version(name) == version


def test_the_backends_venv_is_pinned_exactly_and_has_no_tensorflow():
    """requirements-backends.txt: what a JAX or PyTorch user has; the versions it shares with
    requirements.txt are the same."""
    lines = [ln.split("#", 1)[0].strip() for ln in BACKENDS.read_text().splitlines()]
    backends = dict(ln.split("==") for ln in lines if ln)
    assert all("==" in ln for ln in lines if ln)
    assert {"keras", "jax", "jaxlib", "torch", "numpy"} <= set(backends)
    assert not any(name.startswith("tensorflow") for name in backends)
    main = dict(pins())
    assert {n: v for n, v in backends.items() if n in main} == \
        {n: v for n, v in main.items() if n in backends}


def test_the_backends_torch_is_the_cpu_build_of_requirements_torch():
    """`make venv-backends` installs torch alone from requirements-torch.txt, whose index is
    PyTorch's CPU one, before requirements-backends.txt: both must pin the same torch, or the
    second install would replace the CPU build by PyPI's (CUDA) wheel."""
    torch_file = BACKENDS.with_name("requirements-torch.txt")
    lines = [ln.split("#", 1)[0].strip() for ln in torch_file.read_text().splitlines()]
    options = [ln for ln in lines if ln.startswith("-")]
    pinned = dict(ln.split("==") for ln in lines if ln and not ln.startswith("-"))
    assert options == ["--extra-index-url https://download.pytorch.org/whl/cpu"]
    backends = [ln.split("#", 1)[0].strip() for ln in BACKENDS.read_text().splitlines()]
    assert f"torch=={pinned['torch']}" in backends
    makefile = BACKENDS.with_name("Makefile").read_text()
    assert makefile.index("--no-deps -r requirements-torch.txt") < \
        makefile.index("install --quiet -r requirements-backends.txt")
