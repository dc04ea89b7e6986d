"""The benchmark's quick mode runs end to end and writes a well-formed CSV. No timing is asserted:
timings are figures to read, not to test."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from reproductions.bench.models import COLUMNS, forward_flops

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_quick_benchmark_writes_a_well_formed_csv(tmp_path):
    out = tmp_path / "bench.csv"
    done = subprocess.run([sys.executable, "-m", "reproductions", "bench", "--quick", "--models",
                           "softmax,conv3_bn,xo_lecture,conv7_bn_ensemble", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader(out.open()))
    assert [r["model"] for r in rows] == ["softmax", "conv3_bn", "xo_lecture",
                                          "conv7_bn_ensemble"]
    assert tuple(rows[0]) == COLUMNS
    for row in rows:
        for key in ("train_img_per_s", "infer_img_per_s_b1000", "latency_b1_ms_median",
                    "peak_rss_mb", "matmul_gflop_per_s"):
            assert float(row[key]) > 0
        assert row["mode"] == "quick" and "cores" in row["machine"]
    assert rows[1]["params"] == "708362"
    # the ensemble trains like its members' net (no recipe of its own), 8 of them at once
    assert rows[3]["recipe"] == "conv7_bn" and rows[3]["params"] == str(8 * 326_410)
    assert float(rows[3]["fwd_mflop_per_image"]) > 8 * 30


def test_forward_flops_counts_the_layers():
    import zoo

    # softmax: one 784 x 10 dense layer, 2 FLOPs per multiply-add
    assert forward_flops(zoo.create_model("softmax")) == 2 * 784 * 10
    # conv3_bn by hand: 28*28*24*36 + 14*14*48*600 + 7*7*64*768 + 3136*200 + 200*10 MACs
    macs = 28 * 28 * 24 * 36 + 14 * 14 * 48 * 600 + 7 * 7 * 64 * 768 + 3136 * 200 + 200 * 10
    assert forward_flops(zoo.create_model("conv3_bn")) == 2 * macs


def test_forward_flops_counts_every_member_of_an_ensemble():
    """An ensemble holds its members as nested models: each one's layers count."""
    import zoo
    from zoo.models.ensemble import ensemble

    members = [zoo.create_model("softmax"), zoo.create_model("softmax")]
    assert forward_flops(ensemble(members, name="two")) == 2 * (2 * 784 * 10)


def test_export_benchmark_writes_every_runtime_and_refuses_an_unknown_weight(tmp_path):
    from reproductions.bench.export import COLUMNS as EXPORT_COLUMNS
    from reproductions.bench.export import RUNTIMES

    out = tmp_path / "export_bench.csv"
    done = subprocess.run([sys.executable, "-m", "reproductions", "bench-export", "--weights",
                           "xo_lecture.*", "--out", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader(out.open()))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [r["runtime"] for r in rows] == [runtime for runtime, _ in RUNTIMES]
    for row in rows:
        assert row["weight"] == "xo_lecture.lecture" and "cores" in row["machine"]
        for key in ("size_bytes", "load_ms", "latency_b1_ms_median", "latency_b1000_ms_median",
                    "img_per_s_b1000"):
            assert float(row[key]) > 0, (row["runtime"], key)
        # every one of the 2,000 test images through each runtime, against Keras' answers
        assert row["test_inputs"] == "2000" and row["classes_differing_vs_keras"] == "0"
        assert 0 <= float(row["max_abs_diff_vs_keras"]) < 1e-4
    assert float(rows[0]["max_abs_diff_vs_keras"]) == 0  # Keras against itself
    bad = subprocess.run([sys.executable, "-m", "reproductions", "bench-export", "--weights",
                          "nope*", "--out", str(tmp_path / "x.csv")], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "no shipped weight matches 'nope*'" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "x.csv").exists()
