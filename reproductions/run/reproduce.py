"""Reproduce the zoo's figures: every selected recipe over its seeds, then the results tables.

    python -m reproductions reproduce              # every MNIST recipe over its seeds (5, or 3)
    python -m reproductions reproduce --recipes conv3_bn --seeds 1,2,3,4,5
    python -m reproductions reproduce --recipes conv3 --set steps=2000   # a derived variant
    python -m reproductions reproduce --jobs 1     # one run at a time (default: one a core)
    python -m reproductions reproduce --recipes conv7_bn_cosine_refit --seeds 1 --threads 1
                                                   # as a worker of --jobs 2 trained it

`make reproduce-mnist` runs this (RECIPES= and SEEDS= on the make line select recipes and seeds).
Pairs (recipe, seed) already FINISHED in the MLflow store are skipped; an interrupted pair resumes
from its last completed evaluation; a pair being trained by another process sharing the store
(another machine too) is left to it; with --jobs N, N worker processes share the pairs that way
(reproductions/run/workers.py). At the end the tables are written beside the store (never
over the reference tables of reproductions/results) and printed beside the reference figures.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from reproductions.report import tables as report
from reproductions.recipes import RECIPES, derive, get_recipe, parse_override
from reproductions.recipes.catalog import refit_problems
from reproductions.run import console, estimate, interrupt, workers
from reproductions.run.train import train_run
from tracking import TrackingError, tags
from tracking.claims import ClaimHeld
from tracking.store import results_folder
from tracking.runs import experiment_for, finished_run
import zoo.data
from zoo.data import DataError


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
        held_out = "".join(f"  {label} {logs[key]:.4f}" for key, label in
                           (("val_accuracy", "val_acc"), ("test_accuracy", "test_acc"))
                           if key in logs)  # a run evaluates only what its protocol allows
        print(f"[{recipe.name} seed {seed}] step {epoch * recipe.eval_every:>6}/{recipe.steps}"
              f"  loss {logs['loss']:.4f}  acc {logs['accuracy']:.4f}{held_out}"
              f"  | all: {100 * self.done / self.total:5.1f}%  ETA {_hms(eta)}", flush=True)

    def skipped(self, recipe, seed):
        print(f"[{recipe.name} seed {seed}] already FINISHED in the store: skipped", flush=True)


def _hms(seconds):
    if seconds != seconds:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _print_plan(todo, rows) -> None:
    """Before any training: each recipe's seeds to train, the time they took on the reference
    machine and the estimate for this one (reproductions/run/estimate.py)."""
    if not todo or not rows:
        return
    try:
        speed = estimate.throughput_here()
    except Exception as err:  # noqa: BLE001 (the plan must not stop the work it plans)
        print(f"(no estimate: the calibration failed: {err})", flush=True)
        speed = None
    print("\n".join(estimate.plan(todo, rows, speed)), flush=True)


def _said_done(recipe, seed, result) -> None:
    peak = result.get("peak_test_accuracy")
    print(f"[{recipe.name} seed {seed}] final test accuracy {result['test_accuracy']:.4f}"
          + (f" (max over training {peak:.4f}, optimistic)" if peak is not None else "")
          + f", {result['wall_s']:.0f} s", flush=True)


def _train_in_turn(todo, data_dir, progress) -> tuple[int, list]:
    """This process trains the pairs one after the other (--jobs 1); returns how many it
    trained and the pairs other processes hold."""
    held, trained = [], 0
    # Ctrl-C stops the run at a batch's end (KeyboardInterrupt there); a second one, at once
    with interrupt.deferred(twice_stops_at_once=True):
        for recipe, seed in todo:
            interrupt.check()  # between two pairs: no new one starts
            try:
                result = train_run(recipe, seed, data_dir=data_dir, progress=progress)
            except ClaimHeld as err:  # another process (maybe another machine) trains it
                print(f"[{recipe.name} seed {seed}] {err}: left to it, next pair", flush=True)
                held.append((recipe, seed))
                continue
            if not result.get("skipped"):  # else finished meanwhile by another process
                trained += 1
                _said_done(recipe, seed, result)
    return trained, held


def _check_data(todo, data_dir) -> None:
    """Find (and, for local files, verify) the data of every pair left to train: a bad
    ZOO_DATA_DIR or --data-dir (no such folder, no data in it, a truncated or corrupt file) is a
    DataError now, before the plan's calibration trains anything and before any MLflow run
    starts, not minutes later from inside the first run. zoo.data.source_of checks each local
    file's SHA256; the arrays themselves are read by each run."""
    for dataset in sorted({recipe.dataset for recipe, _ in todo}):
        zoo.data.source_of(dataset, data_dir)


