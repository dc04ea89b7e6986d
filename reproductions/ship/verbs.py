"""The ship room's verbs: their command lines (their work: export_weights.py, ensemble.py,
robustness.py, publish.py).

Each function declares one verb on the suite's parser and names the function that runs it
("module:function", imported only when the verb runs, so that `--help` stays quick);
reproductions/__main__.py lists them in the order of `--help`.
"""

from __future__ import annotations

from reproductions.arguments import (ensemble_screening_names, names_among, one_name_among,
                                     positive_int, recipe_names, seed_list, weight_names)
from zoo.ports import port_number


def shipped_datasets():
    from reproductions.ship.naming import DEFAULT_TAGS

    return list(DEFAULT_TAGS)


def export_weights(sub):
    p = sub.add_parser("export-weights", help="ship the reproductions' weights in zoo/weights "
                       "(manifest.json, zoo/MODELS.md)")
    p.add_argument("datasets", nargs="*", default=["mnist", "xo", "fsdd"],
                   type=one_name_among("data set", shipped_datasets, "export-weights takes data sets "
                                "with shipped weights ({valid}), not {wrong}"))
    p.set_defaults(needs_store=True, keras=True)  # __main__: store checked, Keras quiet
    return p, "reproductions.ship.export_weights:run"


def register(sub):
    p = sub.add_parser("register", help="register the shipped weights in the MLflow model "
                       "registry (models:/<arch>@<tag>)")
    p.add_argument("names", nargs="*", type=one_name_among("shipped weight", weight_names),
                   help="shipped weights (default: all)")
    p.add_argument("--verbose", action="store_true", help="show MLflow's, TensorFlow's and "
                   "Keras' messages here too (default: in runs/logs/)")
    # quiet: the console gets each weight's model URI, MLflow's registry lines go to a log
    p.set_defaults(needs_store=True, quiet=True)
    return p, "reproductions.ship.publish:register_run"


def ensemble(sub):
    p = sub.add_parser("ensemble", help="ship a recipe's trained members as one averaged "
                       "model (<net>_ensemble.mnist; a refit's: <net>_ensemble.<its tag>) and "
                       "write the spread of its sub-ensembles")
    p.add_argument("recipe", type=one_name_among("recipe", recipe_names),
                   help="the members' recipe, e.g. conv7_bn_cosine (its declared members: "
                   "ENSEMBLES)")
    p.add_argument("--seeds", type=seed_list,
                   help="the member seeds, FINISHED runs (default: the recipe's declared members)")
    p.add_argument("--pace-of", type=one_name_among("recipe", recipe_names),
                   help="a recipe whose committed runs train the same net on the reference "
                   "machine kind: the members' time is also given scaled to that kind")
    p.add_argument("--screening", type=one_name_among(
                   "ensemble screening", ensemble_screening_names,
                   "no ensemble screening {wrong}; declared: {valid}"),
                   help="ship the candidate an ensemble screening chose on validation "
                   "(recipes/ensembles/<name>.json), under the name it declares")
    # __main__: its arguments checked first, before the store and Keras; then Keras quiet
    p.set_defaults(needs_store=True, keras=True, check="reproductions.ship.ensemble:asked")
    return p, "reproductions.ship.ensemble:run"


def robustness(sub):
    p = sub.add_parser("robustness", help="every shipped weight's accuracy on a shifted, "
                       "rotated and noisy test set (results/robustness.csv, zoo/MODELS.md)")
    p.add_argument("--weights", default="", type=names_among(
                       "weight", weight_names, "no shipped weight {wrong}; shipped: {valid}"),
                   help="comma-separated shipped weights (default: "
                   "all; the CSV keeps the others' rows)")
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.ship.robustness:run"


def explain(sub):
    p = sub.add_parser("explain", help="zoo explain, also logged to MLflow (experiment "
                       "zoo-explain)")
    p.add_argument("model", help="a shipped weight (conv3_bn.mnist) or a model name")
    p.add_argument("input", help="an MNIST test index, X or O, or a picture of a digit")
    p.add_argument("--out", default=None, help="folder for the pages (default: runs/explain)")
    p.set_defaults(needs_store=True, keras=True)  # __main__: store checked, Keras quiet
    return p, "reproductions.ship.publish:explain_run"


def serve(sub):
    p = sub.add_parser("serve", help="MLflow's scoring protocol for a shipped weight, registered "
                       "first if needed (models:/<arch>@<tag>), one worker per core")
    p.add_argument("model", help="a shipped weight, e.g. conv3_bn.mnist (zoo list)")
    p.add_argument("--host", default="127.0.0.1", help="the server has no authentication: bind "
                   "elsewhere only on a network you trust")
    p.add_argument("--port", type=port_number, default=5001)
    p.add_argument("--workers", type=positive_int, default=None,
                   help="server processes (default: one per core)")
    return p, "reproductions.ship.publish:serve_run"
