"""Benchmark every zoo model the same way, on this machine: `make bench` (about 10 minutes on
2 cores; `--quick` takes a few steps of each, for CI).

Per model, each in a fresh process (so peak memory is its own):
- training throughput, images/s: the model's recipe (optimizer, batch size) on the recipe's own
  tf.data stream, set up as reproductions train (op determinism, steps per execution); the
  median of 3 timed segments after a warm-up segment;
- inference throughput at batch 1000 (median of 3 passes over 10,000 test images) and latency at
  batch 1 (`predict_on_batch`, median and 95th percentile of 100 calls after 10 warm-up calls);
- peak resident memory of the process;
- forward FLOPs per image, counted from the layers (2 x multiply-adds of convolutions and dense
  layers; pooling, normalisation and activations are left out), and the achieved training
  GFLOP/s (3 x forward: forward, and twice that for the backward pass) as a fraction of a
  2-thread float32 matmul peak measured in the same run.
Writes reproductions/results/bench.csv (generated; with the machine's description) and prints a
table.

Then, in a fresh process, the batch-1 latency of one digit by each of the zoo's fast paths for
the shipped weight conv3_bn_small.mnist (issue 18's goal: <= 0.5 ms median): Keras
predict_on_batch, the model called in a tf.function (XLA's jit_compile off and on), and its
exports run by onnxruntime and by LiteRT's interpreter (zoo.export.export and zoo.export.runtime,
as `make bench-export` runs them, default threads); median and 90th percentile of 300 calls
after 30 warm-up calls on one real test digit, the result fetched as numpy each time. Writes
reproductions/results/latency.csv and prints each path beside the goal. `--latency-only` runs
only this part.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from reproductions import RESULTS
from reproductions.bench.common import out_file, timed, version, write_csv
from reproductions.report.readme import read_rows, splice
from tracking import REPO_ROOT
import numpy as np

RESULTS_CSV = RESULTS / "bench.csv"
COLUMNS = ("model", "recipe", "params", "fwd_mflop_per_image", "batch_size", "train_img_per_s",
           "train_gflop_per_s", "fraction_of_matmul_peak", "infer_img_per_s_b1000",
           "latency_b1_ms_median", "latency_b1_ms_p95", "peak_rss_mb", "matmul_gflop_per_s",
           "mode", "machine", "tensorflow", "keras")



def forward_flops(model) -> int:
    """2 x multiply-adds per image of the convolutions and dense layers."""
    import keras

    from zoo.layers import PartialConv2D

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # an ensemble's members, nested whole
            total += forward_flops(layer)
            continue
        out = layer.output.shape
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * out[1] * out[2] * out[3]
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * layer.input.shape[-1] * out[1] * out[2] * out[3]
        elif isinstance(layer, PartialConv2D):
            total += 2 * int(np.prod(layer.kernel.shape)) * out[1] * out[2]
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.input.shape[-1] * out[-1]
    return total


def matmul_peak(n: int = 2048, reps: int = 10, dtype: str = "float32") -> float:
    """GFLOP/s of an n x n matmul (float32, or bfloat16: the peak a mixed_bfloat16 recipe's
    compute can reach) with TensorFlow's threads, best of `reps`."""
    import tensorflow as tf

    a = tf.cast(tf.random.normal((n, n)), dtype)
    b = tf.cast(tf.random.normal((n, n)), dtype)
    (a @ b).numpy()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        (a @ b).numpy()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


class _Segments:
    def __init__(self):
        self.times = []

    def on_epoch_begin(self, *_):
        self.t = time.perf_counter()

    def on_epoch_end(self, *_):
        self.times.append(time.perf_counter() - self.t)


