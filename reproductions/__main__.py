"""The training suite's one command: `python -m reproductions <verb> [arguments]`.

    python -m reproductions reproduce --recipes conv3_bn --seeds 1,2,3   # make reproduce-mnist
    python -m reproductions reproduce --recipes conv3 --set steps=2000 --set schedule.lr_max=0.01
    python -m reproductions report mnist                                   # make report-mnist
    python -m reproductions export-weights [mnist xo fsdd]                 # make zoo-weights
    python -m reproductions register [conv3_bn.mnist ...]                  # make register-zoo
    python -m reproductions tune --recipe conv3 --tuner hyperband          # make tune-mnist
    python -m reproductions screen conv3_bn_fast [--report] [--reference]
    python -m reproductions ensemble conv7_bn_cosine --seeds 1,2,3,4,5,6,7,10
    python -m reproductions time-to-accuracy                               # make time-to-accuracy
    python -m reproductions robustness                                     # make robustness
    python -m reproductions bench | bench-training                         # make bench ...
    python -m reproductions profile conv3_bn --steps 200                  # make profile
    python -m reproductions bench-peers --rounds 5                         # make bench-peers
    python -m reproductions time-alternating conv3_bn_fast conv3_bn_60s/h_b  # make time-alternating
    python -m reproductions time-job --code /tmp/before --jobs 2          # whole job, code vs code
    python -m reproductions bench-logging                                  # MLflow logging's cost
    python -m reproductions xo-lecture                                     # make reproduce-xo
    python -m reproductions explain conv3_bn.mnist 7                       # zoo explain + MLflow
    python -m reproductions serve conv3_bn.mnist --port 5001               # make serve
    python -m reproductions bench-export [--weights 'conv3*']              # make bench-export
    python -m reproductions bench-cli --rounds 5                           # make bench-cli
    python -m reproductions bench-serving --before /tmp/before             # make bench-serving
    python -m reproductions molecules [--models smiles_cnn --datasets freesolv/random]
                                                                   # make reproduce-molecules

This file only dispatches. Each verb is declared in its room's verbs.py, next to the code it runs
(its arguments, and the "module:function" that does the work, imported only when that verb runs,
so `--help` is quick); VERBS below lists them in the order `--help` shows. A new verb: a function
in the room's verbs.py, a line here (docs/architecture.md). Outputs go where the repository keeps
them (reproductions/results/, zoo/weights/, runs/), whatever the current folder. The library's
own command is `zoo` (zoo/cli.py).
"""

from __future__ import annotations

import argparse
import sys

from zoo.dotted import resolve
from zoo.files import WriteError

VERBS = (  # each "module:function" declares one verb and returns (its parser, its runner)
    "reproductions.run.verbs:reproduce",                         # reproduce
    "reproductions.report.verbs:report",                         # report
    "reproductions.ship.verbs:export_weights",                   # export-weights
    "reproductions.ship.verbs:register",                         # register
    "reproductions.search.verbs:tune",                           # tune
    "reproductions.search.verbs:screen",                         # screen
    "reproductions.search.verbs:ensemble_screen",                # ensemble-screen
    "reproductions.ship.verbs:ensemble",                         # ensemble
    "reproductions.report.verbs:time_to_accuracy",               # time-to-accuracy
    "reproductions.ship.verbs:robustness",                       # robustness
    "reproductions.bench.verbs:bench",                           # bench
    "reproductions.bench.verbs:bench_training",                  # bench-training
    "reproductions.bench.verbs:profile",                         # profile
    "reproductions.bench.verbs:bench_peers",                     # bench-peers
    "reproductions.bench.verbs:time_alternating",                # time-alternating
    "reproductions.bench.verbs:time_job",                        # time-job
    "reproductions.bench.verbs:bench_logging",                   # bench-logging
    "reproductions.report.verbs:xo_lecture",                     # xo-lecture
    "reproductions.report.verbs:audio_flatness",                 # audio-flatness
    "reproductions.report.verbs:record_errors",                  # record-errors
    "reproductions.ship.verbs:explain",                          # explain
    "reproductions.ship.verbs:serve",                            # serve
    "reproductions.bench.verbs:bench_export",                    # bench-export
    "reproductions.bench.verbs:bench_cli",                       # bench-cli
    "reproductions.bench.verbs:bench_serving",                   # bench-serving
    "reproductions.molecules.verbs:molecules",                   # molecules
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reproductions", description="the ConvNet Zoo's training suite: "
        "reproductions, results, shipped weights, searches, benches (tracked in MLflow)",
        epilog="the library's own command: zoo --help")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="verb")
    for declare in VERBS:
        p, run = resolve(declare)(sub)
        # verbs report a bad value with args.verb_parser.error: usage, message, exit code 2
        p.set_defaults(run=run, verb_parser=p)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _start(args)
    except KeyboardInterrupt:  # Ctrl-C anywhere, Keras' import included; reproduce says more
        print(f"\ninterrupted: {args.verb} stopped; every file it wrote is whole (zoo.files "
              "writes each at once), and the tables it had not yet written are not there",
              file=sys.stderr)
        return 130


def _start(args) -> int:
    """The verb, with its arguments and store checked and its console quiet as it was declared."""
    if getattr(args, "check", None):  # a verb's own checks of its arguments (a usage error,
        resolve(args.check)(args)     # exit code 2), before the store's and Keras' slow start
    if not _store_ok(args):  # before any log file: a refused verb leaves nothing behind
        return 2
    if getattr(args, "quiet", False) and not args.verbose:
        from reproductions.run import console

        with console.quiet(args.verb) as log:
            print(f"log: {log} (MLflow, TensorFlow and Keras messages; --verbose shows them "
                  "here)", flush=True)
            console.keras_to_the_log()  # before the verb's module imports TensorFlow
            return _run(args)
    if getattr(args, "keras", False):  # never a quiet verb's: its --verbose shows every line
        _quiet_start()
    return _run(args)


def _quiet_start() -> None:
    """The verbs that use Keras without a log file of their own (ensemble, screen,
    export-weights...: `keras` where they are declared) keep the console to their own lines:
    TensorFlow's start-up and cuInit lines are dropped as the `zoo` command drops them
    (zoo/quiet.py; a user who sets TF_CPP_MIN_LOG_LEVEL keeps them), and so is LiteRT's XNNPACK
    line where a bench runs an interpreter (zoo.export.runtime); MLflow draws no bar for each
    artifact a verb reads back."""
    import os

    from zoo.quiet import command_console, import_keras_quietly

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    command_console()
    import_keras_quietly()


def _run(args) -> int:
    """The verb; a file it could not write whole (a full disk, a read-only folder: zoo.files,
    which leaves the previous file in place) is a message and exit code 2, not a traceback."""
    try:
        return resolve(args.run)(args)
    except WriteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _store_ok(args) -> bool:
    """Verbs that write to the MLflow store (needs_store, set where they are declared): a bad
    store is refused before their modules (and Keras, TensorFlow behind them) are imported, so
    the message comes in a second or two, not after them."""
    if not getattr(args, "needs_store", False):
        return True
    from tracking.store import TrackingError, check_store

    try:
        check_store()
    except TrackingError as err:
        print(f"error: {err}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
