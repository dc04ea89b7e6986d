"""The training suite's one command: `python -m reproductions <verb> [arguments]`.

    python -m reproductions reproduce --recipes conv3_bn --seeds 1,2,3   # make reproduce-mnist
    python -m reproductions reproduce --recipes conv3 --set steps=2000 --set schedule.lr_max=0.01
    python -m reproductions report mnist                                   # make report-mnist
    python -m reproductions export-weights [mnist xo fsdd]                 # make zoo-weights
    python -m reproductions register [conv3_bn.mnist ...]                  # make register-zoo
    python -m reproductions tune --recipe conv3 --tuner hyperband          # make tune-mnist
    python -m reproductions screen conv3_bn_fast [--report]
    python -m reproductions ensemble conv7_bn --seeds 1,2,3,4
    python -m reproductions time-to-accuracy                               # make time-to-accuracy
    python -m reproductions robustness                                     # make robustness
    python -m reproductions bench | bench-training                         # make bench ...
    python -m reproductions profile conv3_bn --steps 200                  # make profile
    python -m reproductions bench-peers --rounds 5                         # make bench-peers
    python -m reproductions time-alternating conv3_bn_fast conv3_bn_60s/h_b  # make time-alternating
    python -m reproductions bench-logging                                  # MLflow logging's cost
    python -m reproductions xo-lecture                                     # make reproduce-xo
    python -m reproductions explain conv3_bn.mnist 7                       # zoo explain + MLflow
    python -m reproductions serve conv3_bn.mnist --port 5001               # make serve
    python -m reproductions bench-export [--weights 'conv3*']              # make bench-export

Every verb's arguments are declared here, in one style; each verb's work is a `run(args)`
function of its module, imported only when that verb runs (so `--help` is quick). Outputs go
where the repository keeps them (reproductions/results/, zoo/weights/, runs/), whatever the
current folder. The library's own command is `zoo` (zoo/cli.py).
"""

from __future__ import annotations

import argparse
import sys

from zoo.dotted import resolve


# Argument types: every value is checked while the command line is parsed, before anything is
# loaded or written; argparse then names the option and exits with code 2. They import only
# plain data (recipes, the registry, the weight cards), never Keras or TensorFlow.

def _names(text: str) -> list[str]:
    return [t for t in (text or "").replace(",", " ").split() if t]


def _seeds(text: str) -> list[int]:
    seeds = []
    for item in _names(text):
        if not item.isdigit():  # "-1", "abc", "1.5"
            raise argparse.ArgumentTypeError(f"{item!r} is not a seed: seeds are whole numbers "
                                             "from 0, comma-separated, e.g. 1,2,3")
        seeds.append(int(item))
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{text!r} repeats a seed")
    return seeds


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 or str(value) != text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return value


def _known(kind: str, known, refusal: str = "unknown {kind} {wrong}; known: {valid}") -> callable:
    """A type accepting comma-separated names among `known()` (a list, read when parsing)."""
    def check(text: str) -> list[str]:
        names, valid = _names(text), known()
        wrong = [n for n in names if n not in valid]
        if wrong:
            raise argparse.ArgumentTypeError(refusal.format(
                kind=kind, wrong=", ".join(map(repr, wrong)), valid=", ".join(valid)))
        return names
    check.__name__ = kind  # argparse's own messages name the type
    return check


def _one_of(kind: str, known, refusal: str = "unknown {kind} {wrong}; known: {valid}"):
    many = _known(kind, known, refusal)

    def check(text: str) -> str:
        names = many(text)
        if len(names) != 1:
            raise argparse.ArgumentTypeError(f"one {kind}, not {text!r}")
        return names[0]
    check.__name__ = kind
    return check


def _override(text: str) -> str:
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


def _recipe_names():
    from reproductions.recipes import RECIPES

    return list(RECIPES)


def _families():
    from reproductions.recipes import RECIPES

    return sorted({r.family for r in RECIPES.values()})


def _model_names():
    import zoo

    return zoo.list_models()