def bench_one(model_name: str, quick: bool) -> dict:
    import keras
    import tensorflow as tf

    import zoo
    import zoo.data
    from reproductions.recipes import RECIPES
    from reproductions.run.prepare import (build_model, compile_model, load_data,
                                       steps_per_execution)

    # an ensemble (<net>_ensemble, zoo/models/ensemble.py) has no recipe of its own: it trains
    # like its members' net, all of them in one step
    net = model_name.removesuffix("_ensemble")
    recipe = RECIPES.get(model_name) or RECIPES.get(net) or next(
        (r for r in RECIPES.values() if r.model == model_name), None)
    if recipe is None:  # no recipe of its own (xo_lecture): train like a model of its data
        dataset = zoo.registry.get_spec(model_name).dataset
        recipe = dataclasses.replace(next(r for r in RECIPES.values() if r.dataset == dataset),
                                     pixel_scale=None, pixel_offset=None)
    recipe = dataclasses.replace(recipe, model=model_name)  # this model, not its stand-in's
    keras.utils.set_random_seed(0)
    if not quick:  # as reproductions train
        tf.config.experimental.enable_op_determinism()
    data = load_data(recipe)
    train, test = data.train, data.test
    spe = 1 if quick else steps_per_execution(recipe)  # as reproductions train
    model = compile_model(recipe, build_model(recipe), spe)
    steps = 5 if quick else max(20, 20_000 // recipe.batch_size)  # ~20,000 images a segment
    steps -= steps % spe
    segments = _Segments()
    callback = keras.callbacks.LambdaCallback(on_epoch_begin=segments.on_epoch_begin,
                                              on_epoch_end=segments.on_epoch_end)
    stream = zoo.data.training_stream(*train, recipe.batch_size, seed=0)
    model.fit(stream, epochs=4, steps_per_epoch=steps, callbacks=[callback], verbose=0,
              shuffle=False)
    train_ips = steps * recipe.batch_size / statistics.median(segments.times[1:])

    x_test = test[0][:1000 if quick else 10_000]
    model.predict(x_test[:1000], batch_size=1000, verbose=0)
    passes = []
    for _ in range(3):
        t = time.perf_counter()
        model.predict(x_test, batch_size=1000, verbose=0)
        passes.append(time.perf_counter() - t)
    one = x_test[:1]
    for _ in range(10):
        model.predict_on_batch(one)
    latencies = []
    for _ in range(20 if quick else 100):
        t = time.perf_counter()
        model.predict_on_batch(one)
        latencies.append((time.perf_counter() - t) * 1000)

    flops = forward_flops(model)
    return {
        "model": model_name, "recipe": recipe.name,
        "params": sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        "fwd_mflop_per_image": flops / 1e6, "batch_size": recipe.batch_size,
        "train_img_per_s": train_ips, "train_gflop_per_s": 3 * flops * train_ips / 1e9,
        "infer_img_per_s_b1000": len(x_test) / statistics.median(passes),
        "latency_b1_ms_median": statistics.median(latencies),
        "latency_b1_ms_p95": float(np.percentile(latencies, 95)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


LATENCY_CSV = RESULTS_CSV.parent / "latency.csv"
LATENCY_WEIGHT = "conv3_bn_small.mnist"
LATENCY_GOAL_MS = 0.5  # issue 18: one digit answered in at most 0.5 ms, median, at batch 1
LATENCY_COLUMNS = ("weight", "path", "latency_b1_ms_median", "latency_b1_ms_p90", "goal_ms",
                   "meets_goal", "calls", "mode", "machine", "tensorflow", "keras",
                   "onnxruntime", "ai_edge_litert")


def latency_paths(weight: str, quick: bool) -> list[dict]:
    """Batch-1 latency of each fast path of a shipped weight (see the module's docstring)."""
    import tempfile

    import tensorflow as tf

    import zoo
    import zoo.data
    from zoo import export as zoo_export

    card = zoo.weight_info(weight)
    one = zoo.data.load(card.dataset)[1][0][:1]  # one real test digit, as the model takes it
    model = zoo.load(weight)
    paths = {"keras predict_on_batch": model.predict_on_batch}
    for jit in (False, True):
        # the model's call traced once into a graph: no Keras predict machinery per call
        call = tf.function(lambda x: model(x, training=False), jit_compile=jit)
        x = tf.constant(one)
        paths[f"tf.function jit_compile={jit}"] = lambda call=call, x=x: call(x).numpy()
    reps, warmup = (20, 5) if quick else (300, 30)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # LiteRT's interpreter applies its default XNNPACK delegate to float models on CPU
        for fmt, name in (("onnx", "onnxruntime"), ("litert", "litert (XNNPACK)")):
            paths[name] = zoo_export.runtime(zoo_export.export(weight, fmt, tmp))
        for name, predict in paths.items():
            fn = predict if name.startswith("tf.function") else (lambda p=predict: p(one))
            times = timed(fn, reps=reps, warmup=warmup)
            median = statistics.median(times)
            rows.append({"weight": weight, "path": name, "latency_b1_ms_median": median,
                         "latency_b1_ms_p90": float(np.percentile(times, 90)),
                         "goal_ms": LATENCY_GOAL_MS,
                         "meets_goal": "yes" if median <= LATENCY_GOAL_MS else "no",
                         "calls": reps})
    return rows


def run_latency(quick: bool, out: Path) -> int:
    """The latency part of `bench`, each path measured in one fresh process."""
    from tracking.tags import machine

    done = subprocess.run([sys.executable, "-m", "reproductions", "bench", "--latency-one"]
                          + (["--quick"] if quick else []), capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode:
        print(f"latency: failed\n{done.stderr[-2000:]}", file=sys.stderr)
        return 1
    context = {"mode": "quick" if quick else "full", "machine": machine(),
               "tensorflow": version("tensorflow"), "keras": version("keras"),
               "onnxruntime": version("onnxruntime"), "ai_edge_litert": version("ai-edge-litert")}
    rows = [{**row, **context} for row in json.loads(done.stdout.strip().splitlines()[-1])]
    print(f"batch-1 latency of {LATENCY_WEIGHT} (goal: median <= {LATENCY_GOAL_MS} ms)")
    for row in rows:
        print(f"  {row['path']:30} median {row['latency_b1_ms_median']:7.3f} ms  "
              f"p90 {row['latency_b1_ms_p90']:7.3f} ms  goal {LATENCY_GOAL_MS} ms: "
              f"{'met' if row['meets_goal'] == 'yes' else 'not met'}", flush=True)
    write_csv(out, LATENCY_COLUMNS, rows)
    print(f"wrote {out}")
    return 0


def run(args) -> int:
    """The `bench` verb (arguments: its room's verbs.py)."""
    if args.one:
        print(json.dumps(bench_one(args.one, args.quick)))
        return 0
    if args.latency_one:
        print(json.dumps(latency_paths(LATENCY_WEIGHT, args.quick)))
        return 0
    # --latency-only writes latency.csv alone (beside --out), whatever --models says
    partial = "--quick" if args.quick else (
        "--models" if args.models and not args.latency_only else None)
    out = out_file(args, LATENCY_CSV if args.latency_only else RESULTS_CSV, partial)
    latency_out = out.parent / LATENCY_CSV.name
    if args.latency_only:
        return run_latency(args.quick, latency_out) or _update_doc(latency_out)

    import keras
    import tensorflow as tf

    import zoo
    from tracking.tags import machine

    names = args.models or zoo.list_models()  # checked names (reproductions/__main__.py)
    peak = matmul_peak(1024 if args.quick else 2048)
    rows = []
    print(f"float32 matmul peak: {peak:.0f} GFLOP/s on {machine()}", flush=True)
    for name in names:
        done = subprocess.run([sys.executable, "-m", "reproductions", "bench", "--one", name]
                              + (["--quick"] if args.quick else []), capture_output=True,
                              text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        if done.returncode:
            print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row.update(fraction_of_matmul_peak=row["train_gflop_per_s"] / peak,
                   matmul_gflop_per_s=peak, mode="quick" if args.quick else "full",
                   machine=machine(), tensorflow=tf.__version__, keras=keras.__version__)
        rows.append(row)
        print(f"{name:14} train {row['train_img_per_s']:8.0f} img/s "
              f"({row['train_gflop_per_s']:5.1f} GFLOP/s, "
              f"{100 * row['fraction_of_matmul_peak']:4.1f}% of peak)  "
              f"infer {row['infer_img_per_s_b1000']:8.0f} img/s  batch-1 "
              f"{row['latency_b1_ms_median']:.2f} ms (p95 {row['latency_b1_ms_p95']:.2f})  "
              f"{row['fwd_mflop_per_image']:6.2f} MFLOP/img  {row['peak_rss_mb']:.0f} MB",
              flush=True)
    write_csv(out, COLUMNS, rows)
    print(f"wrote {out}")
    return run_latency(args.quick, latency_out) or _update_doc(out)


def _update_doc(written: Path) -> int:
    """Regenerate docs/performance.md's part when the committed files were written (a run
    with --out writes elsewhere and leaves the text alone)."""
    committed = written.resolve().parent == RESULTS.resolve()
    if committed and splice(DOC, ((DOC_START, DOC_END, render),)):
        print(f"wrote its part of {DOC.relative_to(REPO_ROOT)}")
    return 0


# The generated part of docs/performance.md: every model's row, conv3_bn_small against conv3_bn
# (issue 18's point: half the FLOPs), then the batch-1 latency by each fast path.
DOC = REPO_ROOT / "docs" / "performance.md"
DOC_START = ("<!-- bench: generated by `make bench` from reproductions/results/bench.csv and "
             "latency.csv; do not edit -->")
DOC_END = "<!-- end of the generated bench -->"


def _small(value: float, decimals: int = 2) -> str:
    """`decimals` places, or two significant digits where those would read 0 (xo's FLOPs)."""
    return f"{value:.{decimals}f}" if value >= 10 ** -decimals or value == 0 else f"{value:.2g}"


def render(results: Path = RESULTS) -> str:
    """The generated part's text, markers included, from `results`/bench.csv and latency.csv."""
    rows = read_rows(results / RESULTS_CSV.name)
    first = rows[0]
    lines = [DOC_START, "",
             f"From the committed run ({first['machine']}; tensorflow {first['tensorflow']}, "
             f"keras {first['keras']}, {first['mode']} mode), against a float32 matmul peak of "
             f"{float(first['matmul_gflop_per_s']):.0f} GFLOP/s measured in the same run:", "",
             "| model | recipe | parameters | MFLOP an image | training batch | training, "
             "images/s | training GFLOP/s (of the peak) | inference at batch 1000, images/s | "
             "batch 1, median (p95) | peak memory |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['recipe']} | {int(r['params']):,} "
            f"| {_small(float(r['fwd_mflop_per_image']))} | {r['batch_size']} "
            f"| {float(r['train_img_per_s']):,.0f} | {float(r['train_gflop_per_s']):.1f} "
            f"({_small(100 * float(r['fraction_of_matmul_peak']), 0)}%) "
            f"| {float(r['infer_img_per_s_b1000']):,.0f} "
            f"| {float(r['latency_b1_ms_median']):.2f} ms "
            f"({float(r['latency_b1_ms_p95']):.2f}) | {float(r['peak_rss_mb']):,.0f} MB |")
    lines += ["", "A model without a recipe of its own trains like the one its row names: an "
                  "ensemble like its members' net, all of them in each step; xo_lecture like "
                  "the recipe of its data (`bench_one`, reproductions/bench/models.py)."]
    by = {r["model"]: r for r in rows}
    if {"conv3_bn", "conv3_bn_small"} <= by.keys():
        big, small = by["conv3_bn"], by["conv3_bn_small"]
        flops = float(small["fwd_mflop_per_image"]) / float(big["fwd_mflop_per_image"])
        speed = float(small["train_img_per_s"]) / float(big["train_img_per_s"])
        lines += ["", f"conv3_bn_small, with {flops:.2f} of conv3_bn's FLOPs "
                      f"({float(small['fwd_mflop_per_image']):.1f} against "
                      f"{float(big['fwd_mflop_per_image']):.1f} MFLOP an image), trains "
                      f"{speed:.1f} times as fast."]
    latency = read_rows(results / LATENCY_CSV.name)
    lat = latency[0]
    lines += ["", f"One digit at batch 1 by each fast path of {lat['weight']} (`python -m "
                  f"reproductions bench --latency-only`, {lat['calls']} calls each; "
                  f"{lat['machine']}; onnxruntime {lat['onnxruntime']}, ai-edge-litert "
                  f"{lat['ai_edge_litert']}), against issue 18's goal of {lat['goal_ms']} ms:",
              "", "| path | median | p90 | at most the goal |", "|---|---|---|---|"]
    for r in latency:
        lines.append(f"| {r['path']} | {float(r['latency_b1_ms_median']):.3f} ms "
                     f"| {float(r['latency_b1_ms_p90']):.3f} ms | {r['meets_goal']} |")
    return "\n".join([*lines, "", DOC_END])

