"""The recipes' learning-rate schedules (records of reproductions.recipes) as Keras schedules.

Görner's lr(step) = lr_min + lr_max * exp(-step / decay_steps): Keras' ExponentialDecay has no
floor, so the TF1 formula
    0.0001 + tf.train.exponential_decay(0.003, step, 2000, 1/math.e)
gets its own schedule, FlooredExponentialDecay. decay_steps = 0 means a constant lr_max (the
Constant record is built that way, as it always was, so its runs train exactly as before).
"""

import keras
from keras import ops

from reproductions.recipes import (Constant, CosineWarmup, EpochExponential, ExponentialFloored,
                                  Step)


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


def keras_schedule(schedule, steps: int):
    """The Keras schedule of a recipe's schedule record, for a run of `steps` steps."""
    if isinstance(schedule, ExponentialFloored):
        return FlooredExponentialDecay(schedule.lr_max, schedule.lr_min, schedule.decay_steps)
    if isinstance(schedule, Constant):
        return FlooredExponentialDecay(schedule.lr, 0.0, 0)
    if isinstance(schedule, CosineWarmup):
        return keras.optimizers.schedules.CosineDecay(
            schedule.lr_start, steps - schedule.warmup_steps,
            alpha=schedule.lr_end / schedule.lr_max,  # 0.0 unless the record sets lr_end
            warmup_target=schedule.lr_max, warmup_steps=schedule.warmup_steps)
    if isinstance(schedule, EpochExponential):
        return keras.optimizers.schedules.ExponentialDecay(
            schedule.lr, schedule.epoch_steps, schedule.rate, staircase=True)
    if isinstance(schedule, Step):
        # Keras keeps values[i] while step <= boundaries[i]; ours start the next value AT a
        # boundary (pass 3 begins at step 2 * steps_per_pass), hence the - 1
        return keras.optimizers.schedules.PiecewiseConstantDecay(
            [b - 1 for b in schedule.boundaries], [schedule.scale * v for v in schedule.values])
    raise TypeError(f"not a schedule record: {schedule!r}")
