"""The few layers Keras lacks, written so that models save and load with safe_mode=True.

- ScaledTanh: LeCun's squashing function 1.7159 * tanh(2x/3) (LeNet-5, 1998, appendix A).
- PartialConv2D: a convolution in which each output map sees only some input maps, as LeNet-5's
  C3 does (its Table I). Keras has no such layer; masking a full Conv2D would hold 2,416
  trainable weights instead of the paper's 1,516, so the kernel is kept packed and scattered.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class ScaledTanh(keras.layers.Layer):
    def call(self, x):
        return 1.7159 * ops.tanh(x * (2.0 / 3.0))


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
