"""Loading a weight file safely, and measuring a loaded model as its card does.

Loading checks size and SHA256 first, then deserializes with safe_mode=True, so a tampered file
or one carrying code is refused. The bytes are read once: what is deserialized is exactly what
was hashed. Keras is imported only here, when a model is loaded.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np

from zoo.data.idx import sha256_of
from zoo.weights.card import WeightsError
from zoo.weights.manifest import weight_info


def verify(path: Path, sha256: str) -> None:
    """Raise WeightsError unless the file at `path` has this SHA256; reads nothing else."""
    if not path.is_file():
        raise WeightsError(f"{path}: weight file missing; reinstall the package or run "
                           "`python -m reproductions export-weights`")
    actual = sha256_of(path)
    if actual != sha256:
        raise WeightsError(f"{path}: SHA256 mismatch, expected {sha256}, got {actual}; the file "
                           "was altered or damaged, and was not loaded")


def read_verified(path: Path, sha256: str, size: int | None = None) -> bytes:
    """The bytes of `path`, read once, whose size (checked first, from the file system) and
    SHA256 are the expected ones: what is deserialized is then exactly what was hashed."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weight file missing; reinstall the package or run "
                           "`python -m reproductions export-weights`")
    if size is not None and path.stat().st_size != size:
        raise WeightsError(f"{path}: {path.stat().st_size} bytes where the manifest says {size};"
                           " the file was altered or damaged, and was not loaded")
    with open(path, "rb") as f:
        raw = f.read() if size is None else f.read(size + 1)  # never more than announced
    if size is not None and len(raw) != size:
        raise WeightsError(f"{path}: changed while it was read; not loaded")
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise WeightsError(f"{path}: SHA256 mismatch, expected {sha256}, got {actual}; the file "
                           "was altered or damaged, and was not loaded")
    return raw


def _deserialize(path: Path, source):
    """keras.saving.load_model(source) in safe mode, its refusals as WeightsError."""
    # Keras is imported here, when a model is loaded, not when the zoo is imported or listed.
    import keras

    import zoo.layers  # noqa: F401  (registers the zoo's layers for deserialization)

    try:
        return keras.saving.load_model(source, safe_mode=True, compile=False)
    except ValueError as err:
        if "lambda" in str(err).lower() or "safe_mode" in str(err):
            raise WeightsError(f"{path}: refused, the file holds a Lambda layer (code that would "
                               "run on load); the zoo loads only safe files") from err
        raise WeightsError(f"{path}: not a loadable Keras model ({err})") from err


def load_file(path: str | Path, sha256: str | None = None, size: int | None = None):
    """A keras.Model from a .keras file, loaded safely. With `sha256` (and `size`), the file is
    read once, checked, and those same bytes are loaded, from a private temporary copy (Keras
    reads .keras archives from a path): replacing the file after the check changes nothing."""
    path = Path(path)
    if sha256 is None:
        return _deserialize(path, path)
    raw = read_verified(path, sha256, size)
    with tempfile.TemporaryDirectory(prefix="zoo-weights-") as private:  # mode 0700, ours
        copy = Path(private) / "verified.keras"
        copy.write_bytes(raw)
        return _deserialize(path, copy)


def load(name: str):
    """The shipped model `name` ("conv3_bn.mnist"), verified against its card."""
    card = weight_info(name)
    return load_file(card.path, card.sha256, card.size)


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Test accuracy as the manifest records it: argmax of predict, in order, batches of 1000."""
    pred = model.predict(x, batch_size=batch_size, verbose=0).argmax(axis=1)
    return float(np.mean(pred == np.asarray(y)))
