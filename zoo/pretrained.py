"""Pretrained weights shipped inside the package, verified before they are deserialized.

    zoo.load("conv3_bn.mnist")                      # or zoo.create_model("conv3_bn", pretrained=True)
    zoo.list_weights()                              # every shipped weight, "arch.tag"

zoo/weights/manifest.json lists each file with its SHA256, size, parameter count, the test
accuracy of THIS file, its recipe's mean and spread over seeds, and the command that made it
(`make zoo-weights`, from the reproduction runs). Loading checks size and SHA256 first, then
deserializes with safe_mode=True, so a tampered file or one carrying code is refused.
"""

from __future__ import annotations

import fnmatch
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from zoo.data.idx import sha256_of

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"
DEFAULT_TAG = "mnist"


class WeightsError(ValueError):
    """A weight file is unknown, missing, altered, or unsafe to load."""


@lru_cache(maxsize=None)
def _manifest(path: Path = MANIFEST) -> dict[str, dict]:
    if not path.exists():
        return {}
    return {entry["name"]: entry for entry in json.loads(path.read_text())}


def list_weights(pattern: str | None = None) -> list[str]:
    """Every shipped weight name ("arch.tag"), sorted; `pattern` filters like "conv3*"."""
    return sorted(n for n in _manifest() if pattern is None or fnmatch.fnmatchcase(n, pattern))


def default_weight(model: str) -> str:
    """The default weight name of a model: its ".mnist" one, else its only shipped one."""
    own = [n for n in _manifest() if n.split(".")[0] == model]
    return f"{model}.{DEFAULT_TAG}" if f"{model}.{DEFAULT_TAG}" in own or len(own) != 1 else own[0]


def weight_info(name: str) -> dict:
    """The manifest entry (the model card) of weight `name`; "conv3_bn" means "conv3_bn.mnist"
    (a model trained on other data: its one shipped weight, e.g. "audio_conv.fsdd")."""
    full = name if "." in name else default_weight(name)
    try:
        return dict(_manifest()[full])
    except KeyError:
        import difflib

        close = difflib.get_close_matches(full, _manifest(), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise WeightsError(f"no shipped weights named {full!r}.{hint} Shipped: "
                           f"{', '.join(list_weights()) or 'none'}.") from None


def verify(path: Path, sha256: str) -> None:
    """Raise WeightsError unless the file at `path` has this SHA256; reads nothing else."""
    if not path.is_file():
        raise WeightsError(f"{path}: weight file missing; reinstall the package or run "
                           "`make zoo-weights`")
    actual = sha256_of(path)
    if actual != sha256:
        raise WeightsError(f"{path}: SHA256 mismatch, expected {sha256}, got {actual}; the file "
                           "was altered or damaged, and was not loaded")


def load_file(path: str | Path, sha256: str | None = None):
    """A keras.Model from a .keras file: hash checked first (if given), then a safe load."""
    import keras

    import zoo  # noqa: F401  (registers the zoo's layers for deserialization)

    path = Path(path)
    if sha256 is not None:
        verify(path, sha256)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except ValueError as err:
        if "lambda" in str(err).lower() or "safe_mode" in str(err):
            raise WeightsError(f"{path}: refused, the file holds a Lambda layer (code that would "
                               "run on load); the zoo loads only safe files") from err
        raise WeightsError(f"{path}: not a loadable Keras model ({err})") from err


def load(name: str):
    """The shipped model `name` ("conv3_bn.mnist"), verified against its manifest entry."""
    entry = weight_info(name)
    return load_file(WEIGHTS_DIR / entry["file"], entry["sha256"])


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Test accuracy as the manifest records it: argmax of predict, in order, batches of 1000."""
    pred = model.predict(x, batch_size=batch_size, verbose=0).argmax(axis=1)
    return float(np.mean(pred == np.asarray(y)))
