"""The python_function loader of the zoo's MLflow models (their MLmodel names this module): what
`mlflow.pyfunc.load_model` and the model server (tracking/serve.py) call, with the served input
contract checked on every request.

MLflow's keras flavor loads a .keras file with plain keras.saving.load_model, which cannot find
the zoo's own layers (ScaledTanh, PartialConv2D, FusedBatchNormalization) unless zoo.layers was
imported first; and its wrapper answers with Keras' `predict`, which builds a data pipeline and a
progress bar for every request (87 ms for one digit, issue 30). This loader imports zoo.layers,
loads the model with MLflow's keras loader, and answers with:

- ONNX Runtime on the weight's cached ONNX export (zoo.runtime) when the model was registered
  from a shipped weight (its MLmodel metadata names the weight and the SHA256 of the file it was
  logged from, tracking/register.py, and that is still the shipped file's): one thread a server
  worker, a few hundredths of a millisecond a digit;
- else Keras' `predict_on_batch` (one graph call, no pipeline, no progress bar).

The input contract (`check_input`), the same for every request: MNIST nets take pixels as whole
numbers 0-255 (uint8), or floats with a declared range, params {"pixel_range": "0-1"} or
{"pixel_range": "0-255"}; anything else (values out of range, fractions without a declared
range, NaN) is a 400 that says what was expected, never a silent cast (floats in 0-1 cut to
uint8 used to arrive as blank images, each answered "1"). The audio net takes finite
spectrogram values, the X/O nets values in [-1, 1].
"""

from __future__ import annotations

import os
import numpy as np

PIXEL_RANGES = ("uint8", "0-255", "0-1")  # params["pixel_range"]; "uint8": whole numbers 0-255
PARAM = "pixel_range"


class InputRefused(ValueError):
    """A request outside the served contract; the server answers it 400 with this message."""


def check_input(x, input_kind: str, params: dict | None) -> np.ndarray:
    """The array the net takes, from a request's array `x` and params, or InputRefused."""
    x = np.asarray(x)
    if x.dtype.kind not in "uif" or x.size == 0:
        raise InputRefused(f"expected numbers, got an array of {x.dtype} with {x.size} values")
    if not np.isfinite(x).all():
        raise InputRefused("the input holds NaN or infinite values")
    low, high = float(x.min()), float(x.max())
    if input_kind != "mnist":
        if input_kind == "xo" and (low < -1 or high > 1):
            raise InputRefused(f"X/O grids hold values in [-1, 1] (-1 paper, +1 ink); these "
                               f"range from {low:g} to {high:g}")
        return x.astype("float32", copy=False)
    pixel_range = (params or {}).get(PARAM, "uint8")
    if pixel_range not in PIXEL_RANGES:
        raise InputRefused(f"params.{PARAM} is one of {', '.join(PIXEL_RANGES)}; got "
                           f"{pixel_range!r}")
    top = 1.0 if pixel_range == "0-1" else 255.0
    if low < 0 or high > top:
        raise InputRefused(f"pixels must lie in 0-{top:g} ({PARAM} {pixel_range}); these range "
                           f"from {low:g} to {high:g}")
    if pixel_range == "uint8" and not np.array_equal(x, np.round(x)):
        hint = ("they look like floats in 0-1: send params {\"pixel_range\": \"0-1\"}"
                if high <= 1 else "send params {\"pixel_range\": \"0-255\"} for floats in 0-255")
        raise InputRefused(f"pixels must be whole numbers 0-255 (uint8) unless params."
                           f"{PARAM} declares floats; these hold fractions ({low:g} to {high:g}): "
                           f"{hint}")
    return np.round(x * (255.0 / top)).astype("uint8")


WEIGHT_KEY, SHA_KEY = "zoo_weight", "zoo_weight_sha256"  # MLmodel metadata of a registered weight


class ZooModel:
    """What MLflow's pyfunc layer calls: predict(data, params) -> class probabilities."""

    def __init__(self, keras_model, metadata: dict | None):
        import zoo.weights

        self.model = keras_model
        self.card = None
        metadata = metadata or {}
        if metadata.get(WEIGHT_KEY) in zoo.weights.cards():
            card = zoo.weights.cards()[metadata[WEIGHT_KEY]]
            self.card = card if card.sha256 == metadata.get(SHA_KEY) else None
        self.input_kind = self.card.input_kind if self.card is not None else (
            "mnist" if tuple(keras_model.input_shape[1:]) == (28, 28) else "other")
        self._predict = self._runtime()

    def _runtime(self):
        if self.card is not None:
            from zoo.runtime import onnx_predictor

            # one thread: the server runs one worker per core, each answering one request at a
            # time; more threads per session would only contend for the same cores
            return onnx_predictor(self.card, threads=1)
        return lambda x: np.asarray(self.model.predict_on_batch(x))

    def get_raw_model(self):
        return self.model

    def predict(self, data, params=None):
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        if isinstance(data, dict):  # a named single input
            data = next(iter(data.values()))
        if hasattr(data, "to_numpy"):  # a DataFrame (dataframe_split): one row a flat input
            data = data.to_numpy().reshape((-1,) + tuple(self.model.input_shape[1:]))
        try:
            x = check_input(data, self.input_kind, params)
        except InputRefused as err:
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from None
        return self._predict(x)


def _metadata(path: str) -> dict | None:
    """The MLmodel metadata of the model at `path` (MLflow hands the model folder, or its data
    folder inside it)."""
    from mlflow.models import Model
    from mlflow.models.model import MLMODEL_FILE_NAME

    for folder in (path, os.path.dirname(path)):
        if os.path.isfile(os.path.join(folder, MLMODEL_FILE_NAME)):
            return Model.load(os.path.join(folder, MLMODEL_FILE_NAME)).metadata
    return None


def _load_pyfunc(path):
    import zoo.layers  # noqa: F401  (registers the zoo's layers for deserialization)
    from mlflow.keras.load import _load_pyfunc as load_keras_pyfunc

    return ZooModel(load_keras_pyfunc(path).get_raw_model(), _metadata(path))
