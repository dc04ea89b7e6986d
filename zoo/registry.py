"""The model registry: a name maps to a builder and to the facts a user checks it against.

The facts are plain data (keras-hub's "presets as data"): listing the zoo or reading a model's
facts imports nothing heavy. The builder is a dotted path ("zoo.models.gorner:conv3_bn"),
imported (with Keras) only when a model is built. `list_models()`, `create_model(name)` and
`model_info(name)` are re-exported by `zoo`. A model's target figure, as a number, belongs to the
recipes that train it (reproductions/recipes/catalog.py); here it is described in words.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass

from zoo import weights
from zoo.data.specs import FSDD_SHAPE, OfDataset
from zoo.dotted import resolve
from zoo.lookup import lookup

MNIST_SHAPE = (28, 28)


class UnknownModelError(KeyError):
    """Raised for a model name that is not registered; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


@dataclass(frozen=True)
class ModelSpec(OfDataset):
    name: str
    builder: str  # "module:function", imported when the model is built
    params: int  # trainable parameters, declared; the shared model test checks it
    input_shape: tuple
    dataset: str  # the data set it is made for (zoo.data.specs): its classes and input kind
    target: str  # the figure the model aims for, in words
    source: str
    summary: str

    @property
    def family(self) -> str:
        """The module of zoo/models/ the model is written in ("gorner", "lenet", ...)."""
        return self.builder.partition(":")[0].rsplit(".", 1)[-1]


GORNER = "M. Görner, TensorFlow and deep learning without a PhD, tensorflow-mnist-tutorial"
LECUN = "LeCun, Bottou, Bengio, Haffner, Proc. IEEE 86(11), 1998; yann.lecun.com/exdb/mnist"
ROHRER = "the lecture, after B. Rohrer, How do Convolutional Neural Networks work? (2016)"
DEOTTE = ("C. Deotte, 25 Million Images! [0.99757] MNIST (Kaggle, 2018; "
          "github.com/cdeotte/MNIST-CNN-99.75)")
FSDD = "Free Spoken Digit Dataset (Jakobovski et al.), official split: recordings 0-4 test"

