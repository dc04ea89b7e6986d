"""Validation split and tf.data pipelines over the arrays of zoo.data.

The split is fixed and seeded: the same 5,000 training images are held out on every machine, for
model selection and early stopping; the test set is kept for final figures.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

VALIDATION_SIZE = 5_000
SPLIT_SEED = 20_260_311  # fixed for the project, independent of the training seed
PARALLEL_CALLS = 2  # batches prepared at once, and ready ahead of the training step
PREFETCH = 4
PER_PATTERN_BLOCK = 1000  # images gathered at once for a stream of single images


def _fixed_tuning(dataset):
    """The dataset with tf.data's autotuning off (fixed parallelism and buffers instead).
    With it on, TensorFlow 2.21 deletes a finished iterator only when the autotuning thread next
    wakes, up to 60 s later: fit() then hung ~50 s after the last step of two runs in three
    (py-spy: RootDataset::Iterator::~Iterator waiting on its thread). These pipelines are light
    next to the training step, so fixed settings cost nothing measurable."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def split_validation(x, y, size=VALIDATION_SIZE, seed=SPLIT_SEED):
    """((x_train, y_train), (x_val, y_val)): a fixed random `size` images held out of x, y."""
    if not 0 < size < len(x):
        raise ValueError(f"validation size must be between 1 and {len(x) - 1}, got {size}")
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = np.sort(order[:size]), np.sort(order[size:])
    return (x[train], y[train]), (x[val], y[val])


def training_stream(x, y, batch_size, seed, reshuffle_each_epoch=True, skip_batches=0,
                    shift=0, affine=None, elastic=None):
    """An endless tf.data stream of (images, labels) batches in an order fixed by `seed`.

    The order is a pure function of (seed, batch index), so a run resumed at batch k with
    skip_batches=k sees exactly the batches an uninterrupted run would. With
    reshuffle_each_epoch=False the data is shuffled once and then read in the same order every
    epoch (Görner's scripts do this). With shift=n, each image is moved by a random whole number
    of pixels in [-n, n] along each axis (border filled with 0), drawn afresh for every batch
    from (seed, batch index), so resuming stays exact. With affine=(degrees, zoom, fraction),
    each image is instead turned, zoomed and moved at random (random_affine), drawn the same way.
    With elastic=(alpha, sigma), each image is then also bent by a random smooth displacement
    field (random_elastic), from its own draw of the same (seed, batch index). With affine or
    elastic the images come as float32 (interpolated pixels, 0-255), which the models take too."""
    if shift and affine:
        raise ValueError("give shift or affine, not both (affine moves images itself)")
    n = len(x)
    images, labels = tf.constant(x), tf.constant(y)
    index = tf.data.Dataset.range(n)
    if reshuffle_each_epoch:
        index = index.shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
    else:
        once = np.random.default_rng(seed).permutation(n)
        index = tf.data.Dataset.from_tensor_slices(once).repeat()
    if batch_size == 1 and not (shift or affine or elastic):
        # one image an update (LeNet-5's SDLM): a tf.data map per image costs as much as the
        # step, so images are gathered a block at a time and split again; the same order
        block = index.batch(PER_PATTERN_BLOCK).map(
            lambda i: (tf.gather(images, i), tf.gather(labels, i)),
            num_parallel_calls=PARALLEL_CALLS, deterministic=True)
        return _fixed_tuning(block.unbatch().skip(skip_batches).batch(1).prefetch(
            PER_PATTERN_BLOCK))
    index = index.batch(batch_size, drop_remainder=True).enumerate().skip(skip_batches)

    def batch(k, i):
        chosen = tf.gather(images, i)
        key = tf.stack([tf.cast(seed, tf.int64), k])  # the batch's draw: (seed, batch index)
        if shift:
            chosen = random_shift(chosen, shift, key)
        if affine:
            chosen = random_affine(chosen, *affine, key)
        if elastic:
            # folded, so that the field's numbers are not the affine's: stateless ops under
            # one key start with the same numbers whatever the shape drawn
            chosen = random_elastic(chosen, *elastic,
                                    tf.random.experimental.stateless_fold_in(key, 1))
        return chosen, tf.gather(labels, i)

    return _fixed_tuning(index.map(batch, num_parallel_calls=PARALLEL_CALLS, deterministic=True)
                         .prefetch(PREFETCH))


def random_shift(images, n, seed):
    """Each image of a (batch, height, width) stack moved by its own random (dy, dx) in [-n, n],
    exactly (whole pixels, zeros shifted in); `seed` is a stateless-RNG seed of two integers."""
    b, h, w = tf.unstack(tf.shape(images))
    offsets = tf.random.stateless_uniform((b, 2), seed, 0, 2 * n + 1, dtype=tf.int32)
    padded = tf.pad(images, [[0, 0], [n, n], [n, n]])
    rows = offsets[:, :1] + tf.range(h)[None]  # (batch, height): padded rows each image keeps
    cols = offsets[:, 1:] + tf.range(w)[None]
    return tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)


