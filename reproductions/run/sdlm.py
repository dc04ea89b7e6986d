"""LeNet-5's training as the 1998 paper describes it: the stochastic diagonal Levenberg-Marquardt
method (SDLM, section II-C and appendix C) and the MAP loss of its RBF output (eq. 9).

One update per training pattern: w_k <- w_k - eps_k * dE^p/dw_k, with a step of its own for
every parameter, eps_k = eta / (mu + h_kk), where eta is the global rate of the paper's table
(the recipe's schedule), mu = 0.02 (the paper's) keeps a step finite where the curvature is
flat, and h_kk estimates the average second derivative of the loss with respect to w_k. The
estimate is the paper's: the Gauss-Newton approximation (the terms in f'' and the off-diagonal
terms dropped), back-propagated like the gradient, through the squared weights and squared
inputs (appendix C: d2E/da_i^2 = f'(a_i)^2 sum_k w_ki^2 d2E/da_k^2, and d2E/dw_k^2 = the sum,
over the connections that share w_k, of x_j^2 d2E/da_i^2). It is re-estimated before each
pass on `patterns` training patterns drawn at random (500 in the recipe: the paper estimates on
a small subset of the training set; its size here is a choice), as their mean: the appendix's
running average with the rate 1/t. At the RBF output the curvature taken is that of
the correct class's penalty, d2y_D/dx_j^2 = 2; the competitive term of the MAP loss adds
curvature of either sign, which Gauss-Newton leaves out, as it leaves out f''.

Keras trains it: batches of one pattern, many patterns per compiled call (steps_per_execution,
XLA), the SDLM optimizer below, and the Curvature callback at the start of each pass.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo.layers import TANH_AMPLITUDE, TANH_SLOPE, ScaledTanh


@keras.saving.register_keras_serializable(package="zoo")
def map_loss(y_true, log_probabilities):
    """The paper's MAP criterion per pattern, y_D + log(exp(-j) + sum_i exp(-y_i)), which is
    -log p_D of the RBF output (zoo.layers.RBFOutput returns log p while training)."""
    labels = ops.cast(ops.reshape(y_true, (-1, 1)), "int32")
    return -ops.take_along_axis(log_probabilities, labels, axis=1)[:, 0]


@keras.saving.register_keras_serializable(package="zoo")
class SDLM(keras.optimizers.Optimizer):
    """w -= learning_rate * g / (mu + h): one curvature estimate h per parameter, held as an
    optimizer variable (so checkpoints keep it) and set by the Curvature callback."""

    def __init__(self, learning_rate, mu=0.02, name="sdlm", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.mu = float(mu)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.curvatures = [self.add_variable_from_reference(v, "curvature") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        h = self.curvatures[self._get_variable_index(variable)]
        rate = ops.cast(learning_rate, variable.dtype)
        self.assign_sub(variable, rate * gradient / (self.mu + h))

    def set_curvatures(self, variables, curvatures):
        for variable, h in zip(variables, curvatures):
            self.curvatures[self._get_variable_index(variable)].assign(h)

    def get_config(self):
        return {**super().get_config(), "mu": self.mu}


def _scaled_tanh_slope(a):
    """f'(a) of zoo.layers.ScaledTanh."""
    t = ops.tanh(a * TANH_SLOPE)
    return TANH_AMPLITUDE * TANH_SLOPE * (1.0 - t * t)


def gauss_newton_diagonal(model, images) -> list[np.ndarray]:
    """The mean over `images` of the paper's diagonal Gauss-Newton estimate of d2E/dw^2, one
    array per trainable variable of `model` (a LeNet-5 with an RBF output, layer "output"), in
    model.trainable_variables' order."""
    import tensorflow as tf  # here: reproductions.run.prepare imports this module on JAX too

    layers = list(model.layers[1:])
    head = [layer.name for layer in layers].index("output")
    x, inputs = tf.convert_to_tensor(images), []
    for layer in layers[:head]:  # the forward pass, each layer's input kept
        inputs.append(x)
        x = layer(x, training=False)
    h = tf.fill(tf.shape(x), 2.0)  # d2y_D/dx_j^2 at F6's outputs
    found = {}
    for layer, x in zip(reversed(layers[:head]), reversed(inputs)):
        if isinstance(layer, ScaledTanh):
            h = h * ops.square(_scaled_tanh_slope(x))
            continue
        if not layer.trainable_variables and not isinstance(
                layer, (keras.layers.AveragePooling2D, keras.layers.Flatten)):
            break  # the input's reshaping, padding and scaling: nothing below to train
        # the layer's linear map with squared weights on squared inputs; its coefficients
        # squared too: the 2x2 average's 1/4 becomes 1/16, i.e. average(x^2) / 4
        squared = [tf.square(v) for v in layer.trainable_variables]
        x2 = tf.square(x)
        with tf.GradientTape() as tape:
            tape.watch(squared + [x2])
            if squared:
                out = layer.stateless_call(squared, [], x2)[0]
            else:
                out = layer(x2) / (4.0 if isinstance(layer, keras.layers.AveragePooling2D) else 1)
            total = tf.reduce_sum(h * out)
        *per_variable, h = tape.gradient(total, squared + [x2])
        for variable, value in zip(layer.trainable_variables, per_variable):
            found[variable.path] = value.numpy() / len(images)
    return [found[v.path] for v in model.trainable_variables]


class Curvature(keras.callbacks.Callback):
    """Before each pass, h re-estimated on `patterns` training images drawn by the run's seed
    and the pass number (a resumed run draws the same ones)."""

    def __init__(self, images, seed: int, patterns: int):
        super().__init__()
        self.images, self.seed, self.patterns = images, seed, patterns

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        rng = np.random.default_rng([self.seed, epoch])
        picked = rng.choice(len(self.images), self.patterns, replace=False)
        optimizer.set_curvatures(self.model.trainable_variables,
                                 gauss_newton_diagonal(self.model, self.images[picked]))