def _weight_names():
    import zoo

    return zoo.list_weights()


def _screenings():
    from pathlib import Path

    return sorted(p.stem for p in (Path(__file__).parent / "screening").glob("*.json"))


def _training_variants():
    from reproductions.bench_training import VARIANTS

    return [v.name for v in VARIANTS]


def _shipped_datasets():
    from reproductions.export_weights import DEFAULT_TAGS

    return list(DEFAULT_TAGS)


def _verbs(sub):
    """(verb, its run function as "module:function"), declaring each verb's arguments."""
    p = sub.add_parser("reproduce", help="train recipes over their seeds, then write the tables")
    p.add_argument("--recipes", default=[], type=_known("recipe", _recipe_names),
                   help="comma-separated recipe names (default: all recipes of --dataset); a "
                   "model's canonical recipe has its name")
    p.add_argument("--seeds", default=[], type=_seeds,
                   help="comma-separated seeds (default: the recipe's)")
    p.add_argument("--dataset", default="mnist", type=_one_of(
                       "data set", _families, "no recipe trains on {wrong}; data sets with "
                       "recipes: {valid}"),
                   help="the data set family when no recipe is named: mnist, xo, fsdd (with "
                   "its folds)")
    p.add_argument("--data-dir", default=None, help="folder with the data (else ZOO_DATA_DIR, "
                   "else tensorflow-datasets)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", type=_override,
                   help="derive a variant of each recipe, with its own name and hash "
                   "(fields of reproductions/recipes.py, or schedule.<field>); repeatable")
    yield p, "reproductions.reproduce:run"

    p = sub.add_parser("report", help="write the results tables of the MLflow store, beside "
                       "it (--reference: the committed reference tables)")
    p.add_argument("dataset", nargs="?", default="mnist", type=_one_of("data set", _families))
    p.add_argument("--reference", action="store_true", help="rewrite the committed tables of "
                   "reproductions/results from this store (deliberately: they are the reference)")
    yield p, "reproductions.report:run"

    p = sub.add_parser("export-weights", help="ship the reproductions' weights in zoo/weights "
                       "(manifest.json, zoo/MODELS.md)")
    p.add_argument("datasets", nargs="*", default=["mnist", "xo", "fsdd"],
                   type=_one_of("data set", _shipped_datasets, "export-weights takes data sets "
                                "with shipped weights ({valid}), not {wrong}"))
    yield p, "reproductions.export_weights:run"

    p = sub.add_parser("register", help="register the shipped weights in the MLflow model "
                       "registry (models:/<arch>@<tag>)")
    p.add_argument("names", nargs="*", type=_one_of("shipped weight", _weight_names),
                   help="shipped weights (default: all)")
    yield p, "reproductions.publish:register_run"

    p = sub.add_parser("tune", help="a KerasTuner search around a recipe, tracked in MLflow")
    p.add_argument("--recipe", default="conv3", type=_one_of("recipe", _recipe_names))
    p.add_argument("--tuner", default="hyperband", choices=("bayesian", "hyperband", "random"))
    p.add_argument("--max-trials", type=_positive, default=10, help="random and bayesian only")
    p.add_argument("--max-epochs", type=_positive, default=4, help="epochs per trial (at most)")
    p.add_argument("--train-subset", type=_positive, default=None)
    p.add_argument("--dir", default=None, help="KerasTuner's folder, shared by the chief and "
                   "every worker (default: runs/tuning in the repository)")
    p.add_argument("--name", default=None, help="search name (default: recipe-tuner)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--export-dir", default=None, help="folder the tuned recipe is written to "
                   "(default: reproductions/tuned, where the suite's recipes are read from), "
                   "and the search's record to its searches/ folder")
    p.add_argument("--objective", default="val_accuracy", choices=("val_accuracy", "val_loss"),
                   help="what the trials are ranked by, on the validation split")
    p.add_argument("--hyperband-iterations", type=_positive, default=1,
                   help="hyperband only: how many times the whole set of brackets is run")
    yield p, "reproductions.tune:run"

    p = sub.add_parser("screen", help="train a screening's variants (screening/<name>.json) "
                       "and write its table from the store")
    p.add_argument("name", nargs="?", default="conv3_bn_fast", type=_one_of(
                   "screening", _screenings, "no screening {wrong}; screenings: {valid}"))
    p.add_argument("--report", action="store_true", help="only write the table")
    yield p, "reproductions.screen:run"

    p = sub.add_parser("ensemble", help="ship a recipe's trained members as one averaged "
                       "model (<net>_ensemble.mnist) and write the spread of its sub-ensembles")
    p.add_argument("recipe", type=_one_of("recipe", _recipe_names),
                   help="the members' recipe, e.g. conv7_bn")
    p.add_argument("--seeds", default="1,2,3,4", type=_seeds,
                   help="the member seeds (FINISHED runs)")
    yield p, "reproductions.ensemble:run"

    p = sub.add_parser("time-to-accuracy", help="every MNIST recipe's final test accuracy "
                       "against wall time per seed, from the MLflow runs (results/"
                       "time_to_accuracy.png and .csv)")
    p.add_argument("--out", default=None, help="path without suffix (default: beside the "
                   "store's tables, e.g. mlflow-results/time_to_accuracy)")
    p.add_argument("--reference", action="store_true", help="rewrite the committed "
                   "reproductions/results/time_to_accuracy.* instead (deliberate)")
    yield p, "reproductions.time_to_accuracy:run"

    p = sub.add_parser("robustness", help="every shipped weight's accuracy on a shifted, "
                       "rotated and noisy test set (results/robustness.csv, zoo/MODELS.md)")
    p.add_argument("--weights", default="", type=_known(
                       "weight", _weight_names, "no shipped weight {wrong}; shipped: {valid}"),
                   help="comma-separated shipped weights (default: "
                   "all; the CSV keeps the others' rows)")
    yield p, "reproductions.robustness:run"

    p = sub.add_parser("bench", help="training and inference speed of every model (~10 min)")
    p.add_argument("--quick", action="store_true", help="a few steps each (CI)")
    p.add_argument("--models", default="", type=_known("model", _model_names),
                   help="comma-separated (default: every model)")
    p.add_argument("--out", default=None, help="CSV (default: reproductions/results/bench.csv)")
    p.add_argument("--latency-only", action="store_true", help="only the batch-1 latency of "
                   "conv3_bn_small's fast paths (results/latency.csv, beside --out)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # run in a child process
    p.add_argument("--latency-one", action="store_true", help=argparse.SUPPRESS)  # the same
    yield p, "reproductions.bench:run"

    p = sub.add_parser("bench-training", help="what makes training fast here, against a plain "
                       "PyTorch loop (~12 min)")
    p.add_argument("--variants", default="", help="comma-separated names (default: all)")
    p.add_argument("--out", default=None,
                   help="CSV (default: reproductions/results/bench_training.csv)")
    p.add_argument("--quick", action="store_true", help="tiny segments (CI): no figures")
    p.add_argument("--one", help=argparse.SUPPRESS)  # run in a child process
    yield p, "reproductions.bench_training:run"

    p = sub.add_parser("profile", help="TensorFlow's profiler over a recipe's training steps: "
                       "per-op self times and GFLOP/s against the matmul peak "
                       "(results/profile_<recipe>.csv and .md)")
    p.add_argument("recipe", nargs="?", default="conv3_bn", type=_one_of("recipe", _recipe_names))
    p.add_argument("--steps", type=_positive, default=200, help="steps timed, then profiled")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", type=_override,
                   help="profile a variant of the recipe (as reproduce --set: precision="
                   "mixed_bfloat16, batch_size=200, ...), written as profile_<recipe>+<key>=<value>"
                   ".*; repeatable")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    yield p, "reproductions.profile:run"

    p = sub.add_parser("bench-peers", help="the zoo's conv3_bn training against PyTorch "
                       "(eager; channels_last + torch.compile) and Keras on JAX, alternating "
                       "rounds in one session (results/bench_peers*.csv, .md)")
    p.add_argument("--rounds", type=_positive, default=5, help="each contestant once a round, "
                   "the order reversed every other round")
    p.add_argument("--variants", default=[], type=_known("variant", _training_variants),
                   help="comma-separated contestants of bench-training (default: recipe, "
                   "torch_threads_2, torch_best, keras_jax; recipe is required)")
    p.add_argument("--quick", action="store_true", help="tiny segments (CI): no figures")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    yield p, "reproductions.bench_peers:run"

    p = sub.add_parser("time-alternating", help="two recipes' wall time a seed, taking turns "
                       "seed by seed in one session (results/<A>_vs_<B>_timing.csv, .md)")
    p.add_argument("a", help="the reference recipe, e.g. conv3_bn_fast")
    p.add_argument("b", help="the candidate: a recipe, or <screening>/<variant> "
                   "(conv3_bn_60s/h_b)")
    p.add_argument("--seeds", default=[], type=_seeds, help="comma-separated (default: A's "
                   "seeds); the runs are blind, in a temporary store")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    yield p, "reproductions.time_alternating:run"

    p = sub.add_parser("bench-logging", help="what MLflow logging (step curves, system metrics) "
                       "costs a short run, in a temporary store")
    p.add_argument("--recipe", default="softmax")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="derive a variant of the recipe (as reproduce --set)")
    p.add_argument("--repeats", type=int, default=3)
    yield p, "reproductions.bench_logging:run"

    p = sub.add_parser("xo-lecture", help="the lecture's X/O walk-through, against xo trained "
                       "on generated images (after reproduce --dataset xo)")
    yield p, "reproductions.xo_lecture:run"

    p = sub.add_parser("explain", help="zoo explain, also logged to MLflow (experiment "
                       "zoo-explain)")
    p.add_argument("model", help="a shipped weight (conv3_bn.mnist) or a model name")
    p.add_argument("input", help="an MNIST test index, X or O, or a picture of a digit")
    p.add_argument("--out", default=None, help="folder for the pages (default: runs/explain)")
    yield p, "reproductions.publish:explain_run"

    p = sub.add_parser("serve", help="MLflow's model server for a shipped weight, registered "
                       "first if needed (models:/<arch>@<tag>, --env-manager local)")
    p.add_argument("model", help="a shipped weight, e.g. conv3_bn.mnist (zoo list)")
    p.add_argument("--host", default="127.0.0.1", help="MLflow's scoring server has no "
                   "authentication: bind elsewhere only on a network you trust")
    p.add_argument("--port", type=int, default=5001)
    yield p, "reproductions.publish:serve_run"

    p = sub.add_parser("bench-export", help="size, load time and latency at batch 1 and 1000 of "
                       "every shipped weight per runtime: Keras, SavedModel, ONNX, LiteRT (~4 min)")
    p.add_argument("--weights", default="*", help="shell pattern of shipped weights")
    p.add_argument("--out", default=None,
                   help="CSV (default: reproductions/results/export_bench.csv)")
    yield p, "reproductions.bench_export:run"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reproductions", description="the ConvNet Zoo's training suite: "
        "reproductions, results, shipped weights, searches, benches (tracked in MLflow)",
        epilog="the library's own command: zoo --help")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="verb")
    for p, run in _verbs(sub):
        # verbs report a bad value with args.verb_parser.error: usage, message, exit code 2
        p.set_defaults(run=run, verb_parser=p)
    return parser


# Verbs that write to the MLflow store: a bad store is refused before their modules (and Keras,
# TensorFlow behind them) are imported, so the message comes in a second or two, not after them.
STORE_VERBS = {"reproduce", "report", "export-weights", "register", "tune", "screen", "explain",
               "ensemble", "time-to-accuracy"}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb in STORE_VERBS:
        from tracking.store import TrackingError, check_store

        try:
            check_store()
        except TrackingError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    return resolve(args.run)(args)


if __name__ == "__main__":
    sys.exit(main())
