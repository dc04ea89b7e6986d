"""The shipped molecule weights: cards (task, units, split, metric), verified loading, prediction.

    weights.list_weights()                          # ["chemception.freesolv", ...]
    card = weights.weight_info("smiles_cnn.freesolv")
    weights.predict("smiles_cnn.freesolv", ["CCO"]) # [Answer(value=-4.6, ...)]

manifest.json (written by `python -m reproductions molecules --ship`) lists each file with its
SHA256 and size, what it predicts and in which units, the split it was trained and judged on, its
recipe's test figure over the declared seeds, and which seed was shipped: the one with the best
validation figure (the test set chose nothing). Loading checks size and SHA256 before Keras
deserializes anything (zoo.weights.load_file, safe mode).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

from zoo.lookup import lookup
from zoo.weights import WeightName, WeightsError
from zoo.weights.manifest import manifest_entries

WEIGHTS_DIR = Path(__file__).parent / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"


@dataclass(frozen=True)
class MoleculeCard:
    name: str  # "<net>.<tag>": smiles_cnn.freesolv
    net: str  # chemception | mol_conv | smiles_cnn (zoo.molecules.nets)
    dataset: str  # zoo.data.specs: freesolv/random, solubility/logs, solubility/class
    task: str  # regression | classification
    target: str  # what the value is ("hydration free energy"); "" for classes
    units: str  # of the value ("kcal/mol"); "" for classes
    classes: tuple[str, ...]  # () for a value
    split: str  # how its train, validation and test molecules were drawn
    metric: str  # the test figure below: "rmse" (in units) or "accuracy" (fraction)
    recipe: str  # reproductions/recipes/molecules.py: "<model>@<data set>"
    recipe_hash: str
    recipe_mean: float  # the recipe's test figure over its seeds (results/molecules.csv)
    recipe_std: float
    recipe_seeds: int
    seed: int  # the seed shipped: best validation figure among the recipe's seeds
    validation: float  # that seed's validation figure
    test: float  # that seed's test figure (read after the choice, reported, never used)
    sha256: str
    size: int
    license: str
    command: str  # what wrote the file and this entry

    @classmethod
    def from_manifest(cls, entry: dict) -> "MoleculeCard":
        known = {f.name for f in fields(cls)}
        unknown = set(entry) - known
        if unknown or known - set(entry):
            raise WeightsError(f"{MANIFEST}: entry {entry.get('name')!r} has unknown keys "
                               f"{sorted(unknown)} or lacks {sorted(known - set(entry))}; "
                               "reinstall the package")
        return cls(**{**entry, "classes": tuple(entry["classes"])})

    def to_manifest(self) -> dict:
        return {**asdict(self), "classes": list(self.classes)}

    @property
    def path(self) -> Path:
        return WEIGHTS_DIR / f"{self.name}.keras"

    def figure(self) -> str:
        """The recipe's test figure in words: "test RMSE 1.055 ± 0.005 kcal/mol over 3 seeds"."""
        seeds = f"over {self.recipe_seeds} seeds" if self.recipe_seeds > 1 else "one seed"
        if self.metric == "accuracy":
            spread = f" ± {100 * self.recipe_std:.1f}%" if self.recipe_seeds > 1 else ""
            return f"test accuracy {100 * self.recipe_mean:.1f}%{spread} {seeds}"
        spread = f" ± {self.recipe_std:.3f}" if self.recipe_seeds > 1 else ""
        return f"test RMSE {self.recipe_mean:.3f}{spread} {self.units} {seeds}"


@lru_cache(maxsize=None)
def cards(path: Path = MANIFEST) -> dict[str, MoleculeCard]:
    """Every shipped molecule weight's card by name, read once (zoo.weights' manifest reader)."""
    return {e["name"]: MoleculeCard.from_manifest(e) for e in manifest_entries(path)}


def list_weights() -> list[str]:
    return sorted(cards())


def is_molecule_weight(name) -> bool:
    return name in cards()


def nets() -> list[str]:
    """The molecule nets that have a shipped weight ("chemception", "smiles_cnn", ...)."""
    return sorted({WeightName.parse(n).arch for n in cards()})


def is_molecule_name(name: str) -> bool:
    """Whether a name given to the `zoo` command is a shipped molecule weight. A name of a molecule
    net that is not one is refused here, with the molecule weights: "smiles_cnn.nosuch" is an
    unknown molecule weight and "smiles_cnn" a net whose weights have names of their own, not
    unknown picture weights (the list the picture weights' lookup would give)."""
    if name in cards():
        return True
    arch = WeightName.parse(name).arch if WeightName.is_weight_name(name) else name
    if arch not in nets():
        return False
    if arch == name:
        own = [n for n in list_weights() if WeightName.parse(n).arch == arch]
        raise WeightsError(f"{name} is a molecule net; name one of its weights: "
                           f"{', '.join(own)} (zoo list shows every weight)")
    weight_info(name)  # raises: unknown, with the close names and the molecule weights
    return False  # not reached


def weight_info(name: str) -> MoleculeCard:
    return lookup(cards(), name, WeightsError, f"unknown molecule weight {name!r}",
                  "Shipped molecule weights")


def load(name: str):
    """The keras.Model of a shipped molecule weight, its file checked first."""
    from zoo.weights import load_file

    card = weight_info(name)
    return load_file(card.path, card.sha256, card.size)


@dataclass(frozen=True)
class Answer:
    smiles: str
    value: float | None  # regression: in the card's units
    probabilities: tuple[float, ...] = ()  # classification: one per card class


def inputs_of(card: MoleculeCard, smiles: list[str]):
    """What the net reads for these SMILES strings (MoleculeError for one it cannot read): the
    canonical SMILES, as codes or drawn, so that two writings of one molecule get one answer."""
    from zoo.molecules import featurize

    canonical = [featurize.canonical(s) for s in smiles]
    if card.net == "smiles_cnn":
        return featurize.encode(canonical)
    return featurize.images(canonical)


def predict(name: str, smiles: list[str], model=None, inputs=None) -> list[Answer]:
    """The answers of weight `name` for these SMILES strings (`inputs`: inputs_of's arrays for
    them, when the caller has already made them)."""
    card = weight_info(name)
    x = inputs_of(card, smiles) if inputs is None else inputs
    model = model or load(name)
    out = model.predict(x, verbose=0)
    if card.task == "classification":
        return [Answer(s, None, tuple(float(p) for p in row)) for s, row in zip(smiles, out)]
    return [Answer(s, float(v)) for s, v in zip(smiles, out.reshape(-1))]
