"""A spectrogram CNN for spoken digits: the lecture's "beyond images" made real.

A recording becomes an image (zoo.data.fsdd: 64 mel bands as rows, 61 time steps of 16 ms as
columns, log power), and the same blocks as Görner's BatchNorm net recognise it: strided SAME
convolutions, each followed by BatchNorm (no bias, no scale) and ReLU, a dense layer with dropout,
a softmax vote. One more strided convolution than on MNIST, since the image is bigger.
The BatchNorm moving averages decay at 0.99, not Görner's 0.999: with 75 steps an epoch on
2,400 recordings, 0.999 leaves the averages far from the data for the first ~1,000 steps, and a
short run then predicts at chance in inference mode.
"""

import keras

from zoo.data.specs import FSDD_SHAPE as SHAPE
from zoo.models.gorner import _batchnorm, _conv, _head, _w

# log-mel values are about -10 +- 5: this brings them near 0 +- 1 inside the model
LOG_MEL_SCALE, LOG_MEL_OFFSET = 1 / 5, 2.0


def audio_conv(filters=(16, 32, 64, 64), dense=128, dropout=0.25, bn_momentum=0.99):
    inputs = keras.Input(shape=SHAPE, name="log_mel")
    x = keras.layers.Reshape(SHAPE + (1,), name="add_channel")(inputs)
    x = keras.layers.Rescaling(LOG_MEL_SCALE, LOG_MEL_OFFSET, name="scale")(x)
    for i, (f, k, s) in enumerate(zip(filters, (5, 5, 4, 3), (1, 2, 2, 2)), start=1):
        x = _batchnorm(_conv(x, f, k, s, f"conv{i}", bias=False), f"bn{i}", bn_momentum)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense, use_bias=False, kernel_initializer=_w(), name="dense")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(_batchnorm(x, "bn_dense", bn_momentum))
    return keras.Model(inputs, _head(x), name="audio_conv")
