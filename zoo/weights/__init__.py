"""Pretrained weights shipped inside the package: typed cards, verified before deserializing.

    zoo.load("conv3_bn.mnist")            # or zoo.create_model("conv3_bn", pretrained=True)
    zoo.list_weights()                    # every shipped weight, "arch.tag"
    card = zoo.weight_info("conv3_bn")    # its WeightCard: classes, input kind, metrics, recipe...
    WeightName.parse("conv3_bn.mnist")    # the one parser of weight names: arch, tag

manifest.json (written by `python -m reproductions export-weights`) lists each file with its
SHA256, size, parameter count, the test accuracy of THIS file, its recipe's mean and spread over
seeds, and the command that made it. It is read once into frozen WeightCard records; nothing
here imports Keras until a model is loaded. Loading checks size and SHA256 first, then
deserializes with safe_mode=True, so a tampered file or one carrying code is refused.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from zoo.data.idx import sha256_of
from zoo.data.specs import OfDataset, get_dataset
from zoo.dotted import resolve
from zoo.lookup import lookup

WEIGHTS_DIR = Path(__file__).resolve().parent
MANIFEST = WEIGHTS_DIR / "manifest.json"
DEFAULT_TAG = "mnist"
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


@lru_cache(maxsize=None)
def cards(path: Path = MANIFEST) -> dict[str, WeightCard]:
    """Every shipped weight's card by name, read once from the manifest."""
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise WeightsError(f"{path}: not valid JSON ({err}); the manifest is truncated or "
                           "damaged: reinstall the package or re-export the weights") from err
    if not isinstance(entries, list):
        raise WeightsError(f"{path}: expected a list of weight entries, found "
                           f"{type(entries).__name__}; the manifest is damaged")
    return {str(c.name): c for c in map(WeightCard.from_manifest, entries)}


def list_weights(pattern: str | None = None) -> list[str]:
    """Every shipped weight name ("arch.tag"), sorted; `pattern` filters like "conv3*"."""
    return sorted(n for n in cards() if pattern is None or fnmatch.fnmatchcase(n, pattern))


def default_weight(model: str) -> str:
    """The default weight name of a model: its ".mnist" one, else its only shipped one."""
    own = [n for n, c in cards().items() if c.arch == model]
    default = str(WeightName(model, DEFAULT_TAG))
    return default if default in own or len(own) != 1 else own[0]


def weight_info(name: str) -> WeightCard:
    """The card of weight `name`; a bare model name means its default weight ("conv3_bn" means
    "conv3_bn.mnist"; a model trained on other data: its one shipped weight, "audio_conv.fsdd")."""
    full = name if WeightName.is_weight_name(name) else default_weight(name)
    return lookup(cards(), full, WeightsError, f"no shipped weights named {full!r}", "Shipped")


def verify(path: Path, sha256: str) -> None:
    """Raise WeightsError unless the file at `path` has this SHA256; reads nothing else."""
    if not path.is_file():
        raise WeightsError(f"{path}: weight file missing; reinstall the package or run "
                           "`python -m reproductions export-weights`")
    actual = sha256_of(path)
    if actual != sha256:
        raise WeightsError(f"{path}: SHA256 mismatch, expected {sha256}, got {actual}; the file "
                           "was altered or damaged, and was not loaded")


def read_verified(path: Path, sha256: str, size: int | None = None) -> bytes:
    """The bytes of `path`, read once, whose size (checked first, from the file system) and
    SHA256 are the expected ones: what is deserialized is then exactly what was hashed."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weight file missing; reinstall the package or run "
                           "`python -m reproductions export-weights`")
    if size is not None and path.stat().st_size != size:
        raise WeightsError(f"{path}: {path.stat().st_size} bytes where the manifest says {size};"
                           " the file was altered or damaged, and was not loaded")
    with open(path, "rb") as f:
        raw = f.read() if size is None else f.read(size + 1)  # never more than announced
    if size is not None and len(raw) != size:
        raise WeightsError(f"{path}: changed while it was read; not loaded")
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise WeightsError(f"{path}: SHA256 mismatch, expected {sha256}, got {actual}; the file "
                           "was altered or damaged, and was not loaded")
    return raw


def _deserialize(path: Path, source):
    """keras.saving.load_model(source) in safe mode, its refusals as WeightsError."""
    # Keras is imported here, when a model is loaded, not when the zoo is imported or listed.
    import keras

    import zoo.layers  # noqa: F401  (registers the zoo's layers for deserialization)

    try:
        return keras.saving.load_model(source, safe_mode=True, compile=False)
    except ValueError as err:
        if "lambda" in str(err).lower() or "safe_mode" in str(err):
            raise WeightsError(f"{path}: refused, the file holds a Lambda layer (code that would "
                               "run on load); the zoo loads only safe files") from err
        raise WeightsError(f"{path}: not a loadable Keras model ({err})") from err


def load_file(path: str | Path, sha256: str | None = None, size: int | None = None):
    """A keras.Model from a .keras file, loaded safely. With `sha256` (and `size`), the file is
    read once, checked, and those same bytes are loaded, from a private temporary copy (Keras
    reads .keras archives from a path): replacing the file after the check changes nothing."""
    path = Path(path)
    if sha256 is None:
        return _deserialize(path, path)
    raw = read_verified(path, sha256, size)
    with tempfile.TemporaryDirectory(prefix="zoo-weights-") as private:  # mode 0700, ours
        copy = Path(private) / "verified.keras"
        copy.write_bytes(raw)
        return _deserialize(path, copy)


def load(name: str):
    """The shipped model `name` ("conv3_bn.mnist"), verified against its card."""
    card = weight_info(name)
    return load_file(card.path, card.sha256, card.size)


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Test accuracy as the manifest records it: argmax of predict, in order, batches of 1000."""
    pred = model.predict(x, batch_size=batch_size, verbose=0).argmax(axis=1)
    return float(np.mean(pred == np.asarray(y)))
