"""The whole reproduction's wall time, one code against another: `python -m reproductions time-job`.

    python -m reproductions time-job --code /tmp/before               # that checkout, as it runs
    python -m reproductions time-job --code . --jobs 1                # this code, one process
    python -m reproductions time-job --code . --jobs 2                # two workers
    python -m reproductions time-job --report                         # the .md from the rows

A turn runs `<code>/.venv/bin/python -m reproductions reproduce --recipes R --seeds S [--jobs N]`
in that checkout, as a user would, from a fresh temporary MLflow store (nothing resumed, nothing
skipped), and times the whole command: start-up, the plan, every run, the tables. Turns taken one
after the other in one session, on an otherwise idle machine, make a ratio (a machine's speed
moves from one session to the next: reproductions/bench/time_alternating.py).

After each turn the runs' trained models are read back from the temporary store and answer the
MNIST test set; the answers are kept (reproduce_jobs_answers/<turn>.npz), so that turns of the
same recipes can be compared answer by answer: splitting TensorFlow's threads between workers
changes the order of floating-point sums, and this says how much that moves a run.

Writes reproductions/results/reproduce_jobs_timing.csv (a row per turn, appended: the machine, its
CPU kind and its float32 matmul peak measured just before the turn), reproduce_jobs_runs.csv (a
row per run) and, from those, reproduce_jobs_timing.md.
"""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from reproductions import RESULTS
from reproductions.bench.common import out_folder
from reproductions.run.phases import PHASES
from zoo.files import append_csv_rows, atomic_path, write_text
from zoo.quiet import import_keras_quietly, users_log_level

# the set of runs that stands for the default job on one seed (docs/reproductions.md says why):
# the three recipes that make most of its time, and one of each other kind of net
DEFAULT_RECIPES = ("conv3_bn", "conv7_bn", "lenet5_paper", "lenet5", "conv3", "mlp5", "softmax")
COLUMNS = ("turn", "started_utc", "code", "git_commit", "jobs", "wall_s", "runs", "recipes",
           "seeds", "load_1m", "machine", "cpu_kind", "matmul_peak_gflops", "command")
RUN_COLUMNS = ("turn", "recipe", "recipe_hash", "seed", "test_accuracy", "wall_s")
# what a run spends besides its training steps (reproductions/run/phases.py); older code logs none
OVERHEAD_COLUMNS = ("turn", "recipe", "seed", "wall_s") + tuple(f"{p}_s" for p in PHASES)
MAX_SPLITS = 2 ** 16  # best_split tries every assignment of runs to workers up to this many


def best_split(times: list[float], workers: int) -> float | None:
    """The least time in which the busiest of `workers` can finish runs of these `times`, each run
    kept whole on one worker: every assignment tried (a handful of runs), None past MAX_SPLITS.
    What no order of handing out the runs can beat, however the claims fall."""
    if not times or workers < 1 or workers ** (len(times) - 1) > MAX_SPLITS:
        return None
    best = float("inf")
    # the first run on worker 0: the workers are alike, so this only drops mirror images
    for rest in itertools.product(range(workers), repeat=len(times) - 1):
        loads = [0.0] * workers
        for time_s, worker in zip(times, (0, *rest)):
            loads[worker] += time_s
        best = min(best, max(loads))
    return best


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# Run by each turn's own code (its python, its zoo), so that its models load as they were saved:
# TIME_JOB_STORE: the store's URI, TIME_JOB_OUT: the .npz to write. Every FINISHED seed run's
# model answers the test set.
ANSWERS_SCRIPT = """
import os, tempfile
from pathlib import Path
import keras, mlflow, numpy as np
from mlflow import MlflowClient
import zoo, zoo.layers, zoo.models, zoo.data
store, out = os.environ["TIME_JOB_STORE"], os.environ["TIME_JOB_OUT"]
x_test, _ = zoo.data.load_dataset("mnist").test
client = MlflowClient(tracking_uri=store)
experiment = client.get_experiment_by_name("zoo-mnist")
answers = {}
with tempfile.TemporaryDirectory() as tmp:
    for run in client.search_runs([experiment.experiment_id], "attributes.status = 'FINISHED'"):
        if "seed" not in run.data.tags:
            continue
        folder = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="model",
                                                     dst_path=f"{tmp}/{run.info.run_id}",
                                                     tracking_uri=store)
        model = keras.saving.load_model(next(Path(folder).glob("*.keras")), compile=False)
        key = f"{run.data.tags['recipe']}-seed{run.data.tags['seed']}"
        probabilities = model.predict(x_test, batch_size=1000, verbose=0)
        answers[key] = probabilities.argmax(axis=1).astype(np.uint8)
with open(out, "wb") as f:
    np.savez_compressed(f, **answers)
"""


