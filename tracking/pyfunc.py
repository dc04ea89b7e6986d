"""The python_function loader of the zoo's MLflow models (their MLmodel names this module).

MLflow's keras flavor loads a .keras file with plain keras.saving.load_model, which cannot find
the zoo's own layers (ScaledTanh, PartialConv2D, FusedBatchNormalization) unless zoo.layers was
imported first: served, `lenet5` and `conv3_bn_small` would fail to load. This loader imports
zoo.layers (registering them), then hands over to MLflow's keras loader unchanged.
"""


def _load_pyfunc(path):
    import zoo.layers  # noqa: F401  (registers the zoo's layers for deserialization)
    from mlflow.keras.load import _load_pyfunc as load_keras_pyfunc

    return load_keras_pyfunc(path)
