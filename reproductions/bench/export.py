"""What an export costs and gives, per runtime, on this machine: `make bench-export`
(`python -m reproductions bench-export [--weights PATTERN] [--out CSV]`).

For every shipped weight (or --weights PATTERN), exported by `zoo export` to each format, and
for each runtime (Keras on the .keras file, TensorFlow's SavedModel loader, onnxruntime, the
LiteRT interpreter of ai-edge-litert):

- size: the file (the SavedModel folder, all files) in bytes;
- load: opening it into a runtime ready to answer (the runtime's package already imported),
  median of 3;
- latency at batch 1: one real test input, median and p95 of 100 calls after 10 warm-ups
  (Keras: predict_on_batch, as `make bench` measures it);
- batch 1000: median of 5 calls after one warm-up, and the images per second it makes
  (FSDD has 300 test recordings: they are repeated to 1,000);
- agreement: every input of the weight's test set (MNIST's 10,000 digits, the 2,000 X/O images,
  FSDD's 300 recordings) through the runtime and through Keras, in batches of 1,000: the largest
  difference between their class probabilities, and how many inputs get another class.
  tests/test_export.py holds the exports to 1e-4 and no other class; this writes down what they
  reach.

All runtimes use their default threads. Prints a table and writes
reproductions/results/export_bench.csv (generated; with the machine and the versions); a whole
run (every weight, the committed file) also rewrites the generated part of
docs/export-and-serving.md from it (`render`; tests/test_docs.py renders it again and compares).
"""

from __future__ import annotations

import csv
import fnmatch
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reproductions import RESULTS
from reproductions.bench.common import out_file, timed, version, write_csv
from reproductions.report.readme import splice
from tracking import REPO_ROOT
import numpy as np

RESULTS_CSV = RESULTS / "export_bench.csv"
DOC = REPO_ROOT / "docs" / "export-and-serving.md"
RUNTIMES = (("keras", None), ("tf.saved_model", "saved_model"), ("onnxruntime", "onnx"),
            ("litert", "litert"))
COLUMNS = ("weight", "runtime", "format", "size_bytes", "load_ms", "latency_b1_ms_median",
           "latency_b1_ms_p95", "latency_b1000_ms_median", "img_per_s_b1000", "test_inputs",
           "max_abs_diff_vs_keras", "classes_differing_vs_keras", "machine",
           "keras", "tensorflow", "onnxruntime", "ai_edge_litert")
CHUNK = 1000


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() \
        else path.stat().st_size



def _opener(runtime: str, path: Path, name: str):
    """A function that opens the model at `path` and returns predict(x) -> probabilities."""
    import zoo
    from zoo import export as zoo_export

    if runtime == "keras":
        def open_keras():
            model = zoo.load(name)
            return model.predict_on_batch
        return open_keras
    return lambda: zoo_export.runtime(path)


def bench_weight(name: str, out_dir: Path) -> list[dict]:
    import zoo
    import zoo.data
    from zoo import export as zoo_export

    card = zoo.weight_info(name)
    x = zoo.data.load(card.dataset)[1][0]
    batch = np.resize(x, (1000,) + x.shape[1:])  # repeats FSDD's 300 recordings to 1,000
    one = x[:1]
    rows = []
    for runtime, fmt in RUNTIMES:
        path = card.path if fmt is None else zoo_export.export(name, fmt, out_dir)
        opener = _opener(runtime, path, name)
        loads = []
        for _ in range(3):
            t = time.perf_counter()
            predict = opener()
            loads.append((time.perf_counter() - t) * 1000)
        b1 = timed(lambda: predict(one), reps=100, warmup=10)
        b1000 = statistics.median(timed(lambda: predict(batch), reps=5, warmup=1))
        probabilities = _through(predict, x)
        if runtime == "keras":
            expected = probabilities
        differ = np.argmax(probabilities, axis=1) != np.argmax(expected, axis=1)
        rows.append({
            "weight": name, "runtime": runtime, "format": fmt or "keras",
            "size_bytes": _size(path), "load_ms": statistics.median(loads),
            "latency_b1_ms_median": statistics.median(b1),
            "latency_b1_ms_p95": float(np.percentile(b1, 95)),
            "latency_b1000_ms_median": b1000, "img_per_s_b1000": 1000 / (b1000 / 1000),
            "test_inputs": len(x),
            "max_abs_diff_vs_keras": float(np.max(np.abs(probabilities - expected))),
            "classes_differing_vs_keras": int(differ.sum()),
        })
    return rows


def _through(predict, x: np.ndarray) -> np.ndarray:
    """Every input through `predict`, CHUNK at a time, as float64 probabilities."""
    return np.concatenate([np.asarray(predict(x[i:i + CHUNK]), dtype=np.float64)
                           for i in range(0, len(x), CHUNK)])


