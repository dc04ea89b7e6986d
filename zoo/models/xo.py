"""The lecture's X-vs-O classifier (after B. Rohrer, "How do Convolutional Neural Networks work?").

9x9 images, +1 for the stroke and -1 for the background. Three 3x3 features; the lecture's
"convolution" is the MEAN of the 9 pixel products, so the kernels hold feature / 9 and no bias.
ReLU, then 2x2 max pooling with stride 2 that keeps the partial edge windows (7x7 -> 4x4, which is
max pooling with SAME padding), then a fully connected vote for X and O.

xo_lecture: the three hand-set features, frozen. The slides' vote weights (X 0.92 vs O 0.51) were
  never published, so the vote here is the project's own, derived rather than trained: each class
  votes with its own pooled maps, normalised, v_c = p(template_c) / |p(template_c)|. By
  Cauchy-Schwarz the X image scores highest on the X vote and the O image on the O vote. The vote
  stays trainable (98 parameters) so the net can be fine-tuned; the features do not.
xo: the same shape with trainable features, each with a bias (27 + 3 + 98 = 128 parameters):
  the bias lets a learned feature choose its own firing threshold before the ReLU. Without it the
  net stalls around 98.5% on the generated X/O set (zoo.data.xo), with it it passes 99%.
  `size` gives a larger canvas (the generator draws at any size).
"""

import keras
import numpy as np

from zoo.data.specs import XO_CLASSES as CLASSES  # noqa: F401  (for the walk-through, explainer)


def _image(strokes):
    img = -np.ones((9, 9), dtype="float32")
    for r, c in strokes:
        img[r, c] = 1.0
    return img


X_IMAGE = _image([(1, 1), (1, 7), (2, 2), (2, 6), (3, 3), (3, 5), (4, 4),
                  (5, 3), (5, 5), (6, 2), (6, 6), (7, 1), (7, 7)])
O_IMAGE = _image([(1, 3), (1, 4), (1, 5), (2, 2), (2, 6), (3, 1), (3, 7), (4, 1), (4, 7),
                  (5, 1), (5, 7), (6, 2), (6, 6), (7, 3), (7, 4), (7, 5)])
FEATURES = {
    "diagonal": np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype="float32"),
    "cross": np.array([[1, -1, 1], [-1, 1, -1], [1, -1, 1]], dtype="float32"),
    "anti_diagonal": np.array([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]], dtype="float32"),
}


def _xo_net(name, trainable_features, size=9):
    inputs = keras.Input(shape=(size, size), name="pixels")
    x = keras.layers.Reshape((size, size, 1), name="add_channel")(inputs)
    x = keras.layers.Conv2D(3, 3, use_bias=trainable_features, trainable=trainable_features,
                            name="features")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.MaxPooling2D(2, strides=2, padding="same", name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="vote")(x)
    return keras.Model(inputs, outputs, name=name)


def lecture_kernel():
    """The three features as a (3, 3, 1, 3) convolution kernel holding feature / 9."""
    return np.stack(list(FEATURES.values()), axis=-1)[:, :, None, :] / 9.0


def xo_lecture():
    model = _xo_net("xo_lecture", trainable_features=False)
    model.get_layer("features").set_weights([lecture_kernel()])
    pooled = keras.Model(model.input, model.get_layer("flatten").output)
    templates = pooled.predict(np.stack([X_IMAGE, O_IMAGE]), verbose=0)  # (2, 48)
    votes = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    model.get_layer("vote").set_weights([votes.T, np.zeros(2, dtype="float32")])
    return model


def xo(size=9):
    return _xo_net("xo", trainable_features=True, size=size)
