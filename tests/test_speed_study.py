"""Issue 18's measuring tools, without measuring: the profile's reading of TensorFlow's XSpace
(a hand-made XSpace with known times), the profile verb end to end on a few steps, and the
refusals. Figures come from `make profile`, `make bench-peers`, `make bench`, `make
time-alternating`, never from tests."""

import csv
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reproductions.bench.profile import _is_op_event, op_table

REPO = Path(__file__).resolve().parents[1]


def _xspace(lines):
    """An XSpace with one host plane; lines: {thread name: [(name, start_us, duration_us)]}."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    plane = space.planes.add(name="/host:CPU")
    ids = {}
    for i, (thread, events) in enumerate(lines.items()):
        line = plane.lines.add(id=i, name=thread, timestamp_ns=1000)
        for name, start, duration in events:
            if name not in ids:
                ids[name] = len(ids) + 1
                plane.event_metadata[ids[name]].id = ids[name]
                plane.event_metadata[ids[name]].name = name
            line.events.add(metadata_id=ids[name], offset_ps=start * 10**6,
                            duration_ps=duration * 10**6)
    return space


def test_op_table_counts_self_time_per_type_and_place():
    space = _xspace({
        "tf_Compute/1": [
            ("train/call:StatefulPartitionedCall", 0, 100),  # runs the next two inside it
            ("train/conv:_MklNativeConv2D", 10, 30),
            ("train/mul:Mul", 50, 20),
            ("ExecutorState::Process", 0, 200),  # the runtime's own event: not an op
            ("train/mul_1:Mul", 150, 10),
        ],
        "tf_data_private_threadpool/2": [
            ("Iterator::Root::Prefetch", 0, 80),  # tf.data's iterator event: not an op
            ("GatherV2:GatherV2", 5, 4),
        ],
    })
    table, totals = op_table(space)
    got = {(r.op_type, r.where): (r.self_us, r.count) for r in table}
    assert got == {("StatefulPartitionedCall", "step"): (50.0, 1),
                   ("_MklNativeConv2D", "step"): (30.0, 1), ("Mul", "step"): (30.0, 2),
                   ("GatherV2", "input"): (4.0, 1)}
    assert [r.op_type for r in table][:1] == ["StatefulPartitionedCall"]  # by self time
    assert totals == {"span_us": 160.0, "threads": 2}


@pytest.mark.parametrize("name, is_op", [
    ("a/b/conv:Conv2D", True), ("x:_MklMatMul", True), ("Iterator::Root::Range", False),
    ("ExecutorState::Process", False), ("MemoryAllocation", False), (":Mul", False),
    ("a:b:Mul", False), ("while/x:lowercase", False)])
def test_op_events_are_told_from_runtime_events(name, is_op):
    assert _is_op_event(name) is is_op


@pytest.mark.parametrize("variant, isa, name", [
    ((), None, "conv3_bn"),
    # a variant (goal 2's experiments): derived as reproduce derives, named by what was set
    (("--set", "batch_size=20", "--set", "precision=mixed_bfloat16"), None,
     "conv3_bn+batch_size=20+precision=mixed_bfloat16"),
    # oneDNN capped below AVX-512: the other machine kind, approximately, on an AVX-512 one
    ((), "AVX2", "conv3_bn+isa=AVX2"),
    # Keras' BatchNorm ops instead of the fused kernel the suite trains with: a value with
    # brackets and quotes, kept out of the file name and quoted in the command
    (("--set", 'model_options=[["fused_bn", false]]'), None,
     "conv3_bn+model_options=fused_bn,false")])
def test_profile_writes_its_table_from_a_few_real_steps(tmp_path, variant, isa, name):
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    done = subprocess.run([sys.executable, "-m", "reproductions", "profile", "conv3_bn",
                           "--steps", "4", *variant, "--out-dir", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600,
                          env=env | ({"ONEDNN_MAX_CPU_ISA": isa} if isa else {}))
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / f"profile_{name}.csv").open()))
    types = {r["op_type"] for r in rows}
    assert any("Conv2D" in t for t in types), types  # the convolutions are in the profile
    assert abs(sum(float(r["share"]) for r in rows) - 1) < 0.01
    md = (tmp_path / f"profile_{name}.md").read_text()
    assert "GFLOP/s" in md and "matmul peak" in md
    batch = 20 if "batch_size=20" in variant else 100
    assert f"a step of {batch} images" in md
    prefix = "ONEDNN_MAX_CPU_ISA=AVX2 " if isa else ""
    typed = f"python -m reproductions profile conv3_bn --steps 4{' ' * bool(variant)}" \
        + shlex.join(variant)
    assert f"`{prefix}{typed}`" in md
    flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    if isa and "avx512f" in flags:  # the machine line says what the numbers are of
        assert "(no AVX-512: an AVX-512 CPU with oneDNN capped at AVX2)" in md
    elif isa:
        assert "(no AVX-512)" in md
    # conv3_bn's convolutions' BatchNorm: the fused kernel, unless the variant asks for Keras'
    # ops or computes in bfloat16 (the kernel is float32's: zoo.layers)
    fused = any("FusedBatchNorm" in t for t in types)
    assert fused is ("fused_bn" not in name and "bfloat16" not in name), types
    if "precision=mixed_bfloat16" in variant:  # the casts are in the profile, its own peak beside
        assert any("Cast" in t for t in types), types
        assert "of the bfloat16 matmul peak" in md
    else:
        assert "bfloat16" not in md


@pytest.mark.parametrize("value, cap", [
    (None, None), ("", None), ("ALL", None), ("default", None), ("AVX512_CORE", None),
    ("avx512_core_amx", None), ("AVX10_1_512", None),
    ("AVX2", "AVX2"), (" avx2_vnni ", "AVX2_VNNI"), ("SSE41", "SSE41")])
def test_a_onednn_cap_below_avx512_is_the_other_kind(monkeypatch, value, cap):
    from tracking.tags import onednn_isa_cap

    if value is None:
        monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    else:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", value)
    assert onednn_isa_cap() == cap


@pytest.mark.parametrize("argv, message", [
    (["profile", "conv99"], "unknown recipe 'conv99'"),
    (["profile", "conv3_bn", "--steps", "0"], "'0' is not a whole number from 1"),
    (["profile", "conv3_bn", "--set", "widht=2"], "widht"),
    (["profile", "conv3_bn", "--set", "batch_size=0"], "batch_size")])
def test_profile_refuses_bad_input(argv, message):
    done = subprocess.run([sys.executable, "-m", "reproductions", *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_peers_alternate_their_order_round_by_round():
    from reproductions.bench.peers import round_order

    assert round_order(["recipe", "torch_best", "keras_jax"], 3) == [
        ["recipe", "torch_best", "keras_jax"], ["keras_jax", "torch_best", "recipe"],
        ["recipe", "torch_best", "keras_jax"]]


def test_peers_summary_takes_ratios_within_rounds():
    from reproductions.bench.peers import summarise

    rows = [{"round": 1, "variant": "recipe", "img_per_s": 2000.0, "status": "ok"},
            {"round": 1, "variant": "keras_jax", "img_per_s": 1000.0, "status": "ok"},
            {"round": 2, "variant": "recipe", "img_per_s": 1000.0, "status": "ok"},  # slow round
            {"round": 2, "variant": "keras_jax", "img_per_s": 400.0, "status": "ok"},
            {"round": 3, "variant": "recipe", "img_per_s": 1500.0, "status": "ok"},
            {"round": 3, "variant": "keras_jax", "img_per_s": None, "status": "failed"},
            {"round": 1, "variant": "torch_best", "img_per_s": 4000.0, "status": "ok"}]
    summary = {s["variant"]: s for s in summarise(rows, ["recipe", "keras_jax", "torch_best"])}
    assert summary["recipe"]["median_img_per_s"] == 1500.0
    assert summary["recipe"]["zoo_over_variant_median"] is None
    assert summary["keras_jax"]["rounds"] == 2
    assert summary["keras_jax"]["zoo_over_variant_median"] == 2.25  # median of 2.0 and 2.5
    assert summary["keras_jax"]["zoo_ahead"] == "yes"
    assert summary["torch_best"]["zoo_over_variant_median"] == 0.5
    assert summary["torch_best"]["zoo_ahead"] == "no"


@pytest.mark.parametrize("argv, message", [
    (["bench-peers", "--variants", "torch_best"], "must include 'recipe'"),
    (["bench-peers", "--variants", "recipe,warp"], "unknown variant 'warp'"),
    (["bench-peers", "--rounds", "0"], "'0' is not a whole number from 1")])
def test_peers_refuse_bad_input(argv, message):
    done = subprocess.run([sys.executable, "-m", "reproductions", *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_bench_latency_writes_every_fast_path_beside_the_goal(tmp_path):
    from reproductions.bench.models import LATENCY_COLUMNS

    done = subprocess.run([sys.executable, "-m", "reproductions", "bench", "--latency-only",
                           "--quick", "--out", str(tmp_path / "bench.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / "latency.csv").open()))
    assert tuple(rows[0]) == LATENCY_COLUMNS
    assert [r["path"] for r in rows] == [
        "keras predict_on_batch", "tf.function jit_compile=False", "tf.function jit_compile=True",
        "onnxruntime", "litert (XNNPACK)"]
    for row in rows:
        median, p90 = float(row["latency_b1_ms_median"]), float(row["latency_b1_ms_p90"])
        assert 0 < median <= p90 and row["goal_ms"] == "0.5" and row["mode"] == "quick"
        assert row["meets_goal"] == ("yes" if median <= 0.5 else "no")
    assert "goal: median <= 0.5 ms" in done.stdout
    assert not (tmp_path / "bench.csv").exists()  # --latency-only: no model was benched


def test_time_alternating_swaps_the_order_seed_by_seed_and_writes_its_columns(tmp_path):
    from reproductions.bench import time_alternating as ta
    from reproductions.recipes import RECIPES

    a, b = RECIPES["conv3_bn_fast"], ta.resolve_recipe("conv3_bn_60s/h_b")
    calls = []

    def fake_train(recipe, seed):  # no training: a wall time that tells the runs apart
        calls.append((seed, recipe.name))
        return {"wall_s": 100.0 + seed if recipe is a else 50.0 + seed,
                "images_per_second": 2000.0, "final_val_accuracy": 0.99}

    rows = ta.alternate(a, b, [1, 2, 3], fake_train, progress=lambda _: None)
    assert calls == [(1, "conv3_bn_fast"), (1, "h_b"), (2, "h_b"), (2, "conv3_bn_fast"),
                     (3, "conv3_bn_fast"), (3, "h_b")]
    csv_path, md_path = ta.write(rows, a.name, b.name, tmp_path, [1, 2, 3],
                                 typed=("conv3_bn_fast", "conv3_bn_60s/h_b"))
    assert csv_path.name == "conv3_bn_fast_vs_h_b_timing.csv"
    # the command quoted is the one that runs: a variant as <screening>/<variant>
    assert ("`python -m reproductions time-alternating conv3_bn_fast conv3_bn_60s/h_b --seeds "
            "1,2,3`") in md_path.read_text()
    table = list(csv.DictReader(csv_path.open()))
    assert tuple(table[0]) == ta.COLUMNS
    assert [(r["seed"], r["recipe"], r["first_of_pair"]) for r in table] == [
        ("1", "conv3_bn_fast", "True"), ("1", "h_b", "False"), ("2", "h_b", "True"),
        ("2", "conv3_bn_fast", "False"), ("3", "conv3_bn_fast", "True"), ("3", "h_b", "False")]
    assert [float(r["wall_s"]) for r in table] == [101, 51, 52, 102, 103, 53]
    assert table[1]["recipe_hash"] == b.hash() and float(table[0]["total_s"]) >= 0
    # per-seed ratios B / A: 51/101, 52/102, 53/103; median 52/102
    assert ta.summary(rows, a.name, b.name)["ratio_median"] == pytest.approx(52 / 102)
    assert "median 0.510" in md_path.read_text()


@pytest.mark.parametrize("argv, message", [
    (["time-alternating", "conv3_bn_fast", "conv3_bn_fast"], "two different recipes"),
    (["time-alternating", "conv3_bn_fast", "conv3_bn_60s/zz"], "has no variant 'zz'"),
    (["time-alternating", "conv3_bn_fast", "nope/h_b"], "no screening 'nope'"),
    (["time-alternating", "conv99", "conv3_bn_fast"], "unknown recipe 'conv99'"),
    (["time-alternating", "conv3_bn", "conv3_bn_fast"], "no validation split"),
    (["time-alternating", "conv7_bn_cosine_refit", "conv7_bn_cosine"], "no validation split"),
    (["time-alternating", "conv3_bn_fast", "conv3_bn_60s/h_b", "--seeds", "1,1"],
     "repeats a seed")])
def test_time_alternating_refuses_bad_input(argv, message):
    done = subprocess.run([sys.executable, "-m", "reproductions", *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_screening_for_60_s_trains_blind_on_seeds_never_reported(tmp_path, monkeypatch):
    from reproductions.search import screen
    from reproductions.recipes import RECIPES, load_screening

    screening = load_screening("conv3_bn_60s")
    assert screening.chosen is None and 4 <= len(screening.variants) <= 6
    reported = set(RECIPES["conv3_bn_fast"].seeds)
    trained = []
    monkeypatch.setattr(screen, "train_run", lambda recipe, seed, **kw: trained.append(
        (recipe.name, seed, kw.get("blind"))))
    monkeypatch.setattr(screen, "RESULTS", tmp_path)
    monkeypatch.setattr(screen, "table", lambda s, rows=None: f"table of {s.name}\n")
    monkeypatch.setattr(screen, "run_rows", lambda s: [{"variant": "h_b"}])  # no store here
    monkeypatch.setattr(screen, "choose", lambda *a: "h_b")
    from reproductions.__main__ import build_parser

    # the verb accepts the file
    args = build_parser().parse_args(["screen", "conv3_bn_60s", "--reference"])
    assert screen.run(args) == 0
    assert {name for name, _, _ in trained} == set(screening.variants)
    assert all(blind is True and seed not in reported for _, seed, blind in trained)
    assert (tmp_path / "conv3_bn_60s_screening.md").read_text() == "table of conv3_bn_60s\n"
    precisions = {v.precision for v in screening.variants.values()}
    assert precisions == {None, "mixed_bfloat16"}  # float32 and bfloat16 candidates both


def test_precision_is_a_recipe_field_that_float32_recipes_leave_out_of_their_hash():
    from reproductions.recipes import RECIPES, derive

    fast = RECIPES["conv3_bn_fast"]
    assert fast.precision is None and "precision" not in fast.training_config()
    assert derive(fast, {"precision": None}, name=fast.name).hash() == fast.hash()
    assert derive(fast, {"precision": "mixed_bfloat16"}).hash() != fast.hash()
    with pytest.raises(ValueError, match="precision is one of None, mixed_bfloat16"):
        derive(fast, {"precision": "float16"})


def test_build_model_sets_the_recipes_dtype_policy_and_back():
    import keras

    from reproductions.run.prepare import build_model
    from reproductions.recipes import RECIPES, derive

    fast = RECIPES["conv3_bn_fast"]
    try:
        bf16 = build_model(derive(fast, {"precision": "mixed_bfloat16"}))
        assert bf16.layers[1].dtype_policy.name == "mixed_bfloat16"
        assert build_model(fast).layers[1].dtype_policy.name == "float32"  # reset, not inherited
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.backends
def test_peers_run_in_their_venvs_and_alternate(tmp_path):
    """Every contestant of bench-peers, tiny segments, 2 rounds: torch and Keras on JAX in
    .venv-backends (make test-backends builds it), the zoo's training here."""
    done = subprocess.run([sys.executable, "-m", "reproductions", "bench-peers", "--quick",
                           "--rounds", "2", "--out-dir", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / "bench_peers.csv").open()))
    order = ["recipe", "torch_threads_2", "torch_best", "keras_jax"]
    assert [r["variant"] for r in rows] == order + order[::-1]
    assert all(r["status"] == "ok" and float(r["img_per_s"]) > 0 for r in rows)
    assert ".venv-backends" in rows[3]["python"]  # keras_jax
    summary = list(csv.DictReader((tmp_path / "bench_peers_summary.csv").open()))
    assert [s["variant"] for s in summary] == order
    assert summary[0]["zoo_over_variant_median"] == ""
    assert all(float(s["zoo_over_variant_median"]) > 0 for s in summary[1:])
