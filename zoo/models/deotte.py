"""Chris Deotte's MNIST net (Kaggle, "25 Million Images! [0.99757] MNIST", cdeotte/MNIST-CNN-99.75):
the zoo's candidate for the lecture's "record du monde" 99.7% (issue 14).

  conv7_bn   conv 3x3x32, 3x3x32, 5x5x32 s2, dropout 0.4, 3x3x64, 3x3x64, 5x5x64 s2, dropout 0.4,
             4x4x128, dropout 0.4, dense 10 softmax; each convolution ReLU then BatchNorm
             326,410 trainable params (Deotte's notebook: ~0.33M); 99.64 ± 0.05 single model,
             99.745 ± 0.020 for 15 averaged, with rotation, zoom and shift augmentation and Adam
             at 1e-3 x 0.95^epoch for 45 epochs on a GPU.

As in the notebook: the 3x3 and 4x4 convolutions are VALID (28 -> 26 -> 24), the strided 5x5 ones
SAME (24 -> 12, 8 -> 4), BatchNorm after the ReLU, Keras' default initialisers and BatchNorm
settings. Named as the zoo names its nets: seven convolutions with BatchNorm, as conv3_bn has
three. The only addition is the zoo's input: raw uint8 pixels, divided by 255 inside the model.
"""

import keras

from zoo.layers import FusedBatchNormalization
from zoo.models.common import pixels_input


def conv7_bn(scale=1 / 255, dropout=0.4, bn_momentum=0.99, fused_bn=False):
    """Deotte's net. `bn_momentum` is Keras' default (0.99), as in the notebook. `fused_bn`
    trains with TensorFlow's fused BatchNorm kernel (zoo.layers): the same math, other sums."""
    batchnorm = FusedBatchNormalization if fused_bn else keras.layers.BatchNormalization
    inputs, x = pixels_input(scale)
    layers = ((32, 3, 1, "valid"), (32, 3, 1, "valid"), (32, 5, 2, "same"), None,
              (64, 3, 1, "valid"), (64, 3, 1, "valid"), (64, 5, 2, "same"), None,
              (128, 4, 1, "valid"))
    conv = 0
    for spec in layers:
        if spec is None:
            x = keras.layers.Dropout(dropout, name=f"dropout{conv}")(x)
            continue
        conv += 1
        filters, kernel, stride, padding = spec
        x = keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding,
                                activation="relu", name=f"conv{conv}")(x)
        x = batchnorm(momentum=bn_momentum, name=f"bn{conv}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="conv7_bn")
