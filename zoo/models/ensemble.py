"""Ensembles as one Keras model: members inside, their softmax probabilities averaged.

    model = ensemble([zoo.load(...), zoo.load(...)], name="conv7_bn_ensemble")

The result is a plain functional keras.Model that takes what every zoo model takes (raw uint8
pixels, (n, 28, 28)) and holds each member as a nested model; the average is Keras' own Average
layer, so the file saves as .keras and loads with safe_mode=True (no Lambda, no code). Naming:
the ensemble of the net `<net>` is the model `<net>_ensemble`, shipped as `<net>_ensemble.mnist`
(reproductions/ship/ensemble.py builds it from the runs of the net's recipe).
"""

import keras

from zoo.models.common import MNIST_SHAPE


def ensemble(members, name="ensemble"):
    """One model averaging the probabilities of `members` (two or more keras.Models of the same
    input and classes). Each member is wrapped under the name member1, member2, ... so that
    members built alike (same layer and model names) live side by side."""
    members = list(members)
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
    widths = {m.output.shape[-1] for m in members}
    if len(widths) != 1:
        raise ValueError(f"the members disagree on the number of classes: {sorted(widths)}")
    inputs = keras.Input(shape=MNIST_SHAPE, name="pixels")
    outputs = [keras.Model(m.input, m.output, name=f"member{i}")(inputs)
               for i, m in enumerate(members, start=1)]
    return keras.Model(inputs, keras.layers.Average(name="mean_probability")(outputs), name=name)


def members_of(model) -> list:
    """The member models of an ensemble built by `ensemble` (in order)."""
    return [layer for layer in model.layers if layer.name.startswith("member")]


def conv7_bn_ensemble(members=8, **kwargs):
    """`members` fresh conv7_bn nets averaged (the registry's conv7_bn_ensemble: 8 members, the
    most issue 28 allows; 4 until then). kwargs go to each conv7_bn."""
    from zoo.models.deotte import conv7_bn

    return ensemble([conv7_bn(**kwargs) for _ in range(members)], name="conv7_bn_ensemble")
