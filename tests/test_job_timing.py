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
