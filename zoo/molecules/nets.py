"""The molecule nets: two that look at the drawing, one that reads the SMILES.

    chemception(task)   Chemception's shape, small: a 4x4 stride-2 stem, one Inception-ResNet
                        block of each kind (A, B, C) with the two reductions between them, global
                        average pooling (Goh et al. 2017 stack several of each; one keeps it
                        trainable in a minute on two CPU cores)
    mol_conv(task)      the zoo's own plain conv net on the same 80x80x4 drawings: three 3x3
                        convolutions with max pooling, global average pooling, dense 64
    smiles_cnn(task)    a 1-D character CNN: embedding, two convolutions over the string, global
                        max pooling (each filter answers "is my pattern anywhere in the string?")

`task` is "regression" (one value, in the data set's units: the output layer is rescaled by the
training targets' mean and spread, fixed, so a shipped weight answers in kcal/mol or logS) or
"classification" (softmax over `classes`).
"""

from __future__ import annotations

import keras
from keras import layers

from zoo.molecules.featurize import CHANNELS, IMAGE_SIZE, MAX_LENGTH, VOCABULARY


def _head(x, task: str, classes: int, mean: float, std: float):
    if task == "classification":
        return layers.Dense(classes, activation="softmax", name="probabilities")(x)
    x = layers.Dense(1, name="standardized")(x)
    # y = standardized * std + mean: fixed, so the net trains on a unit-scale target and answers
    # in the data set's units
    return layers.Rescaling(std, offset=mean, name="value")(x)


# The drawing's channels brought to about one (bond order / 3, atomic number / 20, charge as it
# is, hybridization / 6): raw atomic numbers up to 53 swamp the other channels and stall training
CHANNEL_SCALE = (1 / 3, 1 / 20, 1.0, 1 / 6)


def _drawing():
    """The image nets' input: the drawing, scaled per channel, flipped at random while training
    (a mirrored drawing is the same molecule; flips move whole pixels, nothing is interpolated)."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, len(CHANNELS)), name="drawing")
    x = layers.Rescaling(list(CHANNEL_SCALE), name="channel_scale")(inputs)
    return inputs, layers.RandomFlip("horizontal_and_vertical", name="flip")(x)


def _conv(x, filters, size, strides=1, activation="relu", name=None):
    return layers.Conv2D(filters, size, strides=strides, padding="same", activation=activation,
                         name=name)(x)


def _residual(x, branches, name):
    """Inception-ResNet: the branches side by side, a 1x1 back to x's width, added to x."""
    mixed = layers.Concatenate(name=f"{name}_mix")(branches) if len(branches) > 1 else branches[0]
    up = _conv(mixed, x.shape[-1], 1, activation=None, name=f"{name}_up")
    return layers.Activation("relu", name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, up]))


def chemception(task: str = "regression", classes: int = 1, mean: float = 0.0, std: float = 1.0,
                width: int = 16):
    n = width
    inputs, x = _drawing()
    x = _conv(x, n, 4, strides=2, name="stem")  # 40x40
    # block A: 1x1 | 1x1-3x3 | 1x1-3x3-3x3
    a = [_conv(x, n, 1), _conv(_conv(x, n, 1), n, 3),
         _conv(_conv(_conv(x, n, 1), int(1.5 * n), 3), 2 * n, 3)]
    x = _residual(x, a, "block_a")
    # reduction A: max pool | 3x3 stride 2 | 1x1-3x3-3x3 stride 2 -> 20x20
    x = layers.Concatenate(name="reduction_a")([
        layers.MaxPooling2D(3, 2, padding="same")(x), _conv(x, int(1.5 * n), 3, 2),
        _conv(_conv(_conv(x, n, 1), n, 3), int(1.5 * n), 3, 2)])
    # block B: 1x1 | 1x1-1x7-7x1
    b = [_conv(x, 2 * n, 1), _conv(_conv(_conv(x, n, 1), int(1.25 * n), (1, 7)), int(1.5 * n),
                                   (7, 1))]
    x = _residual(x, b, "block_b")
    # reduction B: max pool | 1x1-3x3 stride 2 | 1x1-3x3-3x3 stride 2 -> 10x10
    x = layers.Concatenate(name="reduction_b")([
        layers.MaxPooling2D(3, 2, padding="same")(x), _conv(_conv(x, n, 1), int(1.5 * n), 3, 2),
        _conv(_conv(_conv(x, n, 1), int(1.125 * n), 3), int(1.25 * n), 3, 2)])
    # block C: 1x1 | 1x1-1x3-3x1
    c = [_conv(x, 2 * n, 1), _conv(_conv(_conv(x, 2 * n, 1), int(2.25 * n), (1, 3)), int(2.5 * n),
                                   (3, 1))]
    x = _residual(x, c, "block_c")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, _head(x, task, classes, mean, std), name="chemception")


def mol_conv(task: str = "regression", classes: int = 1, mean: float = 0.0, std: float = 1.0):
    inputs, x = _drawing()
    for i, filters in enumerate((32, 64, 128)):
        x = _conv(x, filters, 3, name=f"conv{i + 1}")
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    return keras.Model(inputs, _head(x, task, classes, mean, std), name="mol_conv")


def smiles_cnn(task: str = "regression", classes: int = 1, mean: float = 0.0, std: float = 1.0):
    inputs = keras.Input((MAX_LENGTH,), dtype="int32", name="smiles")
    x = layers.Embedding(VOCABULARY, 32, name="characters")(inputs)
    x = layers.Conv1D(128, 5, padding="same", activation="relu", name="conv1")(x)
    x = layers.Conv1D(128, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalMaxPooling1D(name="pool")(x)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    return keras.Model(inputs, _head(x, task, classes, mean, std), name="smiles_cnn")