def trained_runs(store_uri: str) -> list[dict]:
    """(recipe, hash, seed, test accuracy, wall s, phases) of every FINISHED MNIST seed run."""
    from mlflow import MlflowClient

    from tracking.runs import experiment_name

    client = MlflowClient(tracking_uri=store_uri)
    experiment = client.get_experiment_by_name(experiment_name("mnist"))
    runs = client.search_runs([experiment.experiment_id], "attributes.status = 'FINISHED'",
                              max_results=1000)
    out = []
    for run in runs:
        if "seed" not in run.data.tags:  # a recipe's parent run
            continue
        tags, metrics = run.data.tags, run.data.metrics
        out.append({"recipe": tags["recipe"], "recipe_hash": tags["recipe_hash"],
                    "seed": int(tags["seed"]), "test_accuracy": metrics["test_accuracy"],
                    "wall_s": metrics["wall_s"],
                    "phases": {p: metrics.get(f"time_{p}_s") for p in PHASES}})
    return sorted(out, key=lambda r: (r["recipe"], r["seed"]))


def take_turn(code: Path, jobs: int | None, recipes: str, seeds: str, out_dir: Path,
              echo=print) -> dict:
    """One turn: the reproduction in `code` from a fresh store, timed whole; its rows appended,
    then its runs' test answers (by the turn's own code) kept in reproduce_jobs_answers/."""
    from reproductions.bench.models import matmul_peak
    from tracking import REPO_ROOT
    from tracking.tags import cpu_kind, git_commit, machine

    python = code / ".venv" / "bin" / "python"
    command = ["python", "-m", "reproductions", "reproduce", "--dataset", "mnist",
               "--recipes", recipes, "--seeds", seeds] + (["--jobs", str(jobs)] if jobs else [])
    peak = matmul_peak()
    turns = _read(out_dir / "reproduce_jobs_timing.csv")
    turn = 1 + max((int(t["turn"]) for t in turns), default=0)
    # kept (runs/ is not committed): the store can be read again if anything after the run fails
    folder = REPO_ROOT / "runs" / "time-job" / f"turn{turn}-{time.strftime('%Y%m%dT%H%M%S')}"
    folder.mkdir(parents=True)
    store = f"sqlite:///{folder}/mlflow.db"
    # the turn runs as the user would run it, TensorFlow's lines and errors in its log
    env = users_log_level({**os.environ, "MLFLOW_TRACKING_URI": store})
    log = folder / "reproduce.log"
    load, started = os.getloadavg()[0], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    echo(f"turn {turn}: {' '.join(command)} in {code} (log: {log})")
    t0 = time.perf_counter()
    with open(log, "wb") as f:
        done = subprocess.run([str(python)] + command[1:], cwd=code, env=env, stdout=f,
                              stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"the reproduction exited with {done.returncode}; its output: {log}")
    runs = trained_runs(store)
    commit = subprocess.run(["git", "-C", str(code), "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain",
                            "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    row = {"turn": turn, "started_utc": started, "code": commit[:7] + ("-dirty" if dirty else ""),
           "git_commit": git_commit(),  # the measuring code's
           "jobs": jobs or "", "wall_s": f"{wall:.1f}", "runs": len(runs), "recipes": recipes,
           "seeds": seeds, "load_1m": f"{load:.2f}", "machine": machine(), "cpu_kind": cpu_kind(),
           "matmul_peak_gflops": f"{peak:.0f}", "command": " ".join(command)}
    append_csv_rows(out_dir / "reproduce_jobs_runs.csv", RUN_COLUMNS, [
        {"turn": turn, **{k: r[k] for k in RUN_COLUMNS[1:]}} for r in runs])
    append_csv_rows(out_dir / "reproduce_jobs_overheads.csv", OVERHEAD_COLUMNS, [
        {"turn": turn, "recipe": r["recipe"], "seed": r["seed"], "wall_s": f"{r['wall_s']:.2f}",
         **{f"{p}_s": "" if v is None else f"{v:.2f}" for p, v in r["phases"].items()}}
        for r in runs if any(v is not None for v in r["phases"].values())])
    append_csv_rows(out_dir / "reproduce_jobs_timing.csv", COLUMNS, [row])
    echo(f"turn {turn}: {wall:.0f} s, {len(runs)} runs ({row['machine']}, {row['cpu_kind']})")
    answers_dir = out_dir / "reproduce_jobs_answers"
    answers_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(answers_dir / f"turn{turn}.npz") as temp:
        got = subprocess.run([str(python), "-c", ANSWERS_SCRIPT], cwd=code, capture_output=True,
                             env={**env, "TIME_JOB_STORE": store, "TIME_JOB_OUT": str(temp)},
                             text=True)
        if got.returncode != 0:
            raise RuntimeError(f"the turn's rows are written; its runs' test answers are not "
                               f"({got.stderr.strip().splitlines()[-1:]}); its store: {store}")
    return row


def job_estimate(turn_wall: float, recipes: list[str], committed: list[dict]) -> float | None:
    """The default job's time at this turn's pace: the turn's wall scaled by the committed
    per-seed times (reproductions/results/mnist_seeds.csv) of every default recipe times its
    declared seeds, over those of the turn's runs. The turn's fixed costs (start-up, the plan,
    the tables) scale with it: an over-estimate of a few seconds."""
    from reproductions.recipes import RECIPES

    def per_seed(name):
        walls = [float(r["wall_s"]) for r in committed
                 if r["recipe"] == name and r["recipe_hash"] == RECIPES[name].hash()]
        return sum(walls) / len(walls) if walls else None

    turn = [per_seed(n) for n in recipes]
    job = [(per_seed(n), len(r.seeds)) for n, r in RECIPES.items()
           if r.family == "mnist" and not r.study]
    if None in turn or any(w is None for w, _ in job):
        return None
    return turn_wall * sum(w * k for w, k in job) / sum(turn)


def report(out_dir: Path) -> Path:
    """reproduce_jobs_timing.md from the rows and the kept answers."""
    turns = _read(out_dir / "reproduce_jobs_timing.csv")
    runs = _read(out_dir / "reproduce_jobs_runs.csv")
    committed = _read(RESULTS / "mnist_seeds.csv")
    lines = ["# The whole reproduction's wall time, code against code (generated by `python -m "
             "reproductions time-job --report` from reproduce_jobs_timing.csv and "
             "reproduce_jobs_runs.csv, written by the turns' `time-job --code ...`)", "",
             "Each turn runs the command shown in that checkout, from a fresh MLflow store, timed "
             "whole (start-up, plan, runs, tables); jobs empty: the code has no --jobs (one "
             "process). Speed-up: the wall of the latest one-process turn of older code before it "
             "on the same machine, over this turn's. Job estimate: this turn's wall scaled to "
             "every default recipe on its declared seeds by the committed per-seed times "
             "(mnist_seeds.csv).", "",
             "| turn | started (UTC) | code | jobs | wall s | runs | speed-up | job estimate | "
             "machine | CPU kind | matmul peak GFLOP/s | 1-min load before |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    baselines = {}  # the latest one-process turn of older code, per machine and CPU kind
    for t in turns:
        recipes = t["recipes"].split(",")
        if not t["jobs"]:
            baselines[_kind(t)] = t
        baseline = baselines.get(_kind(t))
        ratio = (float(baseline["wall_s"]) / float(t["wall_s"])
                 if baseline and baseline is not t and baseline["recipes"] == t["recipes"]
                 else None)
        estimate = job_estimate(float(t["wall_s"]), recipes, committed)
        lines.append(f"| {t['turn']} | {t['started_utc']} | {t['code']} | {t['jobs'] or '-'} | "
                     f"{float(t['wall_s']):.0f} | {t['runs']} | "
                     f"{f'{ratio:.2f}x' if ratio else '-'} | "
                     f"{f'{estimate / 3600:.1f} h' if estimate else '-'} | {t['machine']} | "
                     f"{t['cpu_kind']} | {t['matmul_peak_gflops']} | {t['load_1m']} |")
    sets = sorted({t["recipes"] for t in turns})
    lines += ["", "Recipes: " + "; ".join(
        f"turns {', '.join(t['turn'] for t in turns if t['recipes'] == r)}: {r}" for r in sets)
        + "."]
    lines += ["", "## Run by run", "",
              "Test accuracy of each run in each turn, and how many of the 10,000 test answers "
              "differ from the same (recipe, seed) in the first turn of new code at one job "
              "(`jobs` 1) on the same machine and CPU kind: 0 means the run is the same to the "
              "last answer.", "",
              "| recipe | seed | " + " | ".join(f"turn {t['turn']} ({t['code']}, jobs "
                                                f"{t['jobs'] or '-'})" for t in turns) + " |",
              "|---|---|" + "---|" * len(turns)]
    kept = {t["turn"]: out_dir / "reproduce_jobs_answers" / f"turn{t['turn']}.npz" for t in turns}
    answers = {turn: dict(np.load(path)) for turn, path in kept.items() if path.exists()}
    refs = {}  # per machine and CPU kind: a oneDNN capped below AVX-512 sums in other orders
    for t in turns:
        if t["jobs"] == "1":
            refs.setdefault(_kind(t), t["turn"])
    pairs = sorted({(r["recipe"], int(r["seed"])) for r in runs})
    for recipe, seed in pairs:
        cells = []
        for t in turns:
            row = next((r for r in runs if r["turn"] == t["turn"] and r["recipe"] == recipe
                        and int(r["seed"]) == seed), None)
            if row is None:
                cells.append("-")
                continue
            key = f"{recipe}-seed{seed}"
            differ, ref = "", refs.get(_kind(t))
            if ref and key in answers.get(ref, {}) and key in answers.get(t["turn"], {}):
                differ = f", {int(np.sum(answers[ref][key] != answers[t['turn']][key]))} differ"
            cells.append(f"{100 * float(row['test_accuracy']):.2f}% ({float(row['wall_s']):.0f} s"
                         f"{differ})")
        lines.append(f"| {recipe} | {seed} | " + " | ".join(cells) + " |")
    path = out_dir / "reproduce_jobs_timing.md"
    write_text(path, "\n".join(lines) + "\n")
    return path


def _kind(turn: dict) -> tuple:
    """Turns whose walls compare: the same machine and the same CPU kind (an AVX-512 CPU with its
    oneDNN capped below AVX-512 is the other kind: tracking.tags.cpu_kind)."""
    return turn["machine"], turn["cpu_kind"]


def overheads_report(out_dir: Path) -> Path | None:
    """reproduce_jobs_overheads.md: per run of each turn that logged them, the seconds of each
    phase outside the training steps (reproductions/run/phases.py) beside the training time."""
    rows = _read(out_dir / "reproduce_jobs_overheads.csv")
    if not rows:
        return None
    turns = {t["turn"]: t for t in _read(out_dir / "reproduce_jobs_timing.csv")}
    lines = ["# What a run spends besides its training steps (generated by `python -m "
             "reproductions time-job --report` from reproduce_jobs_overheads.csv, written by the "
             "turns of reproduce_jobs_timing.md)", "",
             "Seconds per run. training: the run's wall_s (its steps and validation; a published "
             "recipe's tests on its source's cadence are kept out of it and shown as test_evals). "
             "startup: the process's start to its first run, once a process (with --jobs N, once "
             "a worker). system_metrics: CPU seconds of MLflow's sampling thread, beside the "
             "steps. What the phases hold: reproductions/run/phases.py.", ""]
    for turn in sorted({r["turn"] for r in rows}, key=int):
        t = turns.get(turn, {})
        mine = [r for r in rows if r["turn"] == turn]
        shown = [p for p in PHASES if any(r[f"{p}_s"] for r in mine)]
        lines += [f"## Turn {turn}: {t.get('command', '?')} (code {t.get('code', '?')}; "
                  f"{t.get('machine', '?')}, {t.get('cpu_kind', '?')})", "",
                  "| recipe | seed | training | " + " | ".join(shown)
                  + " | outside training, all | share |",
                  "|---|---|---|" + "---|" * len(shown) + "---|---|"]
        busy = []  # each run's time in its worker: training and outside, start-up left out
        for r in sorted(mine, key=lambda r: (r["recipe"], int(r["seed"]))):
            # system_metrics runs beside the steps, not between them: not added
            outside = sum(float(r[f"{p}_s"] or 0) for p in shown if p != "system_metrics")
            wall = float(r["wall_s"])
            busy.append(wall + outside - float(r.get("startup_s") or 0))
            lines.append(f"| {r['recipe']} | {r['seed']} | {wall:.1f} | "
                         + " | ".join(r[f"{p}_s"] or "-" for p in shown)
                         + f" | {outside:.1f} | {100 * outside / (outside + wall):.0f}% |")
        jobs = int(t.get("jobs") or 1)
        bound = best_split(busy, jobs) if jobs > 1 else None
        if bound is not None:
            lines += ["", f"The best split of these runs over {jobs} workers (each run's time: "
                      f"training and outside it, start-up left out; every assignment of whole "
                      f"runs tried): {bound:,.0f} s for the busiest worker, against the turn's "
                      f"{float(t['wall_s']):,.0f} s wall. With these run times no order of "
                      f"handing out the runs finishes sooner."]
        lines.append("")
    path = out_dir / "reproduce_jobs_overheads.md"
    write_text(path, "\n".join(lines))
    return path


def run(args) -> int:
    """The `time-job` verb (arguments: its room's verbs.py)."""
    out_dir = out_folder(args, RESULTS)  # before the turn: a bad --out-dir costs nothing
    if args.report and not (out_dir / "reproduce_jobs_timing.csv").is_file():
        print(f"error: no turn recorded in {out_dir / 'reproduce_jobs_timing.csv'}: take one "
              "first (time-job --code <checkout>)", file=sys.stderr)
        return 2
    if not args.report:
        code = Path(args.code).resolve()
        if not (code / ".venv" / "bin" / "python").exists():
            args.verb_parser.error(f"{code} has no .venv/bin/python: give a checkout of the "
                                   "suite with its environment (make venv there, or link one)")
        # this process measures the matmul peak with TensorFlow: its start-up lines kept off
        # the console (zoo/quiet.py); the turn's own output goes to the turn's log
        import_keras_quietly()
        try:
            take_turn(code, args.jobs, ",".join(args.recipes or DEFAULT_RECIPES),
                      ",".join(map(str, args.seeds)), out_dir)
        except RuntimeError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    print(f"wrote {report(out_dir)}")
    if (path := overheads_report(out_dir)) is not None:
        print(f"wrote {path}")
    return 0
