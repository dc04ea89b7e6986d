"""Validation split and tf.data pipelines over the arrays of zoo.data.

The split is fixed and seeded: the same 5,000 training images are held out on every machine, for
model selection and early stopping; the test set is kept for final figures.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

VALIDATION_SIZE = 5_000
SPLIT_SEED = 20_260_311  # fixed for the project, independent of the training seed


def split_validation(x, y, size=VALIDATION_SIZE, seed=SPLIT_SEED):
    """((x_train, y_train), (x_val, y_val)): a fixed random `size` images held out of x, y."""
    if not 0 < size < len(x):
        raise ValueError(f"validation size must be between 1 and {len(x) - 1}, got {size}")
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = np.sort(order[:size]), np.sort(order[size:])
    return (x[train], y[train]), (x[val], y[val])


def training_stream(x, y, batch_size, seed, reshuffle_each_epoch=True, skip_batches=0):
    """An endless tf.data stream of (images, labels) batches in an order fixed by `seed`.

    The order is a pure function of (seed, batch index), so a run resumed at batch k with
    skip_batches=k sees exactly the batches an uninterrupted run would. With
    reshuffle_each_epoch=False the data is shuffled once and then read in the same order every
    epoch (Görner's scripts do this)."""
    n = len(x)
    images, labels = tf.constant(x), tf.constant(y)
    index = tf.data.Dataset.range(n)
    if reshuffle_each_epoch:
        index = index.shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
    else:
        once = np.random.default_rng(seed).permutation(n)
        index = tf.data.Dataset.from_tensor_slices(once).repeat()
    index = index.batch(batch_size, drop_remainder=True).skip(skip_batches)
    return index.map(lambda i: (tf.gather(images, i), tf.gather(labels, i)),
                     num_parallel_calls=tf.data.AUTOTUNE,
                     deterministic=True).prefetch(tf.data.AUTOTUNE)


def eval_dataset(x, y, batch_size=1000):
    """Batches for evaluation, in order."""
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE)
