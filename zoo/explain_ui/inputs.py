"""What a request may ask the live explainer to explain, checked: a drawn or uploaded picture
(a data URL, converted the MNIST way) or an FSDD test recording by name; and the errors a
request can correct (answered 400, an unknown weight 404).

A drawn canvas is converted by zoo.images.to_mnist, as `zoo predict` converts a picture. A
recording is named, never given as a path: only the FSDD test recordings under ZOO_DATA_DIR,
checked against the zoo's checksums, are read.
"""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path

import numpy as np

from zoo.data.idx import DataError, sha256_of
from zoo.images import load_image, to_mnist


class InputError(ValueError):
    """A request the page can correct: answered 400 with this message."""


class UnknownWeight(InputError):
    """A weight that is not shipped: answered 404."""


def decode_picture(value) -> np.ndarray:
    """A data URL (the canvas's PNG, or an uploaded picture) -> 28x28 uint8, the MNIST way."""
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        raise InputError("a picture must be sent as a data URL (data:image/png;base64,...)")
    try:
        raw = base64.b64decode(value.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError) as err:
        raise InputError(f"the picture's base64 is damaged ({err})") from err
    return to_mnist(load_image(io.BytesIO(raw), "the picture"), "the picture")


def mnist_status() -> dict:
    """{"available": bool, "why": str}: whether MNIST test images can be shown here, before any
    is asked for (drawing and uploading need no data set)."""
    from zoo.data import DataError
    from zoo.data.mnist import source_of

    try:
        source = source_of("mnist")
    except DataError as err:
        return {"available": False, "why": str(err)}
    if source == "tensorflow-datasets":
        return {"available": True, "why": "no local copy: the first MNIST image asked for "
                "downloads MNIST through tensorflow-datasets"}
    return {"available": True, "why": f"MNIST from {source}"}


def fsdd_recordings() -> list[str]:
    """The FSDD test recordings (official split: index 0-4) under ZOO_DATA_DIR/fsdd, by digit,
    speaker and index; [] when there is no local copy (the page says so beside its picker)."""
    from zoo.data import DataError
    from zoo.data.fsdd import _folder, _known, _order

    try:
        folder = _folder(None)
    except DataError:  # ZOO_DATA_DIR without FSDD: the page works on, without recordings
        return []
    if folder is None:
        return []
    return sorted((n for n in _known() if _order(n)[2] < 5 and (folder / n).is_file()),
                  key=_order)


def fsdd_file(name) -> Path:
    """The path of one FSDD test recording, checked against the zoo's checksums."""
    from zoo.data.fsdd import _folder, _known

    if name not in fsdd_recordings():  # also keeps paths like ../../etc/passwd out
        raise InputError(f"no FSDD test recording named {name!r} under $ZOO_DATA_DIR/fsdd")
    path = _folder(None) / name
    if sha256_of(path) != _known()[name]:
        raise DataError(f"{path}: SHA256 mismatch; the recording is altered, fetch it again")
    return path
