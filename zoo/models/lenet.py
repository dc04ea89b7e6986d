"""LeNet-5 (LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998), faithful and as tutorials know it.

lenet5, the paper's net, 32x32 input (MNIST padded by 2, scaled so that background is -0.1 and
ink 1.175, as in the paper):
  C1  conv 5x5, 6 maps            156      S2  subsampling, 6 maps       12
  C3  conv 5x5, 16 maps, Table I  1,516    S4  subsampling, 16 maps      32
  C5  conv 5x5, 120 maps          48,120   F6  dense 84                  10,164
  = 60,000 trainable parameters up to F6, as the paper counts, squashed by 1.7159 tanh(2x/3).
  Output: a dense softmax layer over F6 (850 more parameters: 60,850 in all), not the paper's
  Euclidean RBF units. Those compare F6 with fixed 7x12 bitmaps of stylised characters, which the
  paper draws but does not publish as data, and need its special loss; a softmax head trained by
  cross-entropy is the usual stand-in and what the error rates of the recipe are measured with.
  Trainable subsampling (S2, S4) is the paper's: the 2x2 average (its sum, up to a factor the
  coefficient absorbs) times one trainable coefficient per map plus one bias per map, i.e. an
  AveragePooling2D followed by a 1x1 depthwise convolution.

lenet5_rbf, the paper's net whole: lenet5 up to F6, then its output layer of Euclidean RBF units
(zoo.layers.RBFOutput) with fixed prototypes, 7x12 bitmaps of the digits at +1 (ink) and -1.
The paper draws its bitmaps (Fig. 3) but does not publish them as data: PROTOTYPES are drawn
here in the same style, one stylised digit a bitmap, not copied pixel for pixel. Its loss is the
paper's MAP criterion with the constant j, which the paper leaves unstated: j = 0.1 here (as in
some re-implementations; exp(-j) ~ 0.9 keeps the correct class's penalty pulled down at every
pattern, as the paper's first term alone would). 60,000 trainable parameters, the paper's count,
and 840 fixed ones. Trained by reproductions' lenet5_rbf recipe: the paper's SDLM, one pattern
per update.

lenet5_modern, what most tutorials call LeNet-5: ReLU, max pooling, a full C3, a softmax head;
61,706 trainable parameters.

MNIST test error (yann.lecun.com/exdb/mnist): LeNet-5 0.95%, 0.8% with distortions.
"""

import keras

import numpy as np

from zoo.layers import PartialConv2D, RBFOutput, ScaledTanh
from zoo.models.common import pixels_input


# The paper's Table I: which S2 maps (0-5) each of the 16 C3 maps reads.
C3_CONNECTIONS = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)
# Background -0.1 and ink 1.175 make the inputs roughly zero-mean, unit-variance (paper, II.B).
PAPER_SCALE, PAPER_OFFSET = 1.275 / 255, -0.1


def _subsampling(x, name):
    x = keras.layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    x = keras.layers.DepthwiseConv2D(1, depthwise_initializer="ones", name=name)(x)
    return ScaledTanh(name=f"{name}_tanh")(x)


# The RBF prototypes: one 7x12 bitmap a digit ("#" ink: +1, "." background: -1), F6's 84 units
# read row by row. Drawn after the style of the paper's Fig. 3, not copied from it.
BITMAPS = {
    0: (".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#",
        "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."),
    1: (".......", "...#...", "..##...", ".#.#...", "...#...", "...#...",
        "...#...", "...#...", "...#...", "...#...", ".#####.", "......."),
    2: (".......", "..###..", ".#...#.", "......#", "......#", ".....#.",
        "....#..", "...#...", "..#....", ".#.....", "#######", "......."),
    3: (".......", ".####..", "#....#.", "......#", ".....#.", "..###..",
        ".....#.", "......#", "......#", "#....#.", ".####..", "......."),
    4: (".......", "....#..", "...##..", "..#.#..", ".#..#..", "#...#..",
        "#######", "....#..", "....#..", "....#..", "....#..", "......."),
    5: (".......", "######.", "#......", "#......", "#####..", ".....#.",
        "......#", "......#", "......#", "#....#.", ".####..", "......."),
    6: (".......", "..###..", ".#.....", "#......", "#......", "#.###..",
        "##...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."),
    7: (".......", "#######", "......#", ".....#.", "....#..", "...#...",
        "...#...", "..#....", "..#....", "..#....", "..#....", "......."),
    8: (".......", "..###..", ".#...#.", ".#...#.", ".#...#.", "..###..",
        ".#...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."),
    9: (".......", "..###..", ".#...#.", "#.....#", "#.....#", ".#...##",
        "..###.#", "......#", ".....#.", "....#..", ".###...", "......."),
}
PROTOTYPES = np.array([[1.0 if c == "#" else -1.0 for row in BITMAPS[d] for c in row]
                       for d in range(10)], dtype="float32")  # (10, 84)
RUBBISH_PENALTY = 0.1  # the paper's j (eq. 9), which it does not state: a named choice


def _lenet5_features(scale, offset):
    """(inputs, F6's 84 squashed units): LeNet-5 up to its output layer."""
    inputs, x = pixels_input(scale, offset, pad=2)
    x = ScaledTanh(name="C1_tanh")(keras.layers.Conv2D(6, 5, name="C1")(x))
    x = _subsampling(x, "S2")
    x = ScaledTanh(name="C3_tanh")(PartialConv2D(C3_CONNECTIONS, 5, name="C3")(x))
    x = _subsampling(x, "S4")
    x = ScaledTanh(name="C5_tanh")(keras.layers.Conv2D(120, 5, name="C5")(x))
    x = keras.layers.Flatten(name="flatten")(x)
    return inputs, ScaledTanh(name="F6_tanh")(keras.layers.Dense(84, name="F6")(x))


def lenet5(scale=PAPER_SCALE, offset=PAPER_OFFSET):
    inputs, x = _lenet5_features(scale, offset)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="lenet5")


def lenet5_rbf(scale=PAPER_SCALE, offset=PAPER_OFFSET, map_training=False):
    """map_training: the output gives log-probabilities while training, for the paper's MAP
    loss (zoo.layers.RBFOutput); predictions are the same either way."""
    inputs, x = _lenet5_features(scale, offset)
    rbf = RBFOutput(10, RUBBISH_PENALTY, map_training, name="output")
    model = keras.Model(inputs, rbf(x), name="lenet5_rbf")
    rbf.prototypes.assign(PROTOTYPES)
    return model


def lenet5_modern(scale=1 / 255):
    inputs, x = pixels_input(scale, pad=2)
    x = keras.layers.Conv2D(6, 5, activation="relu", name="C1")(x)
    x = keras.layers.MaxPooling2D(2, name="S2")(x)
    x = keras.layers.Conv2D(16, 5, activation="relu", name="C3")(x)
    x = keras.layers.MaxPooling2D(2, name="S4")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(120, activation="relu", name="C5")(x)
    x = keras.layers.Dense(84, activation="relu", name="F6")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="lenet5_modern")
