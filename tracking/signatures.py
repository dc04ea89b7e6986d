"""The signature and input example of every MLflow model the zoo logs (a run's trained model,
a registered shipped weight), so that the MLflow UI shows what a model takes and answers, and
`mlflow models serve` checks each request against it (a wrong shape is a 400, not a crash).

The input is what the zoo's model takes, as a served request may send it: MNIST nets pixels
(-1, 28, 28) as float32 in the signature, so that the server hands the loader what was sent
(whole numbers 0-255, or floats with params {"pixel_range": "0-1" | "0-255"}; tracking/pyfunc.py
checks them and refuses anything else: a uint8 signature let MLflow cut floats in 0-1 to zeros),
the audio net float32 log-mel spectrograms (-1, 64, 61), the X/O nets float32 (-1, 9, 9) in
[-1, 1]; the output the class probabilities (-1, classes) in the order of the model's `classes`.
"""

from __future__ import annotations

import os
import types

import mlflow
import numpy as np
from mlflow.models import Model, ModelSignature
from mlflow.models.model import MLMODEL_FILE_NAME
from mlflow.types import ParamSchema, ParamSpec, Schema, TensorSpec

import zoo
import zoo.export

# a handful of real test inputs: enough to show the form, small in the UI and the model folder
EXAMPLE_SIZE = 2


SERVED_DTYPE = np.dtype("float32")  # every input kind, as requests send it (see above)


def signature(arch: str, model=None) -> ModelSignature:
    """The explicit tensor signature of zoo model `arch` (its input shape from `model`, a
    keras.Model built by the zoo, or from the registry)."""
    from tracking.pyfunc import PARAM

    info = zoo.model_info(arch)
    shape = tuple(model.input_shape[1:]) if model is not None else tuple(info["input_shape"])
    # unnamed: the model has one input, and MLflow then hands it the array itself (named, it
    # passes a dict that Keras warns about on every request)
    inputs = Schema([TensorSpec(SERVED_DTYPE, (-1,) + shape)])
    outputs = Schema([TensorSpec(np.dtype("float32"), (-1, len(info["classes"])))])
    params = (ParamSchema([ParamSpec(PARAM, "string", "uint8")])
              if info["input_kind"] == "mnist" else None)
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def input_example(arch: str, x) -> np.ndarray:
    """The first EXAMPLE_SIZE inputs of `x` (real test data), in the signature's dtype."""
    x = np.asarray(x)[:EXAMPLE_SIZE]
    if len(x) == 0:
        raise ValueError("an input example needs at least one input")
    return x.astype(SERVED_DTYPE, copy=False)


def _save_keras_model(path, mlflow_model, **kwargs):
    # MLflow's keras flavor writes the input example into the model folder before it creates
    # that folder (mlflow/mlflow#16183, open; its fix #16300 was closed unmerged), so
    # mlflow.keras.log_model(..., input_example=...) fails with FileNotFoundError: create it.
    os.makedirs(path, exist_ok=True)
    mlflow.keras.save_model(path=path, mlflow_model=mlflow_model, **kwargs)
    # pyfunc (and so `mlflow models serve`) loads through tracking.pyfunc, which imports
    # zoo.layers first so that models with the zoo's own layers load
    mlflow_model.flavors["python_function"]["loader_module"] = "tracking.pyfunc"
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))


_KERAS = types.SimpleNamespace(__name__=mlflow.keras.__name__, save_model=_save_keras_model)


def log_keras_model(model, name: str, arch: str, x, **kwargs):
    """mlflow.keras.log_model(model, name=name, **kwargs) with the signature of zoo model `arch`
    and an input example from `x` (real test inputs); returns MLflow's ModelInfo. The logged
    model is a keras-flavor model (mlflow.keras.load_model after `import zoo.layers`); as
    pyfunc, and so served, it loads through tracking.pyfunc."""
    return Model.log(artifact_path=None, name=name, flavor=_KERAS,
                     flavor_name=mlflow.keras.__name__, model=model,
                     signature=signature(arch, model), input_example=input_example(arch, x),
                     **kwargs)
