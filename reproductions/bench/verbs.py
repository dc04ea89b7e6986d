"""The bench room's verbs: their command lines (their work: one module each).

Each function declares one verb on the suite's parser and names the function that runs it
("module:function", imported only when the verb runs, so that `--help` stays quick);
reproductions/__main__.py lists them in the order of `--help`.
"""

from __future__ import annotations

import argparse

from reproductions.arguments import (int_from_0, model_names, names_among, one_name_among,
                                     positive_int, positive_seconds, recipe_names,
                                     recipe_override, seed_list)


def training_variants():
    from reproductions.bench.training import VARIANTS

    return [v.name for v in VARIANTS]


def bench(sub):
    p = sub.add_parser("bench", help="training and inference speed of every model (~10 min)")
    p.add_argument("--quick", action="store_true", help="a few steps each (CI)")
    p.add_argument("--models", default="", type=names_among("model", model_names),
                   help="comma-separated (default: every model)")
    p.add_argument("--out", default=None, help="CSV (default: reproductions/results/bench.csv)")
    p.add_argument("--latency-only", action="store_true", help="only the batch-1 latency of "
                   "conv3_bn_small's fast paths (results/latency.csv, beside --out)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # run in a child process
    p.add_argument("--latency-one", action="store_true", help=argparse.SUPPRESS)  # the same
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.bench.models:run"


def bench_training(sub):
    p = sub.add_parser("bench-training", help="what makes training fast here, against a plain "
                       "PyTorch loop (~12 min)")
    p.add_argument("--variants", default="", help="comma-separated names (default: all)")
    p.add_argument("--out", default=None,
                   help="CSV (default: reproductions/results/bench_training.csv)")
    p.add_argument("--quick", action="store_true", help="tiny segments (CI): no figures")
    p.add_argument("--one", help=argparse.SUPPRESS)  # run in a child process
    return p, "reproductions.bench.training:run"


def profile(sub):
    p = sub.add_parser("profile", help="TensorFlow's profiler over a recipe's training steps: "
                       "per-op self times and GFLOP/s against the matmul peak "
                       "(results/profile_<recipe>.csv and .md)")
    p.add_argument("recipe", nargs="?", default="conv3_bn", type=one_name_among("recipe", recipe_names))
    p.add_argument("--steps", type=positive_int, default=200, help="steps timed, then profiled")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", type=recipe_override,
                   help="profile a variant of the recipe (as reproduce --set: precision="
                   "mixed_bfloat16, batch_size=200, ...), written as profile_<recipe>+<key>=<value>"
                   ".*; repeatable")
    p.add_argument("--threads", type=int_from_0, default=None, help="TensorFlow's intra- and "
                   "inter-op threads, 0: its default, one a core (default: a `reproduce` "
                   "worker's share of the cores); written as profile_<recipe>+threads=<N>.*")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.bench.profile:run"


def bench_peers(sub):
    p = sub.add_parser("bench-peers", help="the zoo's conv3_bn training against PyTorch "
                       "(eager; channels_last + torch.compile) and Keras on JAX, alternating "
                       "rounds in one session (results/bench_peers*.csv, .md)")
    p.add_argument("--rounds", type=positive_int, default=5, help="each contestant once a round, "
                   "the order reversed every other round")
    p.add_argument("--variants", default=[], type=names_among("variant", training_variants),
                   help="comma-separated contestants of bench-training (default: recipe, "
                   "torch_threads_2, torch_best, keras_jax; recipe is required)")
    p.add_argument("--quick", action="store_true", help="tiny segments (CI): no figures")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    return p, "reproductions.bench.peers:run"


def time_alternating(sub):
    p = sub.add_parser("time-alternating", help="two recipes' wall time a seed, taking turns "
                       "seed by seed in one session (results/<A>_vs_<B>_timing.csv, .md)")
    p.add_argument("a", help="the reference recipe, e.g. conv3_bn_fast")
    p.add_argument("b", help="the candidate: a recipe, or <screening>/<variant> "
                   "(conv3_bn_60s/h_b)")
    p.add_argument("--seeds", default=[], type=seed_list, help="comma-separated (default: A's "
                   "seeds); the runs are blind, in a temporary store")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.bench.time_alternating:run"


def time_job(sub):
    p = sub.add_parser("time-job", help="the reproduction's whole wall time in a checkout "
                       "(--code), from a fresh store, for turns of old and new code "
                       "(results/reproduce_jobs_timing.*)")
    p.add_argument("--code", default=".", help="a checkout of the suite with its .venv "
                   "(default: this one)")
    p.add_argument("--jobs", type=positive_int, default=None, help="reproduce --jobs N (code "
                   "that has it); default: none given")
    p.add_argument("--recipes", default=[], type=names_among("recipe", recipe_names),
                   help="comma-separated (default: the set that stands for the default job, "
                   "reproductions/bench/job_timing.py)")
    p.add_argument("--seeds", default=[1], type=seed_list, help="comma-separated (default: 1)")
    p.add_argument("--report", action="store_true", help="only write the .md from the rows")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    return p, "reproductions.bench.job_timing:run"


def bench_logging(sub):
    p = sub.add_parser("bench-logging", help="what MLflow logging (step curves, system metrics) "
                       "costs a short run, in a temporary store")
    p.add_argument("--recipe", default="softmax")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="derive a variant of the recipe (as reproduce --set)")
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.bench.mlflow_logging:run"


def bench_export(sub):
    p = sub.add_parser("bench-export", help="size, load time and latency at batch 1 and 1000 of "
                       "every shipped weight per runtime: Keras, SavedModel, ONNX, LiteRT (~4 min)")
    p.add_argument("--weights", default="*", help="shell pattern of shipped weights")
    p.add_argument("--out", default=None,
                   help="CSV (default: reproductions/results/export_bench.csv)")
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.bench.export:run"


def bench_cli(sub):
    p = sub.add_parser("bench-cli", help="the zoo command's wall time: list, info, --help, and "
                       "predict from the cached ONNX export, on first use and with --keras "
                       "(results/bench_cli.csv, .md; ~3 min)")
    p.add_argument("--rounds", type=positive_int, default=5, help="each call once a round, the "
                   "order reversed every other round")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    return p, "reproductions.bench.cli:run"


def bench_serving(sub):
    p = sub.add_parser("bench-serving", help="the model server and the live explainer under "
                       "load on loopback, this checkout against --before's, taking turns "
                       "(results/serving_load.csv, .md)")
    p.add_argument("--before", default=None, help="a checkout of the code to compare against "
                   "(git worktree add <folder> <commit>); default: this checkout only")
    p.add_argument("--seconds", type=positive_seconds, default=10.0,
                   help="each case's load, a round")
    p.add_argument("--rounds", type=positive_int, default=2, help="each side once a round, "
                   "the order reversed every other round")
    p.add_argument("--max-requests", type=positive_int, default=50_000,
                   help="each case's bound on requests, a round")
    p.add_argument("--out-dir", default=None, help="folder (default: reproductions/results)")
    return p, "reproductions.bench.serving:run"
