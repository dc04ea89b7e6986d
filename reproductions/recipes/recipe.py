"""What a training recipe is, as data (the recipes themselves are in catalog.py, or JSON files
in tuned/; the training code needs no change for a new one).

A recipe is a frozen dataclass: model, data and preprocessing, optimizer and learning-rate
schedule (a tagged record of its own: exponential with a floor, cosine with warm-up, constant,
Deotte's per-pass exponential, step-wise), augmentation (whole-pixel shifts, or
turn-zoom-move), batch size and steps, seeds, and the published figure it aims for with its
source.
A model's canonical recipe carries the model's name; other recipes for it get names of their own.
A variant is a recipe derived from another by overrides (`derive`, the suite's `--set key=value`,
or a data file such as screening/conv3_bn_fast.json); it has its own name and hash.

Görner's recipes follow his TF1 scripts (tensorflow-without-a-phd, tensorflow-mnist-tutorial):
pixels / 256, batches of 100 read in an order shuffled once, 10,000 steps, Adam with
lr = 0.0001 + 0.003 * exp(-step / 2000) (4.2: 0.02 and 1600), loss = mean cross-entropy * 100.
Adam is blind to the loss scale except through epsilon, so the *100 is kept as epsilon 1e-8 / 100
on the plain mean loss. The softmax script (1.0) uses plain gradient descent, lr 0.005 on the
batch-summed loss (the script's mean * 1000), i.e. lr 0.5 on the mean loss.
These published recipes follow the scripts' protocol: all 60,000 training images train (nothing
is selected, so no validation split: validation_size=0), and the test set is evaluated every 500
steps (not 100); the final figure counts, the max over training (what the scripts quote) is kept
beside it, labelled optimistic. Until this protocol (issue #12) they held 5,000 images out for
validation; their weights and tables of that version keep their old hashes on the cards
(tests/data/recipe_hashes.json "before_published_protocol").

The hash (`Recipe.hash`) names a recipe's version in the MLflow store and on weight cards. It is
computed from the flat dict the recipes had before the schedule became a record of its own
(`training_config`), so every finished run and shipped card keeps its hash;
tests/data/recipe_hashes.json pins them.
"""


from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from reproductions.recipes.schedules import (SCHEDULES, ExponentialFloored, Schedule,
                                             schedule_from, schedule_json)
from zoo.data.specs import get_dataset


# ---- the recipe -------------------------------------------------------------------------------

PRECISIONS = (None, "mixed_bfloat16")


