"""The ConvNet Zoo: the networks of the lecture on convolutional networks, as Keras 3 models.

    import zoo
    zoo.list_models()                  # every registered name
    model = zoo.create_model("conv3_bn")
    zoo.model_info("conv3_bn")         # parameters, input, the figure it aims for and its source
    model = zoo.load("conv3_bn.mnist") # shipped weights, verified (zoo.list_weights())
    zoo.weight_info("conv3_bn.mnist")  # its card (zoo.weights.WeightCard)

Importing the zoo, listing it and reading its facts and cards import neither Keras nor
TensorFlow: Keras comes when a model is built or loaded, TensorFlow only with zoo.data's
pipelines and spectrograms. The zoo imports nothing of the training suite (reproductions/) or
of MLflow (tracking/); tests/test_structure.py holds that contract.
"""

import os

# the user's own choice, if any (the `zoo` command quiets TensorFlow further unless there is one)
USER_TF_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter, if it comes

from zoo.registry import UnknownModelError, create_model, list_models, model_info
from zoo.weights import WeightCard, WeightName, WeightsError, list_weights, load, weight_info

__all__ = ["UnknownModelError", "WeightCard", "WeightName", "WeightsError", "create_model",
           "list_models", "list_weights", "load", "model_info", "weight_info"]
