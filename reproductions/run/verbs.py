"""The `reproduce` verb's command line (its work: reproduce.py).

Each function declares one verb on the suite's parser and names the function that runs it
("module:function", imported only when the verb runs, so that `--help` stays quick);
reproductions/__main__.py lists them in the order of `--help`.
"""

from __future__ import annotations

from reproductions.arguments import (data_families, names_among, one_name_among, positive_int,
                                     recipe_names, recipe_override, seed_list)


def reproduce(sub):
    p = sub.add_parser("reproduce", help="train recipes over their seeds, then write the tables")
    p.add_argument("--recipes", default=[], type=names_among("recipe", recipe_names),
                   help="comma-separated recipe names (default: the recipes of --dataset but its "
                   "studies, such as conv3_bn_bf16, which train only by name); a model's "
                   "canonical recipe has its name")
    p.add_argument("--seeds", default=[], type=seed_list,
                   help="comma-separated seeds (default: the recipe's)")
    p.add_argument("--dataset", default="mnist", type=one_name_among(
                       "data set", data_families, "no recipe trains on {wrong}; data sets with "
                       "recipes: {valid}"),
                   help="the data set family when no recipe is named: mnist, xo, fsdd (with "
                   "its folds)")
    p.add_argument("--data-dir", default=None, help="folder with the data (else ZOO_DATA_DIR, "
                   "else tensorflow-datasets)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", type=recipe_override,
                   help="derive a variant of each recipe, with its own name and hash "
                   "(fields of reproductions/recipes/recipe.py, or schedule.<field>); repeatable")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="runs at once, each in its own process with its share of the cores "
                   "(default: one a core, measured fastest: reproductions/results/"
                   "reproduce_jobs_timing.md); --jobs 1: one process, one run after the other")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="TensorFlow's threads in each run's process (default: its share of the "
                   "cores); a run trained with other threads may end some test images apart, "
                   "so a weight's card names the threads of the run it came from")
    p.add_argument("--verbose", action="store_true", help="show MLflow's, TensorFlow's and "
                   "Keras' messages here too (default: in runs/logs/, and on each run)")
    # refused early if the store is bad; quiet: the console gets the plan, the progress line and
    # the tables, the rest goes to a log file (reproductions/run/console.py)
    p.set_defaults(needs_store=True, quiet=True)
    return p, "reproductions.run.reproduce:run"
