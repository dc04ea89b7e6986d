"""Test-time views of a declared ensemble, as data (views/<ensemble's recipe>.json): candidate
sets of moves, each member reading the picture moved by whole pixels, and the rule that chooses
among them on validation (issue 28). The file is written, and committed, before any view is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reproductions.recipes.catalog import ENSEMBLES, get_recipe

VIEWS = Path(__file__).resolve().parent / "views"  # one file per ensemble


@dataclass(frozen=True)
class Views:
    """The candidates of one ensemble's views and what became of them."""

    ensemble: str  # the members' recipe; its members: ENSEMBLES[ensemble]
    candidates: dict  # name -> tuple of (rows, columns) moves, in the file's order; (0, 0) first
    rule: dict  # {"objective": "val_acc", "why": ...}
    chosen: str | None  # None: not chosen yet
    weight: str  # the name the choice ships under, when it is not the picture alone

    def shifts(self, name: str) -> tuple:
        return self.candidates[name]


def load_views(name: str, folder: Path | None = None) -> Views:
    folder = VIEWS if folder is None else folder
    path = folder / f"{name}.json"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(folder.glob("*.json")))
        raise ValueError(f"no views declared for {name!r} ({path}); declared: {known or 'none'}")
    data = json.loads(path.read_text())
    get_recipe(data["ensemble"])  # a known recipe
    if data["ensemble"] not in ENSEMBLES:
        raise ValueError(f"{path}: {data['ensemble']!r} declares no ensemble (ENSEMBLES)")
    candidates = {c["name"]: tuple(tuple(map(int, s)) for s in c["shifts"])
                  for c in data["candidates"]}
    for cname, shifts in candidates.items():
        if not shifts or shifts[0] != (0, 0) or len(set(shifts)) != len(shifts):
            raise ValueError(f"{path}: candidate {cname!r} must read the picture itself first, "
                             f"each move once; got {shifts}")
    if data["chosen"] is not None and data["chosen"] not in candidates:
        raise ValueError(f"{path}: chosen candidate {data['chosen']!r} is not among its "
                         f"candidates ({', '.join(candidates)})")
    return Views(data["ensemble"], candidates, data["rule"], data["chosen"], data["weight"])


def views_names(folder: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (VIEWS if folder is None else folder).glob("*.json"))
