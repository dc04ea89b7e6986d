"""The few layers Keras lacks, written so that models save and load with safe_mode=True.

- ScaledTanh: LeCun's squashing function 1.7159 * tanh(2x/3) (LeNet-5, 1998, appendix A).
- PartialConv2D: a convolution in which each output map sees only some input maps, as LeNet-5's
  C3 does (its Table I). Keras has no such layer; masking a full Conv2D would hold 2,416
  trainable weights instead of the paper's 1,516, so the kernel is kept packed and scattered.
- RBFOutput: LeNet-5's output layer (1998, II-B, eq. 7 and 9): ten Euclidean RBF units whose
  fixed prototypes are 7x12 bitmaps; as probabilities, the paper's MAP criterion made a softmax.
- FusedBatchNormalization: Keras' BatchNormalization, but training on images runs TensorFlow's
  fused kernel (Keras 3 has no fused path: it computes moments and normalises with separate ops).
  Same outputs, gradients and moving averages (tested). Until 2026-12-06 its check wanted axis 3
  while Keras 3 keeps -1, so every call fell back to Keras' ops: the runs and the bench figure
  (variant fused_bn of `make bench-training`) made with it before then are Keras' ops. Working,
  it trains conv3_bn 1.1 and conv7_bn 1.3 times as fast on one thread
  (reproductions/results/profile_*.md), and the reproductions train with it.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


TANH_AMPLITUDE, TANH_SLOPE = 1.7159, 2.0 / 3.0  # LeCun's A and S: f(a) = A tanh(S a)


@keras.saving.register_keras_serializable(package="zoo")
class ScaledTanh(keras.layers.Layer):
    def call(self, x):
        return TANH_AMPLITUDE * ops.tanh(x * TANH_SLOPE)


@keras.saving.register_keras_serializable(package="zoo")
class PartialConv2D(keras.layers.Layer):
    """VALID convolution where output map j reads only the input maps in `connections[j]`."""

    def __init__(self, connections, kernel_size, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.connections = [sorted(int(i) for i in c) for c in connections]
        self.kernel_size = int(kernel_size)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        n_in, n_out = int(input_shape[-1]), len(self.connections)
        # index[i, j] = 1 + position of the (input i, output j) weight in the packed kernel, or 0
        index = np.zeros((n_in, n_out), dtype="int32")
        k = 0
        for j, inputs in enumerate(self.connections):
            for i in inputs:
                if not 0 <= i < n_in:
                    raise ValueError(f"connection to input map {i}, but the input has {n_in} maps")
                k += 1
                index[i, j] = k
        self._index = index.reshape(-1)
        self._n_in, self._n_out = n_in, n_out
        ks = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel", shape=(ks, ks, k), initializer=self.kernel_initializer
        )
        self.bias = self.add_weight(name="bias", shape=(n_out,), initializer="zeros")

    def call(self, x):
        ks = self.kernel_size
        padded = ops.concatenate([ops.zeros((ks, ks, 1), dtype=self.kernel.dtype), self.kernel], -1)
        full = ops.reshape(ops.take(padded, self._index, axis=-1), (ks, ks, self._n_in, self._n_out))
        return ops.conv(x, full, strides=1, padding="valid") + self.bias

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        shrink = self.kernel_size - 1
        return (b, None if h is None else h - shrink, None if w is None else w - shrink,
                len(self.connections))

    def get_config(self):
        return {
            **super().get_config(),
            "connections": self.connections,
            "kernel_size": self.kernel_size,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package="zoo")
class RBFOutput(keras.layers.Layer):
    """Penalties y_i = sum_j (x_j - w_ij)^2 against fixed prototypes w (never trained).
    Predicting, it returns the ten classes' probabilities exp(-y_i) / sum_k exp(-y_k) (the
    class of least penalty first, as the paper decides), and so while training too, for any
    loss on probabilities. With map_training (the paper's training, reproductions' loss "map"),
    training returns log p_i instead, with
    p_i = exp(-y_i) / (exp(-j) + sum_k exp(-y_k)): the paper's MAP loss (eq. 9),
    y_D + log(exp(-j) + sum_i exp(-y_i)), is then exactly -log p_D, a cross-entropy in which a
    "none of these" class of fixed penalty j takes the mass the ten leave. The prototypes are a
    non-trainable weight, so a saved model carries them; a fresh one is zeros until its builder
    assigns them."""

    def __init__(self, units, rubbish_penalty, map_training=False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.rubbish_penalty = int(units), float(rubbish_penalty)
        self.map_training = bool(map_training)

    def build(self, input_shape):
        self.prototypes = self.add_weight(name="prototypes", shape=(self.units, input_shape[-1]),
                                          initializer="zeros", trainable=False)

    def call(self, x, training=None):
        penalties = ops.sum(ops.square(x[:, None, :] - self.prototypes[None]), axis=-1)
        rubbish = ops.full_like(penalties[:, :1], self.rubbish_penalty)
        if training and self.map_training:
            # log p while training: at the start every penalty is ~100 and p underflows to 0
            # in float32, so the loss (reproductions' "map", -log p_D) must take log p itself
            return ops.log_softmax(-ops.concatenate([penalties, rubbish], -1))[:, :self.units]
        return ops.softmax(-penalties)  # the ten classes' probabilities, as every zoo model

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "rubbish_penalty": self.rubbish_penalty, "map_training": self.map_training}


@keras.saving.register_keras_serializable(package="zoo")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization whose training step on NHWC images is one fused TensorFlow op.

    Anything else (inference, dense inputs, masks, renorm, other backends or dtypes) goes through
    Keras' own code, so a saved model behaves as a BatchNormalization one does."""

    def _fusable(self, inputs, training, mask):
        return (training and self.trainable and mask is None and not self.renorm
                and not self.synchronized and self.compute_dtype == "float32"
                and keras.backend.backend() == "tensorflow"
                and len(inputs.shape) == 4 and self.axis in (3, -1)
                and inputs.dtype == "float32")

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        # Imported here: the kernel exists only in TensorFlow, and only training on the
        # TensorFlow backend reaches this line; loading and running a model needs Keras alone.
        import tensorflow as tf

        ones, zeros = tf.ones_like(self.moving_mean), tf.zeros_like(self.moving_mean)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma if self.scale else ones, self.beta if self.center else zeros,
            epsilon=self.epsilon, is_training=True)
        # The kernel hands back the unbiased variance (n - 1 divisor) for the moving average;
        # Keras averages the biased one, the one it normalised with.
        n = tf.cast(tf.reduce_prod(tf.shape(inputs)[:3]), variance.dtype)
        variance = variance * (n - 1) / n
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return y