def run(args) -> int:
    """The `bench-export` verb (arguments: its room's verbs.py)."""
    import zoo
    from tracking.tags import machine

    names = [n for n in zoo.list_weights() if fnmatch.fnmatchcase(n, args.weights)]
    if not names:
        print(f"error: no shipped weight matches {args.weights!r}; see `zoo list`",
              file=sys.stderr)
        return 2
    out = out_file(args, RESULTS_CSV, None if names == zoo.list_weights()
                   else f"--weights {args.weights}")
    context = {"machine": machine(), "keras": version("keras"),
               "tensorflow": version("tensorflow"), "onnxruntime": version("onnxruntime"),
               "ai_edge_litert": version("ai-edge-litert")}
    print(f"{'weight':21} {'runtime':15} {'size':>10} {'load':>9} {'b1 median':>10} "
          f"{'b1 p95':>8} {'b1000':>9} {'img/s':>8} {'max diff':>9} {'classes':>7}",
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for row in bench_weight(name, Path(tmp)):
                rows.append({**row, **context})
                print(f"{row['weight']:21} {row['runtime']:15} {row['size_bytes']:>10,} "
                      f"{row['load_ms']:>7.1f}ms {row['latency_b1_ms_median']:>8.3f}ms "
                      f"{row['latency_b1_ms_p95']:>6.3f}ms "
                      f"{row['latency_b1000_ms_median']:>7.1f}ms "
                      f"{row['img_per_s_b1000']:>8,.0f} "
                      f"{row['max_abs_diff_vs_keras']:>9.1e} "
                      f"{row['classes_differing_vs_keras']:>7}", flush=True)
    write_csv(out, COLUMNS, rows)
    print(f"wrote {out} ({context['machine']})")
    if out == RESULTS_CSV and splice(DOC, ((DOC_START, DOC_END, render),)):
        print(f"wrote its part of {DOC.relative_to(REPO_ROOT)}")
    return 0


# The generated part of docs/export-and-serving.md: one weight in full, then every weight at
# batch 1000, then what the agreement columns say of all of them.
DOC_START = ("<!-- export bench: generated by `make bench-export` from "
             "reproductions/results/export_bench.csv; do not edit -->")
DOC_END = "<!-- end of the generated export bench -->"
SHOWN = "conv3_bn.mnist"
RUNTIME_NAMES = {"keras": "Keras (`.keras`, `predict_on_batch`)",
                 "tf.saved_model": "TensorFlow SavedModel", "onnxruntime": "onnxruntime",
                 "litert": "LiteRT (ai-edge-litert)"}
SHORT_NAMES = {runtime: name.split(" (")[0] for runtime, name in RUNTIME_NAMES.items()}


def _ms(value: str) -> str:
    v = float(value)
    return f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms" if v >= 1 else f"{v:.2f} ms"


def render(results: Path = RESULTS) -> str:
    """The generated part's text, markers included, from `results`/export_bench.csv."""
    with open(results / RESULTS_CSV.name, newline="") as f:
        rows = list(csv.DictReader(f))
    shown = {r["runtime"]: r for r in rows if r["weight"] == SHOWN}
    first = shown["keras"]
    lines = [DOC_START, "",
             f"For {SHOWN}, from the committed run ({first['machine']}; keras {first['keras']}, "
             f"tensorflow {first['tensorflow']}, onnxruntime {first['onnxruntime']}, "
             f"ai-edge-litert {first['ai_edge_litert']}):", "",
             "| runtime | size | load | batch 1 (median) | batch 1000 (median) |",
             "|---|---|---|---|---|"]
    for runtime, _ in RUNTIMES:
        r = shown[runtime]
        lines.append(f"| {RUNTIME_NAMES[runtime]} | {int(r['size_bytes']) / 1e6:.2f} MB "
                     f"| {_ms(r['load_ms'])} | {_ms(r['latency_b1_ms_median'])} "
                     f"| {_ms(r['latency_b1000_ms_median'])} |")
    keras_b1 = float(first["latency_b1_ms_median"])
    speedups = ", ".join(
        f"{SHORT_NAMES[rt]} {keras_b1 / float(shown[rt]['latency_b1_ms_median']):.1f}"
        for rt, _ in RUNTIMES[1:])
    worst = max(rows, key=lambda r: float(r["max_abs_diff_vs_keras"]))
    differing = sum(int(r["classes_differing_vs_keras"]) for r in rows)
    inputs = {r["weight"]: int(r["test_inputs"]) for r in rows}
    lines += ["",
              f"At batch 1, Keras' time over each export's (how many times as fast it answers "
              f"one image): {speedups}. Every weight at batch 1000 (median ms):",
              "", "| weight | " + " | ".join(SHORT_NAMES[rt] for rt, _ in RUNTIMES) + " |",
              "|---|" + "---|" * len(RUNTIMES)]
    for weight in dict.fromkeys(r["weight"] for r in rows):
        by = {r["runtime"]: r for r in rows if r["weight"] == weight}
        lines.append(f"| {weight} | " + " | ".join(
            f"{float(by[rt]['latency_b1000_ms_median']):.1f}" for rt, _ in RUNTIMES) + " |")
    lines += ["",
              f"Agreement, over the {len(inputs)} weights' whole test sets "
              f"({sum(inputs.values()):,} inputs, each through every runtime): "
              f"{differing} input{'' if differing == 1 else 's'} got another class than Keras "
              f"gave, and the largest difference from Keras' probabilities was "
              f"{float(worst['max_abs_diff_vs_keras']):.1e} ({worst['runtime']}, "
              f"{worst['weight']}).", "", DOC_END]
    return "\n".join(lines)

