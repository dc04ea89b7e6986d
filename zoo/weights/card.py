"""A shipped weight as data: its name ("arch.tag", one parser) and its card (WeightCard).

The card is one manifest entry as a frozen record, checked when it is read: known keys only,
a file name that stays inside the weights folder, a size and a SHA256 that are what they claim
to be (so that zoo.weights.loading can check them before anything is deserialized), and figures
that are numbers in their range (accuracies fractions from 0 to 1). Plain data: nothing here
imports Keras.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from dataclasses import dataclass
from pathlib import Path

from zoo.data.specs import OfDataset, get_dataset
from zoo.dotted import resolve

# The folder of this package: the .keras files and manifest.json ship next to the code.
WEIGHTS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^([a-z0-9_]+)\.([a-z0-9_]+)$")


class WeightsError(ValueError):
    """A weight file is unknown, missing, altered, or unsafe to load."""


@dataclass(frozen=True, order=True)
class WeightName:
    """A weight's name, "arch.tag" (timm's convention): the model it is for and which weights."""

    arch: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> "WeightName":
        """The one parser of weight names: "conv3_bn.mnist" -> WeightName("conv3_bn", "mnist")."""
        match = _NAME.match(str(text))
        if not match:
            raise WeightsError(f"{text!r} is not a weight name: expected 'model.tag' such as "
                               "'conv3_bn.mnist' (lower-case letters, digits, underscores)")
        return cls(*match.groups())

    @staticmethod
    def is_weight_name(text: str) -> bool:
        """True for "arch.tag", False for a bare model name such as "conv3_bn"."""
        return bool(_NAME.match(str(text)))

    def __str__(self) -> str:
        return f"{self.arch}.{self.tag}"


@dataclass(frozen=True)
class WeightCard(OfDataset):
    """One shipped weight, as the manifest records it (torchvision's Weights meta): what it is
    for, how well it does, how it was made, and the file it lives in."""

    name: WeightName
    dataset: str  # a data set of zoo.data.specs: classes, input kind and license come with it
    file: str
    sha256: str
    size: int
    params: int  # trainable parameters, counted from the file
    test_accuracy: float  # of this file, recomputed at export
    recipe: str
    recipe_mean: float  # final test accuracy of the recipe, mean over its seeds
    recipe_std: float  # and its sample standard deviation
    recipe_seeds: int
    target_acc: float | None
    target_source: str
    command: str  # how to make this file again
    seed: int | None
    mlflow_run_id: str | None
    chosen: str
    data_sha256: str  # the data's digest as the training run tagged it
    keras_version: str
    tensorflow_version: str
    git_commit: str | None
    input: str  # what the model takes, in words
    license: str
    recipe_hash: str | None = None  # written by exports since the hash was added to the card

    @property
    def arch(self) -> str:
        return self.name.arch

    @property
    def tag(self) -> str:
        return self.name.tag

    @property
    def preprocessing(self) -> str | None:
        """The function ("module:name") that turns a user's file into this model's input."""
        return get_dataset(self.dataset).file_reader

    def read_input(self, path, notes: list[str] | None = None):
        """A user's file (a picture, a recording) as this model's input, by the card's kind;
        what was converted on the way (a recording's rate, say) is appended to `notes`."""
        if self.preprocessing is None:
            raise WeightsError(f"{self.name} takes {self.input}; it reads no files")
        return resolve(self.preprocessing)(path, notes)

    @property
    def path(self) -> Path:
        # read when asked, from this module: pointing zoo.weights.card.WEIGHTS_DIR elsewhere
        # (a test shipping into a temporary folder) moves every card's file with it
        return WEIGHTS_DIR / self.file

    @classmethod
    def from_manifest(cls, entry: dict) -> "WeightCard":
        if not isinstance(entry, dict):
            raise WeightsError(f"manifest entry {entry!r:.80} is not an object; the manifest is "
                               "damaged: reinstall the package or re-export the weights")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(entry) - fields
        if unknown:
            raise WeightsError(f"manifest entry {entry.get('name')!r} has unknown keys: "
                               f"{', '.join(sorted(unknown))}")
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and
                    f.default_factory is dataclasses.MISSING}
        missing = required - set(entry)
        if missing:
            raise WeightsError(f"manifest entry {entry.get('name')!r} lacks "
                               f"{', '.join(sorted(missing))}; the manifest is damaged")
        _check_file_fields(entry)
        _check_figures(entry)
        card = cls(**{**entry, "name": WeightName.parse(entry["name"])})
        get_dataset(card.dataset)  # an unknown data set fails here, not when the card is used
        return card

    def to_manifest(self) -> dict:
        """The manifest entry: plain JSON types, the name as "arch.tag"."""
        entry = dataclasses.asdict(self)
        entry["name"] = str(self.name)
        if entry["recipe_hash"] is None:
            del entry["recipe_hash"]  # entries exported before the field existed stay as they were
        return entry


def _check_file_fields(entry: dict) -> None:
    """`file` must name a plain file inside the weights folder: a manifest that says
    "../../x" or "/etc/shadow" is refused, never followed. `size` and `sha256` must be what
    they claim to be, so that they can be checked before anything is deserialized."""
    name, file = entry.get("name"), entry.get("file")
    if not isinstance(file, str) or not file or file in (".", "..") or "/" in file or \
            "\\" in file or "\0" in file or Path(file).name != file:
        raise WeightsError(f"manifest entry {name!r}: file {file!r} is not a plain file name "
                           f"inside {WEIGHTS_DIR}; refused")
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise WeightsError(f"manifest entry {name!r}: size {size!r} is not a positive number of "
                           "bytes")
    digest = entry.get("sha256")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise WeightsError(f"manifest entry {name!r}: sha256 {digest!r} is not a SHA256 digest")


# The figures a card shows as percentages or counts. Fractions are of test examples: a value that
# is not a finite number in [0, 1] is a damaged manifest (1.7 would print "170.00%"), refused
# when the manifest is read, naming the entry and the field, rather than shown or crashed on by
# `zoo list`. None is allowed where the card allows it: no published bar, no recipe behind it.
_FRACTIONS = {"test_accuracy": False, "recipe_mean": True, "recipe_std": True,
              "target_acc": True}  # field: whether None is allowed
_COUNTS = {"params": False, "recipe_seeds": False, "seed": True}


def _is_number(value, kind=numbers.Real) -> bool:
    """numpy's numbers count (a card built in Python may hold them), booleans do not."""
    return isinstance(value, kind) and not isinstance(value, bool)


def _check_figures(entry: dict) -> None:
    """Accuracies are finite fractions in [0, 1]; parameter and seed counts whole numbers from
    0 (JSON's true is not a number here, though Python counts it as 1)."""
    name = entry.get("name")
    for field, may_be_none in _FRACTIONS.items():
        value = entry.get(field)
        if value is None and may_be_none:
            continue
        if not _is_number(value) or not math.isfinite(value) or not 0 <= value <= 1:
            raise WeightsError(f"manifest entry {name!r}: {field} {value!r} is not a fraction "
                               "from 0 to 1 (an accuracy of 99.5% is 0.995); the manifest is "
                               "damaged: reinstall the package or re-export the weights")
    for field, may_be_none in _COUNTS.items():
        value = entry.get(field)
        if value is None and may_be_none:
            continue
        if not _is_number(value, numbers.Integral) or value < 0:
            raise WeightsError(f"manifest entry {name!r}: {field} {value!r} is not a whole "
                               "number from 0; the manifest is damaged: reinstall the package "
                               "or re-export the weights")
