"""The shipped weights' manifest (manifest.json): read once into cards, listed and looked up.

manifest.json (written by `python -m reproductions export-weights`) lists each file with its
SHA256, size, parameter count, the test accuracy of THIS file, its recipe's mean and spread over
seeds, and the command that made it. `cards()` reads it once into frozen WeightCard records
(zoo.weights.card); listing and looking up weights reads those, never a .keras file, and imports
no Keras.
"""

from __future__ import annotations

import fnmatch
import json
from functools import lru_cache
from pathlib import Path

from zoo.lookup import lookup
from zoo.weights.card import WEIGHTS_DIR, WeightCard, WeightName, WeightsError

MANIFEST = WEIGHTS_DIR / "manifest.json"
DEFAULT_TAG = "mnist"


def manifest_entries(path: Path) -> list:
    """The entries of a weights manifest (a JSON list; [] where there is no file), or
    WeightsError saying what is damaged. The molecule weights' manifest is read with it too."""
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise WeightsError(f"{path}: not valid JSON ({err}); the manifest is truncated or "
                           "damaged: reinstall the package or re-export the weights") from err
    if not isinstance(entries, list):
        raise WeightsError(f"{path}: expected a list of weight entries, found "
                           f"{type(entries).__name__}; the manifest is damaged")
    return entries


@lru_cache(maxsize=None)
def cards(path: Path = MANIFEST) -> dict[str, WeightCard]:
    """Every shipped weight's card by name, read once from the manifest."""
    return {str(c.name): c for c in map(WeightCard.from_manifest, manifest_entries(path))}


def list_weights(pattern: str | None = None) -> list[str]:
    """Every shipped weight name ("arch.tag"), sorted; `pattern` filters like "conv3*"."""
    return sorted(n for n in cards() if pattern is None or fnmatch.fnmatchcase(n, pattern))


def default_weight(model: str) -> str:
    """The default weight name of a model: its ".mnist" one, else its only shipped one."""
    own = [n for n, c in cards().items() if c.arch == model]
    default = str(WeightName(model, DEFAULT_TAG))
    return default if default in own or len(own) != 1 else own[0]


def shipped_name(name: str) -> str:
    """The weight a user means by `name`, the one reading of it for every command and page: a
    weight name ("conv3_bn.mnist") as given; a bare model name its default weight when that ships
    ("lenet5" -> "lenet5.mnist", "audio_conv" -> "audio_conv.fsdd"); anything else unchanged, so
    the caller's own lookup refuses it by the name the user typed (or builds fresh weights)."""
    if WeightName.is_weight_name(name):
        return name
    default = default_weight(name)
    return default if default in cards() else name


def weight_info(name: str) -> WeightCard:
    """The card of weight `name`; a bare model name means its default weight ("conv3_bn" means
    "conv3_bn.mnist"; a model trained on other data: its one shipped weight, "audio_conv.fsdd")."""
    said = shipped_name(name)
    # a model name with no weight of its own: named as typed, its close matches "<model>.mnist"'s
    full = said if WeightName.is_weight_name(said) else default_weight(name)
    hint = ("" if "/" not in name and not name.endswith(".keras") else
            " (a shipped weight's name, not a file: a .keras file of your own loads with "
            "keras.saving.load_model)")
    return lookup(cards(), full, WeightsError, f"no shipped weights named {said!r}{hint}",
                  "Shipped")