_REGISTRY: dict[str, ModelSpec] = {s.name: s for s in (
    ModelSpec("xo_lecture", "zoo.models.xo:xo_lecture", 98, (9, 9), "xo",
              "X for the X image, O for the O image", ROHRER,
              "the lecture's hand-set features and a derived vote"),
    ModelSpec("xo", "zoo.models.xo:xo", 128, (9, 9), "xo",
              ">= 99% on a held-out generated X/O set (zoo.data.xo)", ROHRER,
              "the X/O net with trainable features"),
    ModelSpec("softmax", "zoo.models.gorner:softmax", 7_850, MNIST_SHAPE, "mnist",
              "0.9268 max test accuracy (Görner 1.0)", GORNER,
              "one dense softmax layer, 784 -> 10"),
    ModelSpec("mlp5", "zoo.models.gorner:mlp5", 185_300, MNIST_SHAPE, "mnist",
              "0.9824 max test accuracy (Görner 2.1)", GORNER,
              "five dense ReLU layers 784-200-100-60-30-10"),
    ModelSpec("conv3", "zoo.models.gorner:conv3", 122_270, MNIST_SHAPE, "mnist",
              "0.989 max test accuracy (Görner 3.0)", GORNER,
              "the lecture's first configuration: 3 convolutions + dense 200"),
    ModelSpec("conv3_dropout", "zoo.models.gorner:conv3_dropout", 244_076, MNIST_SHAPE, "mnist",
              "0.9928-0.9935 max test accuracy (Görner 3.1)", GORNER,
              "the lecture's second configuration: bigger, with dropout"),
    ModelSpec("conv3_bn", "zoo.models.gorner:conv3_bn", 708_362, MNIST_SHAPE, "mnist",
              "0.9953-0.9958 max test accuracy, stable around 0.9950 (Görner 4.2)", GORNER,
              "the lecture's ~99.5% net: BatchNorm and dropout"),
    ModelSpec("conv3_bn_small", "zoo.models.gorner:conv3_bn_small", 510_658, MNIST_SHAPE,
              "mnist", "the zoo's time-to-accuracy goal: 99.50% in 2 minutes a seed on 2 CPU "
              "cores (recipe conv3_bn_fast)", GORNER,
              "conv3_bn with two thirds of its filters, for fast training"),
    ModelSpec("conv7_bn", "zoo.models.deotte:conv7_bn", 326_410, MNIST_SHAPE, "mnist",
              "the lecture's record, 99.7%: >= 99.65% a single net in 15 minutes a seed on 2 CPU "
              "cores (Deotte: 99.64 ± 0.05 on a GPU)", DEOTTE,
              "Deotte's net: seven convolutions with BatchNorm, dropout 0.4"),
    ModelSpec("conv7_bn_ensemble", "zoo.models.ensemble:conv7_bn_ensemble", 8 * 326_410,
              MNIST_SHAPE, "mnist", ">= 99.75% (Deotte's 15 nets: 99.745 ± 0.020) with 8 "
              "conv7_bn members trained in 60 minutes in all on the reference kind", DEOTTE,
              "8 conv7_bn nets in one model, probabilities averaged"),
    ModelSpec("lenet5", "zoo.models.lenet:lenet5", 60_850, MNIST_SHAPE, "mnist",
              "0.95% test error, i.e. 0.9905 accuracy (LeNet-5, no distortions)", LECUN,
              "the faithful 1998 LeNet-5 (60,000 params up to F6)"),
    ModelSpec("lenet5_rbf", "zoo.models.lenet:lenet5_rbf", 60_000, MNIST_SHAPE, "mnist",
              "0.95% test error, i.e. 0.9905 accuracy (LeNet-5, no distortions)", LECUN,
              "the 1998 LeNet-5 whole: RBF output with fixed 7x12 prototypes, trained by SDLM"),
    ModelSpec("lenet5_modern", "zoo.models.lenet:lenet5_modern", 61_706, MNIST_SHAPE, "mnist",
              "about 0.99 accuracy (common tutorial figure; the paper's LeNet-5: 0.9905)", LECUN,
              "tutorial LeNet-5: ReLU, max pooling, full C3"),
    ModelSpec("audio_conv", "zoo.models.audio:audio_conv", 608_714, FSDD_SHAPE, "fsdd",
              ">= 98% test accuracy on FSDD's official split (the zoo's bar)", FSDD,
              "a spectrogram CNN for spoken digits (FSDD)"),
)}


def list_models(pattern: str | None = None) -> list[str]:
    """Every registered name, sorted; `pattern` is a shell-style filter such as "conv3*"."""
    names = sorted(_REGISTRY)
    return [n for n in names if pattern is None or fnmatch.fnmatchcase(n, pattern)]


def get_spec(name: str) -> ModelSpec:
    return lookup(_REGISTRY, name, UnknownModelError, f"unknown model {name!r}", "Known models")


def builder(name: str):
    """The function that builds model `name` (imports its module, and Keras with it)."""
    return resolve(get_spec(name).builder)


def create_model(name: str, pretrained: bool = False, **kwargs):
    """An uncompiled keras.Model for `name`: fresh weights (kwargs go to the family's builder),
    or with pretrained=True its shipped default weights (zoo.weights.default_weight: "<name>.mnist",
    or its one other shipped weight such as "audio_conv.fsdd"). Other shipped weights load by
    their own name: zoo.load("conv3.tuned")."""
    spec = get_spec(name)
    if not pretrained:
        return resolve(spec.builder)(**kwargs)
    if pretrained is not True:
        raise ValueError(f"pretrained is True or False; load other weights by name, e.g. "
                         f"zoo.load('{name}.<tag>') (zoo list shows them)")
    if kwargs:
        raise ValueError(f"pretrained weights fix the model; drop {', '.join(kwargs)}")
    return weights.load(weights.default_weight(name))


def model_info(name: str) -> dict:
    """Parameter count, input spec, classes, the figure the model aims for and its source."""
    spec = get_spec(name)
    return {**dataclasses.asdict(spec), "family": spec.family, "classes": spec.classes,
            "input_kind": spec.input_kind}
