"""What MLflow logging costs a training run: `python -m reproductions bench-logging`.

Trains a copy of a recipe (default: softmax, the shortest run per logged point: 10,000 steps,
100 points per training metric, in about 8 s) in a temporary store, alternating three set-ups,
each `--repeats` times after one warm-up run:

    off      no step curves (evaluation figures only) and no system metrics
    curves   the training loss and accuracy every few steps (tracking/curves.py)
    system   curves, and MLflow's system metrics (log_system_metrics=True)

and prints, for each, the median of the run's wall time (training and evaluation, the logged
`wall_s`) and of the whole train_run call (with the datasets, artifacts and parent update), and
the time the curve callback itself spent on the training thread; then the time logging the
data sets takes, and what MLflow would spend on their digest had none been passed. Nothing is written to the
default store; the copies are named "<recipe>-bench-<set-up>-<i>", so nothing is skipped.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

from reproductions.recipes import derive, get_recipe, parse_override
from tracking.tags import machine

SETUPS = {"off": dict(step_curves=False, system_metrics=False),
          "curves": dict(step_curves=True, system_metrics=False),
          "system": dict(step_curves=True, system_metrics=True)}


def run(args) -> int:
    try:
        recipe = get_recipe(args.recipe)
        overrides = dict(parse_override(text) for text in args.set)
        if overrides:
            recipe = derive(recipe, overrides)
    except (KeyError, ValueError) as err:
        args.verb_parser.error(str(err).strip("'\""))
    if args.repeats < 1:
        args.verb_parser.error("--repeats must be at least 1")
    with tempfile.TemporaryDirectory(prefix="zoo-bench-logging-") as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
        from reproductions.run.train import train_run  # after the store is chosen

        def once(name, setup):
            copy = dataclasses.replace(recipe, name=f"{recipe.name}-bench-{name}")
            t0 = time.perf_counter()
            result = train_run(copy, recipe.seeds[0], checkpoint_root=Path(tmp) / "ck",
                               log_mlflow_model=False, **SETUPS[setup])
            datasets_s.append(result["dataset_logging_s"])
            run_ids.append(result["run_id"])
            return result["wall_s"], time.perf_counter() - t0, result["curve_logging_s"]

        datasets_s, run_ids = [], []
        print(f"machine: {machine()}; python -m reproductions bench-logging --recipe "
              f"{recipe.name} --repeats {args.repeats}", flush=True)
        once("warm-up", "off")
        found = {s: [] for s in SETUPS}
        for i in range(args.repeats):
            for setup in SETUPS:
                found[setup].append(once(f"{setup}-{i}", setup))
                print(f"{setup:7} #{i}: wall {found[setup][-1][0]:.2f} s, whole call "
                      f"{found[setup][-1][1]:.2f} s", flush=True)
        sample_s, cycle_s = _sampler_cost_s(run_ids[-1])
    base_wall = statistics.median(w for w, _, _ in found["off"])
    base_call = statistics.median(c for _, c, _ in found["off"])
    print(f"\n{recipe.name} ({recipe.steps} steps), median of {args.repeats} runs each:")
    print(f"{'set-up':8} {'wall s':>8} {'vs off':>8} {'call s':>8} {'vs off':>8} "
          f"{'curve callback s':>17}")
    for setup, rows in found.items():
        wall = statistics.median(w for w, _, _ in rows)
        call = statistics.median(c for _, c, _ in rows)
        inloop = statistics.median(s for _, _, s in rows)
        print(f"{setup:8} {wall:8.2f} {100 * (wall / base_wall - 1):+7.1f}% {call:8.2f} "
              f"{100 * (call / base_call - 1):+7.1f}% {inloop:10.4f} "
              f"({100 * inloop / wall:.2f}% of wall)")
    print(f"system metrics: one sample (psutil) {1000 * sample_s:.2f} ms, one sampling cycle "
          f"(sample, the run's status read, 8 metrics written) {1000 * cycle_s:.1f} ms, every "
          f"10 s: {100 * cycle_s / 10:.3f}% of a run's time")
    print(f"logging the run's data sets (once, before training): median "
          f"{statistics.median(datasets_s[1:]):.3f} s; MLflow's own digest of the training "
          f"part would take {_mlflow_digest_s(recipe):.4f} s")
    return 0


def _sampler_cost_s(run_id: str) -> tuple[float, float]:
    """(one sample, one whole cycle) of MLflow's system-metrics sampler, medians of 20, against
    the benchmark's store: what its thread does every 10 s of a run."""
    from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor
    from mlflow.tracking import MlflowClient

    monitor = SystemMetricsMonitor(run_id)  # not started: its steps are timed one by one
    monitor.collect_metrics()  # psutil's CPU percentage needs a first call to compare with
    samples, cycles = [], []
    for step in range(20):
        t0 = time.perf_counter()
        monitor.collect_metrics()
        t1 = time.perf_counter()
        MlflowClient().get_run(run_id)
        monitor.publish_metrics(monitor.aggregate_metrics())
        monitor.mlflow_logger.flush()
        samples.append(t1 - t0)
        cycles.append(time.perf_counter() - t0)
    return statistics.median(samples), statistics.median(cycles)


def _mlflow_digest_s(recipe) -> float:
    """What MLflow would spend hashing the training arrays (median of 5), had no digest been
    passed (it hashes the first 10,000 rows)."""
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.numpy_dataset import NumpyDataset

    from reproductions.run.prepare import load_data

    x, y = load_data(recipe).train
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        NumpyDataset(x, CodeDatasetSource({}), targets=y).digest
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
