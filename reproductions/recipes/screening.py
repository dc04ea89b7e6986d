"""Screenings: variants of a recipe judged on validation figures only, as data files
(screening/<name>.json), each variant derived from its base recipe as `--set` derives one.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from reproductions.recipes.catalog import RECIPES, collect, get_recipe
from reproductions.recipes.recipe import derive

SCREENING = Path(__file__).resolve().parent / "screening"  # one file per screening


# ---- screenings: variants of a recipe, as data ------------------------------------------------

@dataclass(frozen=True)
class Screening:
    """Variants of one recipe judged on validation figures (screening/<name>.json)."""

    name: str
    base: str  # the recipe the variants derive from
    chosen: str | None  # the variant that became a recipe; None: not screened yet
    variants: dict  # name -> Recipe, in the file's order
    recipe: str | None = None  # the recipe the chosen variant became
    overlap_note: str = ""  # why some variants share a reported seed (history, not a rule)
    rule: dict | None = None  # how the choice is made: {"objective", "max_wall_s", "why"}
    status: str = ""  # where the recipe stands against the choice, when they differ


def load_screening(name: str, folder: Path = SCREENING) -> Screening:
    """A screening file: {"base": recipe, "chosen": variant, "variants": [{"name", "notes",
    "set": {overrides}, "hash_only": {...}?}, ...]}; each variant is derive(base, set)."""
    path = folder / f"{name}.json"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(folder.glob("*.json")))
        raise ValueError(f"no screening {name!r} ({path}); known: {known or 'none'}")
    data = json.loads(path.read_text())
    base = get_recipe(data["base"])
    variants = collect((), [
        (dataclasses.replace(derive(base, v["set"], name=v["name"], notes=v["notes"]),
                             hash_only=tuple(v.get("hash_only", {}).items())), str(path))
        for v in data["variants"]])
    if data["chosen"] is not None and data["chosen"] not in variants:
        raise ValueError(f"{path}: chosen variant {data['chosen']!r} is not among its variants")
    for vname, variant in variants.items():
        if variant.validation_size == 0:  # a published recipe's or a refit's split, none
            raise ValueError(f"{path}: variant {vname!r} has no validation split, and a "
                             "screening chooses on validation; screen from a recipe with one "
                             "(a refit's: the recipe it refits)")
    recipe = data.get("recipe")
    overlap = data.get("reported_seed_overlap", {})
    if recipe is not None:
        # screening seeds are never reported seeds: a seed the choice has seen would flatter the
        # recipe; the one recorded exception (history) is named in the file and in the table
        # a refit of the choice reports seeds too (its runs learn the validation images)
        reported = set(get_recipe(recipe).seeds).union(*(
            r.seeds for r in RECIPES.values() if r.refit_of == recipe))
        for vname, variant in variants.items():
            shared = reported & set(variant.seeds)
            allowed = set(overlap.get("seeds", ())) if vname in overlap.get("variants", ()) \
                else set()
            if shared - allowed:
                raise ValueError(f"{path}: variant {vname!r} screens on seed(s) "
                                 f"{sorted(shared - allowed)}, reported seeds of {recipe!r}; "
                                 "screen on seeds the recipe never reports")
    return Screening(name, data["base"], data["chosen"], variants, recipe,
                     overlap.get("why", ""), data.get("rule"), data.get("recipe_status", ""))
