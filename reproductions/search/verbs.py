"""The search room's verbs: their command lines (their work: tune.py, screen.py,
ensemble_screen.py).

Each function declares one verb on the suite's parser and names the function that runs it
("module:function", imported only when the verb runs, so that `--help` stays quick);
reproductions/__main__.py lists them in the order of `--help`.
"""

from __future__ import annotations

from reproductions.arguments import (ensemble_screening_names, one_name_among, plain_name,
                                     positive_int, recipe_names, reference_option,
                                     screening_names)


def tune(sub):
    p = sub.add_parser("tune", help="a KerasTuner search around a recipe, tracked in MLflow")
    p.add_argument("--recipe", default="conv3", type=one_name_among("recipe", recipe_names))
    p.add_argument("--tuner", default="hyperband", choices=("bayesian", "hyperband", "random"))
    p.add_argument("--max-trials", type=positive_int, default=10, help="random and bayesian only")
    p.add_argument("--max-epochs", type=positive_int, default=4, help="epochs per trial (at most)")
    p.add_argument("--train-subset", type=positive_int, default=None)
    p.add_argument("--dir", default=None, help="KerasTuner's folder, shared by the chief and "
                   "every worker (default: runs/tuning in the repository)")
    p.add_argument("--name", default=None, type=plain_name,
                   help="search name (default: recipe-tuner)")
    p.add_argument("--data-dir", default=None)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--export-dir", default=None, help="folder the tuned recipe is written "
                       "to (default: reproductions/recipes/tuned, where the suite's recipes are "
                       "read from), and the search's record to its searches/ folder")
    where.add_argument("--reference", action="store_true", help="replace the committed tuned "
                       "recipe and search record there (deliberate: the reference); without it "
                       "a search that would replace them is refused before it starts")
    p.add_argument("--objective", default="val_accuracy", choices=("val_accuracy", "val_loss"),
                   help="what the trials are ranked by, on the validation split")
    p.add_argument("--hyperband-iterations", type=positive_int, default=1,
                   help="hyperband only: how many times the whole set of brackets is run")
    p.set_defaults(needs_store=True, keras=True)  # __main__: store checked, Keras quiet
    return p, "reproductions.search.tune:run"


def screen(sub):
    p = sub.add_parser("screen", help="train a screening's variants (screening/<name>.json) "
                       "and write its table from the store")
    p.add_argument("name", nargs="?", default="conv3_bn_fast", type=one_name_among(
                   "screening", screening_names, "no screening {wrong}; screenings: {valid}"))
    p.add_argument("--report", action="store_true", help="only write the table")
    reference_option(p, "table, reproductions/results/<name>_screening.*")
    p.set_defaults(needs_store=True, keras=True)  # __main__: store checked, Keras quiet
    return p, "reproductions.search.screen:run"


def ensemble_screen(sub):
    p = sub.add_parser("ensemble-screen", help="choose, blind on validation, among candidate "
                       "ensembles of trained nets (recipes/ensembles/<name>.json)")
    p.add_argument("name", type=one_name_among(
                   "ensemble screening", ensemble_screening_names, "no ensemble screening "
                   "{wrong}; declared: {valid}"), help="the screening, e.g. conv7_bn_views")
    reference_option(p, "table, reproductions/results/<name>_ensemble_screening.*")
    p.set_defaults(needs_store=True, keras=True)  # __main__: store checked, Keras quiet
    return p, "reproductions.search.ensemble_screen:run"