def run(args) -> int:
    """The `reproduce` verb (arguments: its room's verbs.py)."""
    try:
        # names, data set and seeds were checked as the command line was parsed
        # the default: every recipe of the family but the studies, which train only by name
        names = args.recipes or [n for n, r in RECIPES.items()
                                 if r.family == args.dataset and not r.study]
        recipes = [get_recipe(n) for n in names]
        studies = [] if args.recipes else [r for r in RECIPES.values()
                                           if r.family == args.dataset and r.study]
        overrides = dict(parse_override(text) for text in args.set)
        if overrides:
            # an exploratory variant declares the seeds it is asked for (its hash is the same)
            recipes = [dataclasses.replace(derive(r, overrides), seeds=tuple(args.seeds))
                       if args.seeds else derive(r, overrides) for r in recipes]
            # a variant of a refit that changes a setting is no refit: the catalog's rule
            problems = refit_problems({**RECIPES, **{r.name: r for r in recipes}})
            if problems:
                raise ValueError(f"{problems[0]}; a variant that changes a setting trains on "
                                 "every image with --set refit_of=null")
        seeds = args.seeds
    except (KeyError, ValueError) as err:
        args.verb_parser.error(str(err).strip("'\""))
    started, t0 = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.perf_counter()
    commit = tags.git_commit()  # the code the runs train with, though HEAD may move meanwhile
    try:
        # fail on a bad store now, not after the first hour of training
        todo = []
        for recipe in recipes:
            exp = experiment_for(recipe)
            for seed in seeds or recipe.seeds:
                if finished_run(recipe, seed, exp) is None:
                    todo.append((recipe, seed))
        _check_data(todo, args.data_dir)  # before the plan's calibration and any run
        print(f"{len(todo)} run(s) to train, "
              f"{sum(len(seeds or r.seeds) for r in recipes) - len(todo)} already finished",
              flush=True)
        for study in studies:
            print(f"  not in the default: {study.name}, a study ({study.study}); train it by "
                  f"name: --recipes {study.name}", flush=True)
        rows = [r for family in sorted({r.family for r in recipes})
                for r in report.committed_rows(family)]  # the reference machine's times
        _print_plan(todo, rows)
        for recipe in recipes:
            extra = sorted(set(seeds) - set(recipe.seeds))
            if extra and recipe.name in RECIPES:
                print(f"{recipe.name}: seed(s) {', '.join(map(str, extra))} not among its declared "
                      f"seeds ({', '.join(map(str, recipe.seeds))}): listed apart in the tables, "
                      "never averaged in", flush=True)
        progress = Progress(todo)
        jobs = min(args.jobs or workers.default_jobs(), len(todo))
        # threads are set before TensorFlow starts, so a run with --threads trains in a worker
        if jobs > 1 or (args.threads and todo):
            done = workers.train_parallel(todo, jobs, args.data_dir, progress, rows,
                                          console.current_log, _said_done, args.threads)
            trained = len(done)
            # not trained here, not finished by another process meanwhile: still held elsewhere
            held = [(r, s) for k, (r, s) in enumerate(todo)
                    if k not in done and finished_run(r, s, experiment_for(r)) is None]
        else:
            trained, held = _train_in_turn(todo, args.data_dir, progress)
    except workers.WorkerCrashed as err:  # a bug or a kill: its traceback is in the log
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (TrackingError, DataError, workers.WorkerError) as err:  # bad store or data: a message
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept, the current one resumes when re-run",
              file=sys.stderr)
        return 130
    if overrides:  # the results tables are the recipes' own; a variant is reported here only
        for family in sorted({r.family for r in recipes}):
            for row in report.collect(family, recipes):
                spread = (f" ± {100 * row['std_test_acc']:.2f}" if row["n_seeds"] > 1 else "")
                print(f"{row['recipe']} (exploratory: not a reference recipe, never in the "
                      "reference tables): final test accuracy "
                      f"{100 * row['mean_test_acc']:.2f}%{spread} over seeds {row['seeds']}")
        return 0
    # the user's tables go beside their store; the committed reference tables are rewritten
    # only by `python -m reproductions report --reference`
    folder = results_folder()
    for family in sorted({r.family for r in recipes}):
        for path in report.write(family, folder):
            print(f"wrote {path}")
        report.print_comparison(family, folder)
    if held:
        print(f"{len(held)} pair(s) were being trained by other processes; once they finish, "
              "`python -m reproductions report` adds them to these tables")
    # the timing row goes beside the tables it belongs to (the user's store's, not the reference)
    # pairs held by other processes, or finished by them meanwhile, count as skipped
    families = sorted({r.family for r in recipes})  # named recipes: their family, not --dataset
    path = record_timing(families[0] if len(families) == 1 else args.dataset, started,
                         time.perf_counter() - t0, trained=trained,
                         skipped=sum(len(seeds or r.seeds) for r in recipes) - trained,
                         recipes=",".join(args.recipes and names or ["all"]),
                         seeds=",".join(map(str, seeds or [])) or "each recipe's",
                         folder=folder, commit=commit,
                         options=(f" --jobs {args.jobs}" if args.jobs else "")
                         + (f" --threads {args.threads}" if args.threads else ""))
    print(f"appended the wall time ({_hms(time.perf_counter() - t0)}) to {path}")
    return 0


TIMING_COLUMNS = ("started_utc", "wall_s", "runs_trained", "runs_skipped", "recipes", "seeds",
                  "git_commit", "machine", "command")


def record_timing(dataset, started, wall_s, *, trained, skipped, recipes, seeds,
                  folder: Path | None = None, commit: str, options: str = "") -> Path:
    """Append one row to <folder>/reproduce_<dataset>_timing.csv: the wall time of the whole
    reproduction (training, skipping, tables), with the commit it started at (tagged -dirty
    when the tree was), the machine and the command with its --jobs and --threads, so that the
    README's figure for `make reproduce-mnist` has a file."""
    command = (f"python -m reproductions reproduce --dataset {dataset}"
               + ("" if recipes == "all" else f" --recipes {recipes}")
               + ("" if seeds == "each recipe's" else f" --seeds {seeds}") + options)
    from tracking.tags import machine
    from zoo.files import append_csv_rows

    path = (folder or report.RESULTS) / f"reproduce_{dataset}_timing.csv"
    append_csv_rows(path, TIMING_COLUMNS, [{
        "started_utc": started, "wall_s": f"{wall_s:.1f}", "runs_trained": trained,
        "runs_skipped": skipped, "recipes": recipes, "seeds": seeds, "git_commit": commit,
        "machine": machine(), "command": command}])
    return path
