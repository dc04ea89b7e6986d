"""The molecule recipes (issue #29), as data: one per (model, data set), seeds declared here.

Four tasks (zoo.data.specs): FreeSolv's hydration free energy on a random and on a scaffold split,
the solubility set's logS and its three classes. On each, six rows:

    chemception   the Chemception-style net on RDKit drawings (zoo.molecules.nets)
    mol_conv      the zoo's plain conv net on the same drawings
    smiles_cnn    the 1-D character CNN on SMILES, trained on random SMILES of each molecule
    rf            random forest on Morgan fingerprints (radius 2, 2,048 bits): the field's baseline
    linear        ridge regression (logistic regression for classes) on RDKit's descriptors, its
                  strength chosen on validation
    mean          the floor: the training mean (the most frequent class)
    calc          FreeSolv only: its own alchemical estimate, physics without learning

Every choice is made on validation molecules: the nets' checkpoint (early stopping on validation
loss, best weights restored) and the linear model's strength; the settings below were written
before any training and no test figure changed them. The nets' settings are one reasonable
configuration each, not searched.

A recipe's hash names its version in the MLflow store (experiment zoo-molecules) and on weight
cards; deterministic rows (linear, mean, calc: no seed changes them) are trained once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

NETS = ("chemception", "mol_conv", "smiles_cnn")
BASELINES = ("rf", "linear", "mean", "calc")
DATASETS = ("freesolv/random", "freesolv/scaffold", "solubility/logs", "solubility/class")
SEEDS = (1, 2, 3)  # declared before training; the same three for every seeded row


@dataclass(frozen=True)
class MoleculeRecipe:
    model: str  # a net of NETS or a baseline of BASELINES
    dataset: str  # a molecule data set of zoo.data.specs
    seeds: tuple[int, ...] = SEEDS
    epochs: int = 0  # nets: the most passes over the training molecules (early stopping may end
    # sooner)
    patience: int = 0  # nets: passes without a better validation loss before stopping
    batch_size: int = 32
    learning_rate: float = 1e-3  # Adam
    enumerations: int = 0  # smiles_cnn: random SMILES of each training molecule a pass
    trees: int = 500  # rf
    fingerprint_bits: int = 2048  # rf: Morgan fingerprint
    fingerprint_radius: int = 2
    strengths: tuple[float, ...] = ()  # linear: the ridge alphas (1/C for classes) to choose from

    @property
    def name(self) -> str:
        return f"{self.model}@{self.dataset}"

    @property
    def deterministic(self) -> bool:
        """No seed changes the result: trained once, its seeds collapse to the first."""
        return self.model in ("linear", "mean", "calc")

    @property
    def trained_seeds(self) -> tuple[int, ...]:
        return self.seeds[:1] if self.deterministic else self.seeds

    def hash(self) -> str:
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def params(self) -> dict:
        """The recipe as MLflow params (every field, written into every run)."""
        return {k: str(v) for k, v in dataclasses.asdict(self).items()}


_NET_SETTINGS = {
    "chemception": dict(epochs=100, patience=15),
    "mol_conv": dict(epochs=100, patience=15),
    # a pass reads each training molecule as `enumerations` random SMILES: fewer passes
    "smiles_cnn": dict(epochs=40, patience=8, enumerations=8),
}
_STRENGTHS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def _recipe(model: str, dataset: str) -> MoleculeRecipe:
    if model in NETS:
        return MoleculeRecipe(model, dataset, **_NET_SETTINGS[model])
    if model == "linear":
        return MoleculeRecipe(model, dataset, strengths=_STRENGTHS)
    return MoleculeRecipe(model, dataset)


def _applies(model: str, dataset: str) -> bool:
    return model != "calc" or dataset.startswith("freesolv")


RECIPES: dict[str, MoleculeRecipe] = {
    r.name: r for r in (_recipe(m, d) for d in DATASETS for m in (*NETS, *BASELINES)
                        if _applies(m, d))}

# The shipped weights: each net on each task's main split (the scaffold split measures how the
# same task generalizes to new frameworks; its nets are not shipped). Weight name: <net>.<tag>.
SHIPPED_TAGS = {"freesolv/random": "freesolv", "solubility/logs": "solubility",
                "solubility/class": "solubility_class"}


@dataclass(frozen=True)
class Published:
    """A figure a source gives on the same data, quoted verbatim, and the rows judged by it."""

    label: str  # a few words for the table
    dataset: str
    models: tuple[str, ...]  # the rows of this data set judged against it (two-sided)
    value: float  # in the table's metric and units
    spread: float  # the source's own ± (its std over runs), 0 where it gives none
    quote: str  # the source's words, verbatim
    source: str
    note: str  # how its protocol differs from these runs


# Only figures read in their source's own words. MoleculeNet's per-model table (its Table 8:
# random forest, graph models, ...) was not readable here and is not quoted; Chemception's FreeSolv
# figures exist only as bar charts.
PUBLISHED: tuple[Published, ...] = (
    Published("MoleculeNet's best, 2018", "freesolv/random", NETS, 1.15, 0.12,
              "FreeSolv | 642 | RMSE | 1.075 ± 0.054 | 1.15 ± 0.12",
              "Chemprop's README, Results (github.com/chemprop/chemprop at 9e72b27), column "
              "\"MolNet Best Model\": the best of MoleculeNet's models as reported by Wu et al. "
              "2018",
              "MoleculeNet's best of its 8 FreeSolv models, each tuned by a Gaussian-process "
              "search, mean of 3 random 80/10/10 splits; here one other random split, untuned "
              "nets: a bar of the state of the art in 2018, not the same model"),
    Published("MoleculeNet on calculations", "freesolv/random", ("calc",), 1.5, 0.0,
              "RMSE for calculated results reached up to 1.5 kcal/mol.",
              "MoleculeNet (Wu et al., Chem. Sci. 2018, 9, 513; arXiv 1703.00564v3, on FreeSolv)",
              "over all of FreeSolv's calculated values, not one split's test molecules"),
)


def published_for(model: str, dataset: str) -> Published | None:
    return next((p for p in PUBLISHED if p.dataset == dataset and model in p.models), None)


def recipes_for(models=None, datasets=None) -> list[MoleculeRecipe]:
    return [r for r in RECIPES.values()
            if (not models or r.model in models) and (not datasets or r.dataset in datasets)]
