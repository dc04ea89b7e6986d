"""Görner's learning rate: lr(step) = lr_min + lr_max * exp(-step / decay_steps).

Keras' ExponentialDecay has no floor, so the TF1 formula
    0.0001 + tf.train.exponential_decay(0.003, step, 2000, 1/math.e)
gets its own schedule. decay_steps = 0 means a constant lr_max.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class FlooredExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, lr_max, lr_min=0.0, decay_steps=0):
        self.lr_max, self.lr_min, self.decay_steps = float(lr_max), float(lr_min), int(decay_steps)

    def __call__(self, step):
        if self.decay_steps == 0:
            return ops.convert_to_tensor(self.lr_max + self.lr_min, "float32")
        step = ops.cast(step, "float32")
        return self.lr_min + self.lr_max * ops.exp(-step / self.decay_steps)

    def get_config(self):
        return {"lr_max": self.lr_max, "lr_min": self.lr_min, "decay_steps": self.decay_steps}
