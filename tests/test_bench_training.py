"""The training-speed study runs end to end (tiny segments) and writes a well-formed CSV; no
timing is asserted: figures come from `make bench-training`, not from tests."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_quick_study_writes_one_row_per_variant(tmp_path):
    out = tmp_path / "bench_training.csv"
    done = subprocess.run([sys.executable, "-m", "reproductions", "bench-training", "--quick",
                           "--variants", "before,recipe,mlp5_recipe", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader(out.open()))
    assert [r["variant"] for r in rows] == ["before", "recipe", "mlp5_recipe"]
    for row in rows:
        assert float(row["img_per_s"]) > 0 and row["mode"] == "quick" and row["machine"]
    assert rows[1]["steps_per_execution"] == "100" and rows[2]["model"] == "mlp5"


def test_unknown_variant_is_refused_with_the_known_ones():
    done = subprocess.run([sys.executable, "-m", "reproductions", "bench-training", "--variants",
                           "warp_speed"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "unknown variant(s) warp_speed; known: before" in done.stderr
