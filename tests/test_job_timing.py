"""`time-job` (issue 26): the whole reproduction timed in turns, old code against new; its report
from rows written by hand here (the speed-up against the one-process turn before it, the test
answers that differ run by run), and a checkout without an environment refused."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np

from reproductions.bench import job_timing

REPO = Path(__file__).resolve().parents[1]


def _write(path, columns, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def test_the_report_gives_each_turn_its_speed_up_and_the_answers_that_differ(tmp_path):
    base = {"started_utc": "2026-12-05T00:00:00Z", "git_commit": "x", "runs": 2,
            "recipes": "softmax,mlp5", "seeds": "1", "load_1m": "0.1", "machine": "M, 2 cores",
            "cpu_kind": "AVX-512", "matmul_peak_gflops": "400", "command": "c"}
    capped = base | {"cpu_kind": "no AVX-512: an AVX-512 CPU with oneDNN capped at AVX2"}
    _write(tmp_path / "reproduce_jobs_timing.csv", job_timing.COLUMNS, [
        {**base, "turn": 1, "code": "bef7f1e", "jobs": "", "wall_s": "300.0"},
        {**base, "turn": 2, "code": "new", "jobs": "1", "wall_s": "250.0"},
        {**base, "turn": 3, "code": "new", "jobs": "2", "wall_s": "150.0"},
        # the other CPU kind on the same machine: its own baseline, its own answers' reference
        {**capped, "turn": 4, "code": "bef7f1e", "jobs": "", "wall_s": "600.0"},
        {**base, "turn": 5, "code": "bef7f1e", "jobs": "", "wall_s": "320.0"},
        {**capped, "turn": 6, "code": "new", "jobs": "2", "wall_s": "400.0"}])
    _write(tmp_path / "reproduce_jobs_runs.csv", job_timing.RUN_COLUMNS, [
        {"turn": t, "recipe": "softmax", "recipe_hash": "h", "seed": 1, "test_accuracy": acc,
         "wall_s": 5.0} for t, acc in ((1, 0.92), (2, 0.92), (3, 0.9203), (4, 0.92), (5, 0.92),
                                     (6, 0.92))])
    folder = tmp_path / "reproduce_jobs_answers"
    folder.mkdir()
    answers = np.zeros(10000, np.uint8)
    moved = answers.copy()
    moved[[3, 7, 11]] = 1
    for turn, a in ((1, answers), (2, answers), (3, moved), (4, moved), (5, answers),
                    (6, moved)):
        np.savez(folder / f"turn{turn}.npz", **{"softmax-seed1": a})
    text = job_timing.report(tmp_path).read_text()
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()
            if line.startswith("| ") and line[2].isdigit()}
    assert "| - |" in rows["1"]  # the baseline: no speed-up of its own
    assert "| 1.20x |" in rows["2"] and "| 2.00x |" in rows["3"]
    assert "| - |" in rows["4"] and "| 1.50x |" in rows["6"]  # against turn 4, not turn 5
    softmax = next(line for line in text.splitlines() if line.startswith("| softmax | 1 |"))
    cells = softmax.split(" | ")[2:]
    assert "0 differ" in cells[0] and "0 differ" in cells[1] and "3 differ" in cells[2]
    assert "92.03%" in cells[2]
    # no one-job turn of the capped kind: nothing to count differences against
    assert "differ" not in cells[3] and "differ" not in cells[5]


def test_a_checkout_without_its_environment_is_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "reproductions", "time-job", "--code",
                           str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "has no .venv/bin/python" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_best_split_is_found_by_trying_every_assignment_not_by_greed():
    # longest first ends at 10 (5 + 3 against 4 + 3 + 3); the best is 5 + 4 against 3 + 3 + 3
    assert job_timing.best_split([5, 4, 3, 3, 3], 2) == 9
    # three workers: 5 alone, then 4 + 3 and 3 + 3 (the 13 left cannot split below 7)
    assert job_timing.best_split([5, 4, 3, 3, 3], 3) == 7
    assert job_timing.best_split([8.0], 2) == 8.0
    assert job_timing.best_split([1.0] * 20, 2) is None  # too many assignments to try
    assert job_timing.best_split([], 2) is None


def test_the_overheads_report_bounds_a_turn_of_several_workers_by_its_best_split(tmp_path):
    """Each run's time in its worker is its training and what it spent outside training, the
    worker's start-up left out and MLflow's sampling thread (beside the steps) too; a turn of
    two workers is bounded by the best split of those times, a one-process turn is not."""
    base = {"started_utc": "2026-12-05T00:00:00Z", "git_commit": "x", "runs": 3,
            "recipes": "a,b,c", "seeds": "1", "load_1m": "0.1", "machine": "M, 2 cores",
            "cpu_kind": "AVX-512", "matmul_peak_gflops": "400", "command": "c"}
    _write(tmp_path / "reproduce_jobs_timing.csv", job_timing.COLUMNS, [
        {**base, "turn": 1, "code": "new", "jobs": "1", "wall_s": "2000.0"},
        {**base, "turn": 2, "code": "new", "jobs": "2", "wall_s": "1500.0"}])
    empty = dict.fromkeys(job_timing.OVERHEAD_COLUMNS, "")
    rows = []
    for turn in (1, 2):
        rows += [
            # 1,000 + 200 outside (test_evals), its worker's 7 s of start-up not counted
            empty | {"turn": turn, "recipe": "a", "seed": 1, "wall_s": 1000.0,
                     "test_evals_s": 200.0, "startup_s": 7.0, "system_metrics_s": 50.0},
            empty | {"turn": turn, "recipe": "b", "seed": 1, "wall_s": 700.0,
                     "artifacts_s": 100.0},
            empty | {"turn": turn, "recipe": "c", "seed": 1, "wall_s": 300.0,
                     "data_s": 100.0}]
    _write(tmp_path / "reproduce_jobs_overheads.csv", job_timing.OVERHEAD_COLUMNS, rows)
    text = job_timing.overheads_report(tmp_path).read_text()
    one, two = text.split("## Turn 2")
    assert "best split" not in one
    # runs of 1,200, 800 and 400 s: 1,200 alone against 800 + 400
    assert ("best split of these runs over 2 workers" in two and
            "1,200 s for the busiest worker, against the turn's 1,500 s wall" in two)