@dataclass(frozen=True)
class Recipe:
    name: str
    model: str
    target_acc: float | None  # the published figure as a test accuracy fraction; None: no bar
    target_source: str
    dataset: str = "mnist"  # a data set of zoo.data.specs (folds included)
    pixel_scale: float | None = None  # x = pixel * scale + offset, inside the model;
    pixel_offset: float | None = None  # None: the model's own default
    optimizer: str = "adam"  # "adam", "sgd" or "sdlm" (LeNet-5's, reproductions/run/sdlm.py)
    schedule: Schedule = field(default_factory=ExponentialFloored)
    adam_epsilon: float = 1e-10
    # SDLM's mu and the patterns its curvature is estimated on before each pass (both needed by
    # optimizer="sdlm", None otherwise); the loss: None for cross-entropy, "map" for LeNet-5's
    # MAP criterion on its RBF output; jit_compile: XLA for the training step (None: off).
    # Each is left out of the hash when None, so earlier recipes keep theirs.
    sdlm_mu: float | None = None
    sdlm_patterns: int | None = None
    loss: str | None = None
    jit_compile: bool | None = None
    batch_size: int = 100
    steps: int = 10_000
    eval_every: int = 500  # steps between evaluations; each is one logged "epoch"
    # A published recipe's test cadence, as its source's script tested (Görner's
    # tensorflowvisu.animate): the test set after step 0 (the untrained net), every `test_every`
    # steps and after the last one, and every `early_test_every` steps before the first
    # `test_every` (his more_tests_at_start). None: at each evaluation (eval_every) only.
    # test_every divides eval_every, so each evaluation is also a test.
    test_every: int | None = None
    early_test_every: int | None = None
    reshuffle_each_epoch: bool = False
    augment_shift: int | None = None  # move training images by up to n pixels (None: never)
    # (degrees, zoom, fraction): turn, zoom and move each training image at random
    # (zoo.data.pipeline.random_affine); None: never. Left out of the hash when None.
    augment_affine: tuple | None = None
    # (alpha, sigma): then bend each training image by a random smooth displacement field
    # (zoo.data.pipeline.random_elastic; Simard et al. 2003's elastic distortion: alpha 34,
    # sigma 4 on MNIST); None: never. Left out of the hash when None.
    augment_elastic: tuple | None = None
    validation_size: int = 5_000
    train_subset: int | None = None  # first n training images only (quick checks)
    model_options: tuple | None = None  # ((builder argument, value), ...), e.g. from a search
    # Keras dtype policy of the model: None (float32, every recipe so far) or "mixed_bfloat16"
    # (bfloat16 compute, float32 variables: oneDNN's bfloat16 kernels, AMX where the CPU has it).
    # Left out of the hash when None, so float32 recipes keep their hashes and runs.
    precision: str | None = None
    # knowledge distillation (issue 28): (teacher, its sha256's first 12 hex digits, alpha,
    # temperature). The teacher is a shipped zoo weight ("conv7_bn_ensemble.mnist"), pinned by
    # its hash so that a re-shipped teacher cannot hide under this recipe's hash; each training
    # image's target is alpha * the teacher's probabilities softened by the temperature
    # + (1 - alpha) * its label (reproductions/run/distill.py). None: the labels alone.
    # Left out of the hash when None.
    distill: tuple | None = None
    # label smoothing (issue 28): each training image's target is (1 - e) * its label + e / the
    # number of classes (Szegedy et al. 2016), trained like a distilled student's soft targets
    # against a teacher that says nothing (reproductions/run/distill.py); validation and test
    # keep the labels. None: the labels alone. Left out of the hash when None.
    label_smoothing: float | None = None
    # weight averaging (issue 28): Adam keeps an exponential moving average of the weights with
    # this momentum (Keras' use_ema; An et al. 2020 use 0.999); validation reads the average, and
    # the run's final weights are the average (reproductions/run/prepare.py, AveragedValidation).
    # BatchNorm's moving statistics stay those of the trained weights unless ema_bn_batches is
    # set. Adam only; a chosen recipe only, since a published one's test cadence reads the
    # trained weights. Out of the hash when None.
    ema_momentum: float | None = None
    # with ema_momentum: BatchNorm's moving statistics recomputed for the averaged weights, as
    # SWA does (Izmailov et al. 2018, its update of BatchNorm), over this many batches of the
    # run's own training stream (its first ones: the same images and augmentation), each batch
    # weighing the same, before each validation and for the final net. Out of the hash when None.
    ema_bn_batches: int | None = None
    # decoupled weight decay (issue 28; Loshchilov & Hutter 2019, AdamW): each step, after the
    # gradient's update, every kernel shrinks by weight_decay x the step's learning rate (Keras'
    # optimizer argument `weight_decay`); biases and BatchNorm's gamma and beta (the 1-D
    # variables) are left out, as is usual. Adam only. Out of the hash when None.
    weight_decay: float | None = None
    # a refit (issue 28): the name of the chosen recipe whose fields this one keeps, trained
    # again on every training image, its validation split too (validation_size=0), once the
    # choice is made; as scikit-learn's refit=True. Nothing is chosen on its runs (it has no
    # split) and the test set is read once, after the last step, as for the recipe it refits.
    # catalog.refit_problems checks that only validation_size and this differ. Out of the hash
    # when None.
    refit_of: str | None = None
    seeds: tuple[int, ...] = (1, 2, 3)
    notes: str = ""
    # ((key, value), ...) that enter the hash only: fields the runs were made with when the
    # flat form had them, that shape no training (screening's s_d was run with the cosine
    # schedule and lr_decay_steps=1600). Keeps those runs' hash; new recipes leave it empty.
    hash_only: tuple = ()
    # why the recipe is a study, "" when it is not: a study backs no figure of the lecture or a
    # paper, or it learns from a shipped weight that the default does not train (a distilled
    # student), so `reproduce` trains it only when it is named (issue 25). It ships a weight only
    # when its whole interval clears its bar (reproductions/ship/export_weights.py).
    # Not in the hash: it says what the recipe is for, not how it trains.
    study: str = ""
    # the maxima of the source's own runs, where it lists several (Görner 3.1 lists six), quoted
    # verbatim in source_runs_quote: our seeds are compared with them as two samples (Welch).
    # Not in the hash: they describe the source, not the training.
    source_runs: tuple[float, ...] = ()
    source_runs_quote: str = ""
    # a published recipe: what still differs from its source's training, for the gaps table
    # (mnist.md, "What the gaps are made of"); not in the hash
    still_differs: str = ""

    def __post_init__(self):
        problems = []
        if self.optimizer not in ("adam", "sgd", "sdlm"):
            problems.append(f"optimizer must be 'adam', 'sgd' or 'sdlm', got {self.optimizer!r}")
        if (self.optimizer == "sdlm") != (self.sdlm_mu is not None and self.sdlm_patterns
                                          is not None):
            problems.append("optimizer 'sdlm' takes sdlm_mu and sdlm_patterns, and only it")
        if self.loss not in (None, "map"):
            problems.append(f"loss is None (cross-entropy) or 'map', got {self.loss!r}")
        options = self.model_options or ()
        if not (isinstance(options, tuple) and all(
                isinstance(o, tuple) and len(o) == 2 and isinstance(o[0], str) for o in options)):
            # a pair list (from --set, as JSON), not a string: "in" on a string would raise
            problems.append(f"model_options must be [builder argument, value] pairs, e.g. "
                            f"--set 'model_options=[[\"fused_bn\", true]]', "
                            f"got {self.model_options!r}")
            options = ()
        if (self.loss == "map") != (("map_training", True) in options):
            problems.append("loss 'map' goes with model option map_training=True (the RBF "
                            "output's log-probabilities), and only with it")
        for name in ("batch_size", "steps", "eval_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                problems.append(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not isinstance(self.validation_size, int) or self.validation_size < 0:
            problems.append(f"validation_size must be an integer >= 0 (0: a published recipe, "
                            f"no split), got {self.validation_size!r}")
        if not problems and self.steps % self.eval_every:
            problems.append(f"steps ({self.steps}) must be a multiple of eval_every "
                            f"({self.eval_every})")
        problems += self._cadence_problems()
        if self.refit_of is not None and (not isinstance(self.refit_of, str)
                                          or self.validation_size != 0):
            problems.append(f"refit_of names the chosen recipe this one trains again on every "
                            f"training image (validation_size 0), got {self.refit_of!r} with "
                            f"validation_size {self.validation_size!r}")
        if not isinstance(self.schedule, tuple(SCHEDULES.values())):
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)} (a record of "
                            f"reproductions.recipes), got {self.schedule!r}")
        elif not problems:
            problems += self.schedule.problems(self.steps)
        if self.augment_shift is not None and not 0 <= self.augment_shift <= 4:
            problems.append(f"augment_shift must be 0 to 4 pixels, got {self.augment_shift!r}")
        if self.augment_affine is not None:
            if len(self.augment_affine) != 3 or not (
                    0 <= self.augment_affine[0] <= 45 and 0 <= self.augment_affine[1] < 0.5
                    and 0 <= self.augment_affine[2] < 0.5):
                problems.append("augment_affine is (degrees 0-45, zoom 0-0.5, fraction 0-0.5), "
                                f"got {self.augment_affine!r}")
            if self.augment_shift:
                problems.append("give augment_shift or augment_affine, not both")
        elastic = self.augment_elastic
        if elastic is not None and not (
                isinstance(elastic, tuple) and len(elastic) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in elastic)
                and 0 < elastic[0] <= 100 and 1 <= elastic[1] <= 10):
            problems.append("augment_elastic is (alpha 0-100, sigma 1-10 pixels), got "
                            f"{self.augment_elastic!r}")
        if self.precision not in PRECISIONS:
            problems.append(f"precision is one of {', '.join(map(str, PRECISIONS))}, got "
                            f"{self.precision!r}")
        if self.distill is not None:
            problems += self._distill_problems()
        if self.label_smoothing is not None:
            if (not isinstance(self.label_smoothing, (int, float))
                    or not 0 < self.label_smoothing < 1):
                problems.append(f"label_smoothing is a fraction in (0, 1), got "
                                f"{self.label_smoothing!r}")
            if self.distill is not None:
                problems.append("give distill or label_smoothing, not both: each sets the "
                                "training targets")
        if self.ema_momentum is not None:
            if (not isinstance(self.ema_momentum, float) or not 0 < self.ema_momentum < 1):
                problems.append(f"ema_momentum is a fraction in (0, 1) such as 0.999, got "
                                f"{self.ema_momentum!r}")
            if self.optimizer != "adam" or self.validation_size == 0:
                problems.append("ema_momentum goes with optimizer 'adam' and a validation split "
                                "(a chosen recipe): validation reads the averaged weights")
        if self.ema_bn_batches is not None and (
                self.ema_momentum is None or not isinstance(self.ema_bn_batches, int)
                or isinstance(self.ema_bn_batches, bool) or self.ema_bn_batches < 1):
            problems.append(f"ema_bn_batches is a number of batches >= 1 and goes with "
                            f"ema_momentum (it refreshes BatchNorm for the averaged weights), got "
                            f"{self.ema_bn_batches!r}")
        if self.weight_decay is not None and (
                not isinstance(self.weight_decay, float) or not 0 < self.weight_decay < 1
                or self.optimizer != "adam"):
            problems.append(f"weight_decay is a fraction in (0, 1) such as 0.05, with optimizer "
                            f"'adam', got {self.weight_decay!r} with {self.optimizer!r}")
        if self.train_subset is not None and self.train_subset < self.batch_size:
            problems.append(f"train_subset ({self.train_subset}) is smaller than a batch")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            problems.append(f"seeds must be distinct and at least one, got {self.seeds!r}")
        if self.target_acc is not None and not 0 < self.target_acc <= 1:
            problems.append(f"target_acc is a fraction in (0, 1], got {self.target_acc!r}")
        try:
            get_dataset(self.dataset)
        except ValueError as err:
            problems.append(str(err))
        if problems:
            raise ValueError(f"recipe {self.name!r}: " + "; ".join(problems))

    def _cadence_problems(self) -> list[str]:
        if self.test_every is None:
            return (["early_test_every needs test_every"]
                    if self.early_test_every is not None else [])
        if not self.published:
            return ["test_every is a published recipe's (validation_size=0): a chosen recipe "
                    "or its refit reads the test set once, after the last step"]
        every, early = self.test_every, self.early_test_every
        if not isinstance(every, int) or every <= 0 or self.eval_every % every:
            return [f"test_every must divide eval_every ({self.eval_every}), got {every!r}"]
        if early is not None and (not isinstance(early, int) or early <= 0 or early >= every
                                  or every % early):
            return [f"early_test_every must divide test_every ({every}) and be smaller, "
                    f"got {early!r}"]
        return []

    def _distill_problems(self) -> list[str]:
        shape = ("distill is (teacher weight, its sha256's first 12 hex digits, alpha in (0, 1], "
                 "temperature > 0)")
        if not isinstance(self.distill, tuple) or len(self.distill) != 4:
            return [f"{shape}, got {self.distill!r}"]
        teacher, sha, alpha, temperature = self.distill
        problems = []
        if not isinstance(teacher, str) or "." not in teacher:
            problems.append(f"{shape}: the teacher is a weight name such as "
                            f"'conv7_bn_ensemble.mnist', got {teacher!r}")
        if not isinstance(sha, str) or len(sha) != 12 or set(sha) - set("0123456789abcdef"):
            problems.append(f"{shape}: got the hash {sha!r}")
        if not isinstance(alpha, (int, float)) or not 0 < alpha <= 1:
            problems.append(f"{shape}: got alpha {alpha!r}")
        if not isinstance(temperature, (int, float)) or temperature <= 0:
            problems.append(f"{shape}: got temperature {temperature!r}")
        if self.published:
            problems.append("distill needs a validation split (a chosen recipe): its "
                            "student is chosen on validation")
        return problems

    def test_steps(self) -> tuple[int, ...]:
        """The steps after which a published recipe evaluates the test set (0: before the
        first step): its source's cadence where it names one, else each evaluation."""
        if self.test_every is None:
            return tuple(range(self.eval_every, self.steps + 1, self.eval_every))
        early = range(0, self.test_every, self.early_test_every or self.test_every)
        return tuple(sorted({*early, *range(self.test_every, self.steps + 1, self.test_every),
                             self.steps}))

    @property
    def family(self) -> str:
        """The data set family: one MLflow experiment and one results table each
        ("fsdd/loso-theo" belongs to "fsdd")."""
        return get_dataset(self.dataset).family

    @property
    def published(self) -> bool:
        """A published recipe follows its source's protocol: nothing is selected, so there is
        no validation split; all training images train, the test set is evaluated at every
        evaluation (its max over training is the source's own, optimistic, measure) and the
        figure is the final one. Any other recipe is a chosen one: chosen on its validation
        split with the test set never computed (train_run(..., blind=True)), or the refit of
        one (refit_of); its reported seeds evaluate the test set once, after the last step."""
        return self.validation_size == 0 and self.refit_of is None

    @property
    def epochs(self) -> int:
        return self.steps // self.eval_every

    def model_kwargs(self) -> dict:
        kwargs = {"scale": self.pixel_scale, "offset": self.pixel_offset}
        return {k: v for k, v in kwargs.items() if v is not None} | dict(self.model_options or ())

    def to_dict(self) -> dict:
        """The JSON form (recipe.json artifacts, tuned/*.json): the schedule as a tagged record."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["schedule"] = schedule_json(self.schedule)
        return json.loads(json.dumps(data))  # tuples as lists, as json writes them

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "Recipe":
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"recipe {data.get('name')!r}: unknown fields "
                             f"{', '.join(sorted(unknown))}")
        data = {k: _tuples(v) for k, v in data.items() if k != "schedule"} | (
            {"schedule": schedule_from(data["schedule"])} if "schedule" in data else {})
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        return cls.from_dict(json.loads(text))

    def training_config(self) -> dict:
        """What decides the trained weights: everything but names, seeds and the target, in the
        flat form recipes had before the schedule was a record (so that hashes stay the same).
        Fields left at None are left out, so a new optional field keeps old runs valid."""
        skip = {"name", "seeds", "target_acc", "target_source", "notes", "schedule", "hash_only",
                "study", "source_runs", "source_runs_quote", "still_differs"}
        config = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in skip and getattr(self, f.name) is not None}
        return json.loads(json.dumps(config)) | self.schedule.legacy() | dict(self.hash_only)

    def augmentation(self) -> dict:
        """The training stream's augmentation arguments (zoo.data.training_stream)."""
        return dict(shift=self.augment_shift or 0, affine=self.augment_affine,
                    elastic=self.augment_elastic)

    def hash(self) -> str:
        blob = json.dumps(self.training_config(), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _tuples(value):
    return tuple(_tuples(x) for x in value) if isinstance(value, list) else value


# ---- variants ---------------------------------------------------------------------------------

def parse_override(text: str) -> tuple[str, object]:
    """"key=value" -> (key, value); the value is read as JSON (0.01, true, [1, 2], "adam"),
    else taken as a string. Keys are recipe fields or schedule.<field>."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set takes key=value, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def derive(base: Recipe, overrides: dict, name: str | None = None, notes: str | None = None
           ) -> Recipe:
    """A variant of `base`: its fields replaced by `overrides` ({"steps": 1600,
    "schedule.lr_max": 0.01, "schedule": {"kind": "cosine", ...}, ...}), with its own name
    (default: base+key=value,...) and hence its own hash. A variant with a validation split is
    a chosen recipe: it drops the published base's test cadence and source runs."""
    fields = {f.name for f in dataclasses.fields(Recipe)} - {"name", "hash_only"}
    changes, schedule_changes = {}, {}
    for key, value in overrides.items():
        if key.startswith("schedule."):
            schedule_changes[key.removeprefix("schedule.")] = value
        elif key == "schedule":
            changes["schedule"] = schedule_from(value) if isinstance(value, dict) else value
        elif key in fields:
            changes[key] = _tuples(value)
        else:
            raise ValueError(f"recipe {base.name!r} has no field {key!r}; fields: "
                             f"{', '.join(sorted(fields))}, schedule.<field>")
    if schedule_changes:
        current = changes.get("schedule", base.schedule)
        changes["schedule"] = schedule_from(schedule_json(current) | schedule_changes)
    if name is None:
        name = base.name + "".join(f"+{k}={json.dumps(v, separators=(',', ':'))}"
                                   for k, v in overrides.items())
    if notes is not None:
        changes["notes"] = notes
    if changes.get("validation_size", base.validation_size) != 0:
        # a chosen variant of a published recipe reads the test set once, at the end: the
        # source's test cadence and runs are not its own (and its hash stays what it was)
        changes = {"test_every": None, "early_test_every": None, "source_runs": (),
                   "source_runs_quote": "", "still_differs": ""} | changes
    return dataclasses.replace(base, name=name, **changes)
