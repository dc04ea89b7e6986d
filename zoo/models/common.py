"""What every MNIST model of the zoo starts with: raw pixels in, the recipe's scaling inside.

Scaling lives in the model (a Rescaling layer), so a trained model takes pixels as users have
them: uint8 0-255 arrays of shape (n, 28, 28) or (n, 28, 28, 1). The recipe still chooses the
scaling (Görner divides by 256, most others by 255) by passing `scale` to the builder.
"""

import keras

MNIST_SHAPE = (28, 28)


def pixels_input(scale=1 / 255, offset=0.0, pad=0, name="pixels"):
    """(inputs, x): a 28x28 input, zero-padded by `pad`, scaled to x = pixel * scale + offset."""
    inputs = keras.Input(shape=MNIST_SHAPE, name=name)
    x = keras.layers.Reshape(MNIST_SHAPE + (1,), name="add_channel")(inputs)
    if pad:
        # pad raw pixels before scaling, so the border is background, as in the paper
        x = keras.layers.ZeroPadding2D(pad, name="pad")(x)
    x = keras.layers.Rescaling(scale, offset, name="scale")(x)
    return inputs, x
