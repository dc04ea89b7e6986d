"""Pretrained weights shipped inside the package: typed cards, verified before deserializing.

    zoo.load("conv3_bn.mnist")            # or zoo.create_model("conv3_bn", pretrained=True)
    zoo.list_weights()                    # every shipped weight, "arch.tag"
    card = zoo.weight_info("conv3_bn")    # its WeightCard: classes, input kind, metrics, recipe...
    WeightName.parse("conv3_bn.mnist")    # the one parser of weight names: arch, tag

- card.py: WeightName (the one parser of "arch.tag"), WeightCard (one manifest entry, checked),
  WeightsError, and WEIGHTS_DIR, the folder the files ship in;
- manifest.py: manifest.json read once into cards (`cards`), listing and looking up weights;
- loading.py: the size and SHA256 check, safe deserializing (`load_file`, `load`), and the
  accuracy a card records.

manifest.json (written by `python -m reproductions export-weights`) lists each file with its
SHA256, size, parameter count, the test accuracy of THIS file, its recipe's mean and spread over
seeds, and the command that made it. Nothing here imports Keras until a model is loaded. Loading
checks size and SHA256 first, then deserializes with safe_mode=True, so a tampered file or one
carrying code is refused.
"""

from zoo.weights.card import WEIGHTS_DIR, WeightCard, WeightName, WeightsError
from zoo.weights.loading import accuracy, load, load_file, read_verified, verify
from zoo.weights.manifest import (DEFAULT_TAG, MANIFEST, cards, default_weight, list_weights,
                                  shipped_name, weight_info)

__all__ = ["DEFAULT_TAG", "MANIFEST", "WEIGHTS_DIR", "WeightCard", "WeightName", "WeightsError",
           "accuracy", "cards", "default_weight", "list_weights", "load", "load_file",
           "read_verified", "shipped_name", "verify", "weight_info"]
