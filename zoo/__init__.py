"""The ConvNet Zoo: the networks of the lecture on convolutional networks, as Keras 3 models.

    import zoo
    zoo.list_models()                  # every registered name
    model = zoo.create_model("conv3_bn")
    zoo.model_info("conv3_bn")         # parameters, input, the figure it aims for and its source
    model = zoo.load("conv3_bn.mnist") # shipped weights, verified (zoo.list_weights())
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from zoo import models as _models  # noqa: F401  (registers the families)
from zoo.pretrained import WeightsError, list_weights, load, weight_info
from zoo.registry import UnknownModelError, create_model, list_models, model_info

__all__ = ["UnknownModelError", "WeightsError", "create_model", "list_models", "list_weights",
           "load", "model_info", "weight_info"]
