"""The model registry: a name maps to a builder and to the facts a user checks it against.

Model families (zoo/models/*.py) register their builders with `@register(...)`; users call
`list_models()`, `create_model(name)` and `model_info(name)`, re-exported by `zoo`.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from dataclasses import dataclass
from typing import Callable


class UnknownModelError(KeyError):
    """Raised for a model name that is not registered; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


@dataclass(frozen=True)
class ModelSpec:
    name: str
    builder: Callable
    family: str
    params: int  # trainable parameters, declared; the shared model test checks it
    input_shape: tuple
    input_kind: str  # "mnist": raw uint8 pixels 0-255; "xo": 9x9 pixels in {-1, +1}
    classes: tuple
    target: str  # the figure the model aims for, in words
    target_acc: float | None  # the same as a test accuracy fraction, where there is one
    source: str
    summary: str


_REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, **facts) -> Callable:
    """Decorator: register `builder` under `name` with the facts of ModelSpec."""

    def deco(builder: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"model name {name!r} is registered twice")
        family = builder.__module__.rsplit(".", 1)[-1]
        _REGISTRY[name] = ModelSpec(name=name, builder=builder, family=family, **facts)
        return builder

    return deco


def list_models(pattern: str | None = None) -> list[str]:
    """Every registered name, sorted; `pattern` is a shell-style filter such as "conv3*"."""
    names = sorted(_REGISTRY)
    return [n for n in names if pattern is None or fnmatch.fnmatchcase(n, pattern)]


def get_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}.{hint} Known models: {', '.join(list_models())}."
        ) from None


def create_model(name: str, pretrained: bool | str = False, **kwargs):
    """An uncompiled keras.Model for `name`: fresh weights (kwargs go to the family's builder),
    or with pretrained=True its shipped default weights ("<name>.mnist", or its one other
    shipped weight such as "audio_conv.fsdd"); pretrained="fast" loads "<name>.fast"."""
    spec = get_spec(name)
    if not pretrained:
        return spec.builder(**kwargs)
    if kwargs:
        raise ValueError(f"pretrained weights fix the model; drop {', '.join(kwargs)}")
    from zoo import pretrained as shipped

    return shipped.load(shipped.default_weight(name) if pretrained is True else
                        f"{name}.{pretrained}")


def model_info(name: str) -> dict:
    """Parameter count, input spec, the figure the model aims for and its source."""
    info = dataclasses.asdict(get_spec(name))
    info["builder"] = f"{get_spec(name).builder.__module__}.{get_spec(name).builder.__name__}"
    return info
