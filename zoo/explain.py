"""What each layer of a zoo net sees: the zoo's own small CNN Explainer (the lecture's section 4).

    zoo explain conv3_bn.mnist 7          # MNIST test image 7, with the shipped weights
    zoo explain xo_lecture X              # the lecture's X
    zoo explain lenet5 digit.png --out runs/explain
    python -m reproductions explain conv3_bn.mnist 7     # the same, also logged to MLflow

For one input it writes PNGs (matplotlib) and one static HTML page linking them, in the
lecture's vocabulary: the input; each convolution's filters; the feature maps after each
activation (ReLU, tanh) and after each pooling or strided convolution; the fully connected
vote's largest contributions; the class probabilities.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

import zoo
import zoo.data
from zoo import files, plots
from zoo.layers import PartialConv2D, RBFOutput, ScaledTanh
from zoo.models.xo import CLASSES, O_IMAGE, X_IMAGE
from zoo.weights import WeightName

MAX_MAPS = 24  # maps shown per layer; deeper layers have up to 64

_ACTIVATIONS = (keras.layers.ReLU, keras.layers.Activation, ScaledTanh)
_POOLING = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
_CONV = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, PartialConv2D)


@dataclass(frozen=True)
class Subject:
    """The model a page explains, with what the page needs to know of it (from its weight card,
    or from the registry for fresh weights: nothing is guessed from the model's shape)."""

    model: object  # keras.Model
    label: str  # the page's title: "conv3_bn.mnist", or "lenet5 (untrained: fresh weights)"
    slug: str  # for folder names: "conv3_bn.mnist", "lenet5"
    classes: tuple[str, ...]
    input_kind: str


def resolve_model(name: str) -> Subject:
    """A shipped weight ("conv3_bn.mnist"), else the model's shipped default weights, else
    fresh weights (said so on the page)."""
    full = zoo.weights.shipped_name(name)
    if WeightName.is_weight_name(full):
        card = zoo.weight_info(full)
        return Subject(zoo.load(str(card.name)), str(card.name), str(card.name), card.classes,
                       card.input_kind)
    info = zoo.model_info(name)  # an unknown name fails here, listing close matches
    return Subject(zoo.create_model(name), f"{name} (untrained: fresh weights)", name,
                   info["classes"], info["input_kind"])


def resolve_input(spec: str, input_kind: str):
    """(image, true label or None, caption) from "X"/"O", an MNIST test index, or a picture."""
    if input_kind == "xo":
        if spec.upper() not in CLASSES:
            raise ValueError(f"an X/O net takes X or O, not {spec!r}")
        return (X_IMAGE if spec.upper() == "X" else O_IMAGE), CLASSES.index(spec.upper()), \
            f"the lecture's {spec.upper()}"
    if re.fullmatch(r"[-+]\d+", spec) and not Path(spec).exists():
        raise ValueError(f"{spec}: not a test index (they start at 0) nor a file")
    if input_kind == "audio":
        # TensorFlow computes spectrograms: imported only when the input is audio
        from zoo.audio import spectrogram_of_file
        from zoo.data.fsdd import load_fsdd

        if spec.isdigit():
            (_, _), (x_test, y_test) = load_fsdd()
            i = int(spec)
            if i >= len(x_test):
                raise ValueError(f"FSDD has {len(x_test)} test recordings; {i} is out of range")
            return x_test[i], int(y_test[i]), f"FSDD test recording {i} (log-mel spectrogram)"
        return spectrogram_of_file(spec), None, f"{Path(spec).name} (log-mel spectrogram)"
    if spec.isdigit():
        (_, _), (x_test, y_test) = zoo.data.load_mnist()
        i = int(spec)
        if i >= len(x_test):
            raise ValueError(f"MNIST has {len(x_test)} test images; index {i} is out of range")
        return x_test[i], int(y_test[i]), f"MNIST test image {i}"
    from zoo.audio import is_wav
    from zoo.images import mnist_from_file  # Pillow, only for a picture

    if is_wav(spec):
        raise ValueError(f"{spec} is a WAV recording, but this model takes pictures of digits "
                         "(audio_conv.fsdd hears recordings)")

    return mnist_from_file(spec), None, f"{Path(spec).name}, converted the MNIST way"


def _shown_layers(model):
    """The layers whose output the page shows: activations, poolings, strided convolutions."""
    shown = []
    for layer in model.layers:
        if len(layer.output.shape) != 4:
            continue
        fused = isinstance(layer, _CONV) and getattr(layer, "activation", None) not in (
            None, keras.activations.linear)
        strided = isinstance(layer, keras.layers.Conv2D) and max(layer.strides) > 1
        if isinstance(layer, _ACTIVATIONS + _POOLING) or fused or strided:
            shown.append(layer)
    return shown


def _caption(layer) -> str:
    if isinstance(layer, keras.layers.MaxPooling2D):
        return "max pooling: each map keeps the largest value of each window (smaller, shift-tolerant)"
    if isinstance(layer, keras.layers.AveragePooling2D):
        return "subsampling (average pooling): each map averaged over 2x2 windows"
    if isinstance(layer, ScaledTanh):
        return "squashing (1.7159 tanh(2x/3)) after the convolution"
    if isinstance(layer, keras.layers.Conv2D):
        stride = max(layer.strides)
        linear = getattr(layer, "activation", None) in (None, keras.activations.linear)
        what = ("convolution, before the layers that normalise and rectify it (values of either "
                "sign)" if linear else "convolution then ReLU (negatives set to 0)")
        return what + (f"; stride {stride}: the maps shrink by {stride}, in place of pooling"
                       if stride > 1 else "")
    return "ReLU: negative values replaced by 0"


def _kernels(layer) -> np.ndarray | None:
    """(h, w, n) kernels to draw, averaged over input maps where there are several."""
    if isinstance(layer, PartialConv2D):
        return None  # its packed kernel has no per-map layout worth drawing
    weights = layer.get_weights()
    if not weights or weights[0].ndim != 4:
        return None
    k = weights[0]  # (h, w, in, out); depthwise: (h, w, in, 1)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return k[:, :, :, 0]
    return k.mean(axis=2)[:, :, :MAX_MAPS]


@dataclass(frozen=True)
class Filters:
    layer: str
    kernels: np.ndarray  # (h, w, n)
    averaged: bool  # averaged over the input maps (a convolution with several of them)


@dataclass(frozen=True)
class LayerMaps:
    layer: str
    caption: str
    maps: np.ndarray  # (h, w, n shown), at most MAX_MAPS
    total: int  # maps the layer has


@dataclass(frozen=True)
class Explanation:
    """What the net does with one input; the static page and the live page both draw this."""
    image: np.ndarray  # the input as the model sees it: (h, w) pixels or spectrogram
    classes: tuple[str, ...]
    probabilities: np.ndarray  # (classes,)
    filters: list[Filters]
    maps: list[LayerMaps]
    vote_layer: str  # the last dense layer (or RBF output), whose inputs vote for the classes
    contributions: np.ndarray  # activation x weight of each of its inputs, for the winner
    scores: np.ndarray  # each class's vote before the softmax: contributions summed, plus bias

    @property
    def winner(self) -> int:
        return int(self.probabilities.argmax())


class Explainer:
    """A model and its probe (one keras.Model returning every shown layer's output), built once:
    calling it on one input costs one forward pass."""

    def __init__(self, model, classes):
        from zoo.models.ensemble import members_of

        members = members_of(model)
        # an ensemble (zoo.models.ensemble): its members are nets of one kind, so the page shows
        # what the first one's layers see and its vote; the probabilities are the ensemble's,
        # the answer of the weight that was asked
        self.ensemble = model if members else None
        if members:
            model = members[0]
        self.model, self.classes = model, tuple(classes)
        if model.output.shape[-1] != len(self.classes):
            raise ValueError(f"{model.name} has {model.output.shape[-1]} outputs for "
                             f"{len(self.classes)} classes")
        self.shown = _shown_layers(model)
        # the last dense layer votes; in LeNet-5's RBF output each F6 unit adds -(x_j - w_ij)^2
        self.vote = [l for l in model.layers if isinstance(l, (keras.layers.Dense, RBFOutput))][-1]
        self.probe = keras.Model(model.inputs,
                                 [l.output for l in self.shown] + [self.vote.input, model.output])
        self.filters = [
            Filters(l.name, k, l.get_weights()[0].shape[2] > 1
                    and not isinstance(l, keras.layers.DepthwiseConv2D))
            for l in model.layers if isinstance(l, _CONV) and (k := _kernels(l)) is not None]

    def __call__(self, image) -> Explanation:
        # a direct call, not predict(): predict sets up a data pipeline each time (conv3_bn,
        # one image, here: 73 ms through predict, 8.5 ms this way)
        x = keras.ops.convert_to_tensor(np.asarray(image, dtype="float32")[None])
        outputs = [keras.ops.convert_to_numpy(o)[0] for o in self.probe(x, training=False)]
        maps, vote_in, probs = outputs[:-2], outputs[-2], outputs[-1]
        if self.ensemble is not None:
            probs = keras.ops.convert_to_numpy(self.ensemble(x, training=False))[0]
        winner = int(probs.argmax())
        if isinstance(self.vote, RBFOutput):  # each input's part in each class's score
            parts = -np.square(vote_in[None] - self.vote.get_weights()[0])
            contributions, scores = parts[winner], parts.sum(axis=1)
        else:
            weights, bias = self.vote.get_weights()
            contributions, scores = vote_in * weights[:, winner], vote_in @ weights + bias
        return Explanation(
            image=np.asarray(image), classes=self.classes, probabilities=probs,
            filters=self.filters,
            maps=[LayerMaps(l.name, _caption(l), m[..., :MAX_MAPS], m.shape[-1])
                  for l, m in zip(self.shown, maps, strict=True)],
            vote_layer=self.vote.name, contributions=contributions, scores=scores)


def explain(model, image, out_dir, label_name: str, true_label=None, caption: str = "", *,
            classes) -> Path:
    """Render the page for one input; returns the HTML path. Every figure is one PNG, each file
    written whole or not at all (zoo.files: WriteError if it cannot be)."""
    out = files.make_folder(out_dir)  # before the work: a folder in the way is refused first
    seen = Explainer(model, classes)(image)
    classes = seen.classes
    sections = []

    def figure(name, fig, title, text):
        plots.save(fig, out / name, dpi=80)
        sections.append((name, title, text))

    figure("input.png", plots.feature_maps(image[None, :, :, None] if image.ndim == 2 else
                                           image[None], "input", cols=1),
           "Input", f"{caption}: {image.shape[0]}x{image.shape[1]} pixels"
           + (f", true class {classes[true_label]}" if true_label is not None else ""))
    for f in seen.filters:
        figure(f"filters-{f.layer}.png", plots.kernels({f.layer: f.kernels}),
               f"Filters of {f.layer}",
               f"the {f.kernels.shape[-1]} masks this convolution slides over its input"
               + (" (averaged over the input maps)" if f.averaged else ""))
    for m in seen.maps:
        figure(f"maps-{m.layer}.png", plots.feature_maps(m.maps, m.layer),
               f"Feature maps after {m.layer}",
               m.caption + f"; {m.total} maps of {m.maps.shape[0]}x{m.maps.shape[1]}")
    winner = seen.winner
    figure("vote.png", plots.contributions(seen.contributions, classes[winner]),
           "Fully connected vote",
           f"the inputs of the last layer that add most to the vote for {classes[winner]}: "
           "activation times weight")
    figure("probabilities.png", plots.probabilities(seen.probabilities, classes),
           "Class probabilities",
           f"the net says {classes[winner]} ({seen.probabilities[winner]:.1%})")
    page = out / "index.html"
    files.write_text(page, _html(label_name, caption, sections))
    return page


def _html(model_label, caption, sections) -> str:
    body = "\n".join(
        f'<section><h2>{html.escape(title)}</h2><p>{html.escape(text)}</p>'
        f'<img src="{html.escape(name)}" alt="{html.escape(title)}"></section>'
        for name, title, text in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(model_label)}: {html.escape(caption)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}}
img{{max-width:100%;border:1px solid #ddd}}section{{margin-bottom:2em}}</style></head>
<body><h1>{html.escape(model_label)}</h1><p>What each layer sees for {html.escape(caption)}.
Convolution slides small masks (filters) over the image and gives one feature map each;
ReLU keeps the positive responses; pooling shrinks the maps keeping the strongest responses;
the fully connected layers vote for a class.</p>
{body}
</body></html>
"""
