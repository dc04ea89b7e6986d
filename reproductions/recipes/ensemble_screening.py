"""Ensemble screenings, as data (ensembles/<name>.json): candidate ensembles of trained nets, each
a set of members (recipe, seed) and the views every member reads (the picture moved by whole
pixels), and the rule that chooses among them on validation (issue 28). No candidate trains
anything of its own: members are runs of declared recipes and seeds. The file is written, and
committed, before any candidate is read.

The first candidate is the shipped ensemble as it is: the members its recipe declares
(ENSEMBLES) reading the picture alone, so that every other candidate is judged against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reproductions.recipes.catalog import ENSEMBLES, get_recipe

ENSEMBLE_SCREENING = Path(__file__).resolve().parent / "ensembles"  # one file per screening
# the picture alone: zoo.models.ensemble.PICTURE, written again so that the recipes load without
# Keras (tests/test_ensemble_screening.py checks the two agree)
PICTURE = ((0, 0),)


@dataclass(frozen=True)
class Candidate:
    members: tuple  # ((recipe, seed), ...), sorted by seed, then recipe
    shifts: tuple  # ((rows, columns), ...): the views each member reads; (0, 0) first

    @property
    def recipes(self) -> tuple:
        return tuple(sorted({recipe for recipe, _ in self.members}))


@dataclass(frozen=True)
class EnsembleScreening:
    """The candidates of one ensemble screening and what became of them."""

    name: str
    ensemble: str  # the shipped ensemble's recipe (ENSEMBLES): its default members and its net
    candidates: dict  # name -> Candidate, in the file's order
    rule: dict  # {"objective": "val_acc", "why": ...}
    chosen: str | None  # None: not chosen yet
    weight: str  # the name a choice other than the first candidate ships under
    status: str = ""


def _known(recipe: str, path: Path) -> None:
    try:
        get_recipe(recipe)
    except KeyError as err:
        raise ValueError(f"{path}: {err.args[0]}") from None


def _members(data: dict, default: str, path: Path) -> tuple:
    members = data.get("members", {default: list(ENSEMBLES[default])})
    pairs = []
    for recipe, seeds in members.items():
        _known(recipe, path)
        if get_recipe(recipe).validation_size == 0:  # a refit's nets learned those images
            raise ValueError(f"{path}: candidate {data['name']!r}: {recipe} trains on every "
                             "training image, the validation images a screening reads included; "
                             "its nets cannot be screened (name nets of a recipe with a split)")
        pairs += [(recipe, int(seed)) for seed in seeds]
    if len(pairs) < 1 or len(set(pairs)) != len(pairs):
        raise ValueError(f"{path}: candidate {data['name']!r} must name each member once")
    return tuple(sorted(pairs, key=lambda p: (p[1], p[0])))


def load_ensemble_screening(name: str, folder: Path | None = None) -> EnsembleScreening:
    folder = ENSEMBLE_SCREENING if folder is None else folder
    path = folder / f"{name}.json"
    if not path.is_file():
        known = ", ".join(ensemble_screening_names(folder))
        raise ValueError(f"no ensemble screening {name!r} ({path}); declared: {known or 'none'}")
    data = json.loads(path.read_text())
    base = data["ensemble"]
    _known(base, path)
    if base not in ENSEMBLES:
        raise ValueError(f"{path}: {base!r} declares no ensemble (ENSEMBLES)")
    candidates = {}
    for c in data["candidates"]:
        shifts = tuple(tuple(map(int, s)) for s in c.get("shifts", PICTURE))
        if not shifts or shifts[0] != (0, 0) or len(set(shifts)) != len(shifts):
            raise ValueError(f"{path}: candidate {c['name']!r} must read the picture itself "
                             f"first, each move once; got {shifts}")
        candidates[c["name"]] = Candidate(_members(c, base, path), shifts)
    first = next(iter(candidates.values()))
    shipped = Candidate(tuple((base, s) for s in sorted(ENSEMBLES[base])), PICTURE)
    if first != shipped:
        raise ValueError(f"{path}: the first candidate must be the shipped ensemble as it is (the "
                         f"{base} nets of seeds {', '.join(map(str, sorted(ENSEMBLES[base])))}, "
                         "the picture alone)")
    if data["chosen"] is not None and data["chosen"] not in candidates:
        raise ValueError(f"{path}: chosen candidate {data['chosen']!r} is not among its "
                         f"candidates ({', '.join(candidates)})")
    return EnsembleScreening(name, base, candidates, data["rule"], data["chosen"],
                             data["weight"], data.get("status", ""))


def ensemble_screening_names(folder: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (ENSEMBLE_SCREENING if folder is None else folder)
                  .glob("*.json"))