def random_affine(images, degrees, zoom, fraction, seed):
    """Each image of a (batch, height, width) stack turned by an angle in [-degrees, degrees],
    scaled by a factor in [1 - zoom, 1 + zoom] and moved by up to `fraction` of its size along
    each axis, about its centre, bilinear, zeros outside (Deotte's ImageDataGenerator settings:
    rotation 10, zoom 0.1, shifts 0.1). Drawn with stateless random ops from `seed` (two
    integers), so the same (seed, batch) gives the same images. Returns float32."""
    images = tf.cast(images, tf.float32)
    b, h, w = tf.unstack(tf.shape(images))
    u = tf.random.stateless_uniform((b, 4), seed, -1.0, 1.0)
    angle = u[:, 0] * degrees * np.pi / 180
    scale = 1.0 + u[:, 1] * zoom  # > 1 shows the digit larger
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    ty, tx = u[:, 2] * fraction * hf, u[:, 3] * fraction * wf
    cy, cx = (hf - 1) / 2, (wf - 1) / 2
    # the transform maps each output pixel (x, y) to the input point it reads:
    # input = R(angle) (output - centre - t) / scale + centre
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    a2 = cx - cos * (cx + tx) + sin * (cy + ty)
    b2 = cy - sin * (cx + tx) - cos * (cy + ty)
    zeros = tf.zeros_like(cos)
    transforms = tf.stack([cos, -sin, a2, sin, cos, b2, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images[..., None], transforms=transforms, output_shape=tf.stack([h, w]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")
    return out[..., 0]


def random_elastic(images, alpha, sigma, seed):
    """Each image of a (batch, height, width) stack bent by its own elastic distortion (Simard,
    Steinkraus and Platt 2003, section 2): every pixel's displacement along each axis drawn
    uniformly in [-1, 1], the two fields smoothed by a Gaussian of standard deviation `sigma`
    pixels (zeros beyond the border), scaled by `alpha`, and each output pixel read at its
    displaced point, bilinear, zeros outside. Simard's MNIST setting is alpha 34, sigma 4.
    Drawn with stateless random ops from `seed` (two integers). Returns float32."""
    images = tf.cast(images, tf.float32)
    b, h, w = tf.unstack(tf.shape(images))
    field = tf.random.stateless_uniform(tf.stack([b, h, w, 2]), seed, -1.0, 1.0)
    moved = alpha * gaussian_smooth(field, sigma)
    rows = tf.cast(tf.range(h), tf.float32)[None, :, None] + moved[..., 0]
    cols = tf.cast(tf.range(w), tf.float32)[None, None, :] + moved[..., 1]
    return bilinear(images, rows, cols)


def gaussian_smooth(fields, sigma):
    """(batch, height, width, channels) smoothed along height and width by a Gaussian of
    standard deviation `sigma` pixels cut at 3 sigma, zeros beyond the border (as scipy's
    gaussian_filter with mode "constant" and truncate 3), each channel on its own."""
    radius = int(3 * sigma + 0.5)  # scipy's rounding of truncate x sigma
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = tf.constant(taps / taps.sum(), tf.float32)
    channels = tf.shape(fields)[-1]
    # the 2-D Gaussian as two 1-D passes
    along_rows = tf.tile(tf.reshape(taps, (-1, 1, 1, 1)), tf.stack([1, 1, channels, 1]))
    along_cols = tf.tile(tf.reshape(taps, (1, -1, 1, 1)), tf.stack([1, 1, channels, 1]))
    fields = tf.nn.depthwise_conv2d(fields, along_rows, (1, 1, 1, 1), "SAME")
    return tf.nn.depthwise_conv2d(fields, along_cols, (1, 1, 1, 1), "SAME")


def bilinear(images, rows, cols):
    """Each image of a (batch, height, width) stack read at the points (rows, cols), each of
    shape (batch, height, width) in pixel units, bilinear, 0 outside the image (as scipy's
    map_coordinates with order 1 and mode "grid-constant": the edge fades into the zeros).
    Written here because TensorFlow has no per-pixel warp (TensorFlow Addons' dense_image_warp
    went with it), and Keras' map_coordinates runs on Keras' backend, while a tf.data stream
    must stay TensorFlow whatever the backend (bench-peers runs Keras on JAX)."""
    b, h, w = tf.unstack(tf.shape(images))
    # a border of zeros one pixel wide: a point outside reads 0, one on the edge fades to it
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1]])
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    rows, cols = tf.clip_by_value(rows + 1, 0, hf + 1), tf.clip_by_value(cols + 1, 0, wf + 1)
    # the corner above-left of each point, at most the last real pixel's padded index, so its
    # neighbour below-right still lies in the padded image; its fraction stays in [0, 1]
    r0, c0 = tf.minimum(tf.floor(rows), hf), tf.minimum(tf.floor(cols), wf)
    fr, fc = rows - r0, cols - c0
    r0, c0 = tf.cast(r0, tf.int32), tf.cast(c0, tf.int32)
    image = tf.broadcast_to(tf.range(b)[:, None, None], tf.shape(r0))

    def at(r, c):
        return tf.gather_nd(padded, tf.stack([image, r, c], -1))

    top = (1 - fc) * at(r0, c0) + fc * at(r0, c0 + 1)
    bottom = (1 - fc) * at(r0 + 1, c0) + fc * at(r0 + 1, c0 + 1)
    return (1 - fr) * top + fr * bottom


def eval_dataset(x, y, batch_size=1000):
    """Batches for evaluation, in order."""
    return _fixed_tuning(tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
                         .prefetch(PREFETCH))
