"""Learning-rate schedules as data: one frozen record per kind (exponential with a floor,
constant, cosine with warm-up, Deotte's per-pass exponential, step-wise), each with only the
fields it uses, and their JSON form. reproductions/run/schedule.py turns them into Keras schedules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar


# ---- learning-rate schedules: one record per kind, each with only the fields it uses ----------

@dataclass(frozen=True)
class ExponentialFloored:
    """Görner's lr(step) = lr_min + lr_max * exp(-step / decay_steps)."""

    kind: ClassVar[str] = "exponential"
    lr_max: float = 0.003
    lr_min: float = 0.0001
    decay_steps: int = 2000

    def problems(self, steps: int) -> list[str]:
        if not self.lr_max > 0 or self.lr_min < 0 or not self.decay_steps > 0:
            return ["the exponential schedule needs lr_max > 0, lr_min >= 0, decay_steps > 0"]
        return []

    def legacy(self) -> dict:
        return {"lr_max": self.lr_max, "lr_min": self.lr_min, "lr_decay_steps": self.decay_steps}


@dataclass(frozen=True)
class Constant:
    """One learning rate throughout."""

    kind: ClassVar[str] = "constant"
    lr: float = 0.001

    def problems(self, steps: int) -> list[str]:
        return [] if self.lr > 0 else [f"the constant schedule needs lr > 0, got {self.lr!r}"]

    def legacy(self) -> dict:
        # the flat form wrote a constant as Görner's formula with no decay: lr_max + lr_min
        return {"lr_max": self.lr, "lr_min": 0.0, "lr_decay_steps": 0}


@dataclass(frozen=True)
class CosineWarmup:
    """A linear warm-up from lr_start to lr_max over warmup_steps, then a cosine decay to lr_end
    at the recipe's last step (Keras' CosineDecay, whose alpha is lr_end / lr_max). lr_end is 0
    but for weight averaging (issue 28): SWA averages weights that still move, at a rate that
    does not fall to 0."""

    kind: ClassVar[str] = "cosine"
    lr_max: float = 0.02
    lr_start: float = 0.001
    warmup_steps: int = 300
    lr_end: float = 0.0

    def problems(self, steps: int) -> list[str]:
        problems = []
        if not self.lr_max > 0 or self.lr_start < 0:
            problems.append("the cosine schedule needs lr_max > 0 and lr_start >= 0")
        if not 0 <= self.warmup_steps < steps:
            problems.append(f"warmup_steps must be in [0, steps), got {self.warmup_steps!r}")
        if not 0 <= self.lr_end < self.lr_max:
            problems.append(f"the cosine schedule's lr_end must be in [0, lr_max), got "
                            f"{self.lr_end!r}")
        return problems

    def legacy(self) -> dict:
        # the flat form carried lr_decay_steps (unused by this schedule) at its default, 2000;
        # lr_end enters only when set, so the schedules that decay to 0 keep their hashes
        return {"lr_schedule": "cosine", "lr_max": self.lr_max, "lr_min": self.lr_start,
                "lr_warmup_steps": self.warmup_steps, "lr_decay_steps": 2000} | (
                    {"lr_end": self.lr_end} if self.lr_end else {})


@dataclass(frozen=True)
class EpochExponential:
    """Deotte's lr = lr x rate^epoch: constant within a pass of `epoch_steps` steps, then
    multiplied by `rate` (Keras' ExponentialDecay with staircase=True)."""

    kind: ClassVar[str] = "epoch_exponential"
    lr: float = 0.001
    rate: float = 0.95
    epoch_steps: int = 550

    def problems(self, steps: int) -> list[str]:
        if not self.lr > 0 or not 0 < self.rate <= 1 or not self.epoch_steps > 0:
            return ["the epoch_exponential schedule needs lr > 0, 0 < rate <= 1, epoch_steps > 0"]
        return []

    def legacy(self) -> dict:
        return {"lr_schedule": "epoch_exponential", "lr_max": self.lr, "lr_rate": self.rate,
                "lr_decay_steps": self.epoch_steps}


@dataclass(frozen=True)
class Step:
    """Piecewise-constant: scale * values[i] from step boundaries[i-1] (the first step at that
    value; steps count from 0, as the optimizer's iterations) up to boundaries[i], the last value
    from the last boundary on. `scale` keeps a source's own numbers verbatim in
    `values` when the optimizer needs them in other units (LeNet-5's SDLM rates)."""

    kind: ClassVar[str] = "step"
    boundaries: tuple = (1000,)
    values: tuple = (0.01, 0.001)
    scale: float = 1.0

    def __post_init__(self):  # JSON gives lists; a frozen record holds tuples
        object.__setattr__(self, "boundaries", tuple(self.boundaries))
        object.__setattr__(self, "values", tuple(self.values))

    def problems(self, steps: int) -> list[str]:
        problems = []
        if len(self.values) != len(self.boundaries) + 1:
            problems.append("the step schedule needs one more value than boundaries")
        if list(self.boundaries) != sorted(set(self.boundaries)) or \
                not all(0 < b < steps for b in self.boundaries):
            problems.append("step boundaries must increase strictly, inside (0, steps)")
        if not all(v > 0 for v in self.values) or not self.scale > 0:
            problems.append("step values and scale must be > 0")
        return problems

    def legacy(self) -> dict:
        return {"lr_schedule": "step", "lr_boundaries": list(self.boundaries),
                "lr_values": list(self.values), "lr_scale": self.scale}

    def rate(self, step: int) -> float:
        """The learning rate at `step` (what the Keras schedule computes)."""
        return self.scale * self.values[sum(step >= b for b in self.boundaries)]


SCHEDULES = {s.kind: s for s in (ExponentialFloored, Constant, CosineWarmup, EpochExponential,
                                 Step)}
Schedule = ExponentialFloored | Constant | CosineWarmup | EpochExponential | Step


def schedule_from(data: dict) -> Schedule:
    """A schedule record from its JSON form, {"kind": "cosine", "lr_max": ..., ...}."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in SCHEDULES:
        raise ValueError(f"schedule kind must be one of {', '.join(SCHEDULES)}, got {kind!r}")
    cls = SCHEDULES[kind]
    unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ValueError(f"the {kind} schedule has no field {', '.join(sorted(unknown))}; it has "
                         f"{', '.join(f.name for f in dataclasses.fields(cls))}")
    return cls(**data)


def schedule_json(schedule: Schedule) -> dict:
    return {"kind": schedule.kind, **dataclasses.asdict(schedule)}
