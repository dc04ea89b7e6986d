"""Ensembles as one Keras model: members inside, their softmax probabilities averaged.

    model = ensemble([zoo.load(...), zoo.load(...)], name="conv7_bn_ensemble")

The result is a plain functional keras.Model that takes what every zoo model takes (raw uint8
pixels, (n, 28, 28)) and holds each member as a nested model; the average is Keras' own Average
layer, so the file saves as .keras and loads with safe_mode=True (no Lambda, no code). Naming:
the ensemble of the net `<net>` is the model `<net>_ensemble`, shipped as `<net>_ensemble.mnist`
(reproductions/ship/ensemble.py builds it from the runs of the net's recipe; a refit's ensemble
ships under the rest of its recipe's name: conv7_bn_ensemble.cosine_refit).

Test-time views (issue 28): with `shifts`, every member also reads the picture moved by whole
pixels, (rows, columns) down and right, the uncovered edge at 0 (MNIST's background), and all
the probabilities are averaged. The moves are Keras' own ZeroPadding2D and Cropping2D layers, so
such an ensemble still loads with safe_mode=True. `ensemble([net], shifts=...)` is one net read
through its views.
"""

import keras

from zoo.models.common import MNIST_SHAPE


PICTURE = ((0, 0),)  # the picture alone, as it comes


def _moved(pixels, dy: int, dx: int):
    """`pixels` (n, 28, 28) moved dy rows down and dx columns right (negative: up, left), what
    leaves the frame dropped and what it uncovers at 0."""
    if (dy, dx) == (0, 0):
        return pixels
    tag = f"{dy:+d}_{dx:+d}".replace("+", "p").replace("-", "m")
    x = keras.layers.Reshape((*MNIST_SHAPE, 1), name=f"view_{tag}_in")(pixels)
    x = keras.layers.ZeroPadding2D(((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))),
                                   name=f"view_{tag}_pad")(x)
    x = keras.layers.Cropping2D(((max(-dy, 0), max(dy, 0)), (max(-dx, 0), max(dx, 0))),
                                name=f"view_{tag}_crop")(x)
    return keras.layers.Reshape(MNIST_SHAPE, name=f"view_{tag}")(x)


def ensemble(members, name="ensemble", shifts=PICTURE):
    """One model averaging the probabilities of `members` (keras.Models of the same input and
    classes), each reading the picture through every view of `shifts` ((rows, columns) moves;
    the default: the picture alone). Two members at least, or one read through moved views.
    Each member is wrapped under the name member1, member2, ... so that members built alike
    (same layer and model names) live side by side."""
    members, shifts = list(members), [tuple(map(int, s)) for s in shifts]
    if not members or (len(members) == 1 and tuple(shifts) == PICTURE):
        raise ValueError(f"an ensemble needs at least 2 members (or one member read through moved "
                         f"views), got {len(members)} member(s) and the views {shifts}")
    if not shifts or len(set(shifts)) != len(shifts) or any(abs(v) >= s for dy_dx in shifts
                                               for v, s in zip(dy_dx, MNIST_SHAPE)):
        raise ValueError(f"the views must be distinct moves inside the picture, got {shifts}")
    widths = {m.output.shape[-1] for m in members}
    if len(widths) != 1:
        raise ValueError(f"the members disagree on the number of classes: {sorted(widths)}")
    inputs = keras.Input(shape=MNIST_SHAPE, name="pixels")
    views = [_moved(inputs, dy, dx) for dy, dx in shifts]
    outputs = [member(view)
               for member in (keras.Model(m.input, m.output, name=f"member{i}")
                              for i, m in enumerate(members, start=1))
               for view in views]
    return keras.Model(inputs, keras.layers.Average(name="mean_probability")(outputs), name=name)


def members_of(model) -> list:
    """The member models of an ensemble built by `ensemble` (in order)."""
    return [layer for layer in model.layers if layer.name.startswith("member")]


def conv7_bn_ensemble(members=8, **kwargs):
    """`members` fresh conv7_bn nets averaged (the registry's conv7_bn_ensemble: 8 members, the
    most issue 28 allows; 4 until then). kwargs go to each conv7_bn."""
    from zoo.models.deotte import conv7_bn

    return ensemble([conv7_bn(**kwargs) for _ in range(members)], name="conv7_bn_ensemble")
