"""Reproduce the zoo's figures: every selected recipe over its seeds, then the results tables.

    python -m reproductions.reproduce                      # every MNIST recipe, 3 seeds each
    python -m reproductions.reproduce --recipes conv3_bn --seeds 1,2,3,4,5

`make reproduce-mnist` runs this (MODELS= and SEEDS= on the make line select recipes and seeds).
Pairs (recipe, seed) already FINISHED in the MLflow store are skipped; an interrupted pair resumes
from its last completed evaluation. The tables are written by reproductions.report at the end.
"""

from __future__ import annotations

import argparse
import sys
import time

from reproductions import report
from reproductions.recipes import RECIPES, get_recipe
from reproductions.train import check_store_for, finished_run, train_run
from tracking import TrackingError


class Progress:
    """One line per evaluation, with an ETA for the whole reproduction at the rate so far."""

    def __init__(self, todo):
        self.total = sum(r.steps for r, _ in todo)
        self.done = 0
        self.t0 = time.perf_counter()

    def epoch_done(self, recipe, seed, epoch, logs):
        self.done += recipe.eval_every
        rate = self.done / (time.perf_counter() - self.t0)
        eta = (self.total - self.done) / rate if rate else float("nan")
        print(f"[{recipe.name} seed {seed}] step {epoch * recipe.eval_every:>6}/{recipe.steps}"
              f"  loss {logs['loss']:.4f}  acc {logs['accuracy']:.4f}"
              f"  val_acc {logs['val_accuracy']:.4f}  test_acc {logs['test_accuracy']:.4f}"
              f"  | all: {100 * self.done / self.total:5.1f}%  ETA {_hms(eta)}", flush=True)

    def skipped(self, recipe, seed):
        print(f"[{recipe.name} seed {seed}] already FINISHED in the store: skipped", flush=True)


def _hms(seconds):
    if seconds != seconds:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _csv(text):
    return [t for t in (text or "").replace(",", " ").split() if t]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", default="", help="comma-separated recipe names (default: all"
                        " recipes of the dataset); a model's canonical recipe has its name")
    parser.add_argument("--seeds", default="", help="comma-separated seeds (default: the recipe's)")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default=None, help="folder with the data (else ZOO_DATA_DIR, "
                        "else tensorflow-datasets)")
    args = parser.parse_args(argv)

    try:
        names = _csv(args.recipes) or [n for n, r in RECIPES.items() if r.family == args.dataset]
        recipes = [get_recipe(n) for n in names]
        seeds = [int(s) for s in _csv(args.seeds)]
    except (KeyError, ValueError) as err:
        parser.error(str(err).strip("'\""))
    try:
        # fail on a bad store now, not after the first hour of training
        todo = []
        for recipe in recipes:
            exp = check_store_for(recipe)
            for seed in seeds or recipe.seeds:
                if finished_run(recipe, seed, exp) is None:
                    todo.append((recipe, seed))
        print(f"{len(todo)} run(s) to train, "
              f"{sum(len(seeds or r.seeds) for r in recipes) - len(todo)} already finished",
              flush=True)
        progress = Progress(todo)
        for recipe, seed in todo:
            result = train_run(recipe, seed, data_dir=args.data_dir, progress=progress)
            print(f"[{recipe.name} seed {seed}] final test accuracy {result['test_accuracy']:.4f}"
                  f" (peak {result['peak_test_accuracy']:.4f}, optimistic), "
                  f"{result['wall_s']:.0f} s", flush=True)
    except TrackingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept, the current one resumes when re-run",
              file=sys.stderr)
        return 130
    for dataset in sorted({r.family for r in recipes}):
        for path in report.write(dataset):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
