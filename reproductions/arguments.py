"""The argument types of the suite's verbs, shared by every room's verbs.py.

Every value is checked while the command line is parsed, before anything is loaded or written;
argparse then names the option and exits with code 2. They import only plain data (recipes, the
registry, the weight cards), never Keras or TensorFlow, and only when a value is checked.
"""

from __future__ import annotations

import argparse
import math
import re


def split_names(text: str) -> list[str]:
    return [t for t in (text or "").replace(",", " ").split() if t]


MAX_SEED = 2**32 - 1


def seed_list(text: str) -> list[int]:
    seeds = []
    for item in split_names(text):
        if not item.isdigit():  # "-1", "abc", "1.5"
            raise argparse.ArgumentTypeError(f"{item!r} is not a seed: seeds are whole numbers "
                                             "from 0, comma-separated, e.g. 1,2,3")
        seeds.append(int(item))
        if seeds[-1] > MAX_SEED:  # what TensorFlow's and numpy's seeds take
            raise argparse.ArgumentTypeError(f"{item} is not a seed: seeds go from 0 to "
                                             f"{MAX_SEED:,} (2**32 - 1)")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{text!r} repeats a seed")
    return seeds


def plain_name(text: str) -> str:
    """A name that becomes a file name and an MLflow search filter (tune --name): letters,
    digits, "_", "-" and "." inside, so that it can neither leave its folder ("../x") nor end
    a quoted filter ("a'b")."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text) or ".." in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a plain name: use letters, digits, "
                                         "'_', '-' and '.' (it names files and a search in "
                                         "MLflow), e.g. conv3-hyperband")
    return text


def positive_seconds(text: str) -> float:
    """A length of time: a finite number above 0 ("nan", "inf", "-5" and "0" are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def positive_int(text: str, least: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least or str(value) != text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {least}")
    return value


def int_from_0(text: str) -> int:
    return positive_int(text, least=0)


def names_among(kind: str, known, refusal: str = "unknown {kind} {wrong}; known: {valid}") -> callable:
    """A type accepting comma-separated names among `known()` (a list, read when parsing)."""
    def check(text: str) -> list[str]:
        names, valid = split_names(text), known()
        wrong = [n for n in names if n not in valid]
        if wrong:
            raise argparse.ArgumentTypeError(refusal.format(
                kind=kind, wrong=", ".join(map(repr, wrong)), valid=", ".join(valid)))
        return names
    check.__name__ = kind  # argparse's own messages name the type
    return check


def one_name_among(kind: str, known, refusal: str = "unknown {kind} {wrong}; known: {valid}"):
    many = names_among(kind, known, refusal)

    def check(text: str) -> str:
        names = many(text)
        if len(names) != 1:
            raise argparse.ArgumentTypeError(f"one {kind}, not {text!r}")
        return names[0]
    check.__name__ = kind
    return check


def recipe_override(text: str) -> str:
    """KEY=VALUE whose key is a recipe field or schedule.<field> (values are checked when the
    variant is derived, as the recipe's own checks)."""
    import dataclasses

    from reproductions.recipes import Recipe, parse_override

    try:
        key, _ = parse_override(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    fields = {f.name for f in dataclasses.fields(Recipe)} - {"name", "hash_only"}
    if key not in fields and not key.startswith("schedule."):
        raise argparse.ArgumentTypeError(f"a recipe has no field {key!r}; fields: "
                                         f"{', '.join(sorted(fields))}, schedule.<field>")
    return text


def reference_option(parser, committed: str) -> None:
    """--reference, for a verb that writes tables or pages: without it they go beside the store
    (tracking.store.results_folder), so that a user's run never overwrites the committed
    reference; with it, the committed `committed` is written, on purpose."""
    parser.add_argument("--reference", action="store_true", help=f"write the committed "
                        f"{committed} (deliberate: the reference) instead of beside the store")


def recipe_names():
    from reproductions.recipes import RECIPES

    return list(RECIPES)


def data_families():
    from reproductions.recipes import RECIPES

    return sorted({r.family for r in RECIPES.values()})


def model_names():
    import zoo

    return zoo.list_models()


def weight_names():
    import zoo

    return zoo.list_weights()


def ensemble_screening_names():
    from reproductions.recipes.ensemble_screening import ensemble_screening_names as declared

    return declared()


def screening_names():
    from reproductions.recipes import SCREENING

    return sorted(p.stem for p in SCREENING.glob("*.json"))
