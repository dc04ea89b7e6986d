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
  (FSDD has 300 test recordings: they are repeated to 1,000).

All runtimes use their default threads. Prints a table and writes
reproductions/results/export_bench.csv (generated; with the machine and the versions).
"""

from __future__ import annotations

import fnmatch
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reproductions import RESULTS
from reproductions.bench.common import out_file, timed, version, write_csv
import numpy as np

RESULTS_CSV = RESULTS / "export_bench.csv"
RUNTIMES = (("keras", None), ("tf.saved_model", "saved_model"), ("onnxruntime", "onnx"),
            ("litert", "litert"))
COLUMNS = ("weight", "runtime", "format", "size_bytes", "load_ms", "latency_b1_ms_median",
           "latency_b1_ms_p95", "latency_b1000_ms_median", "img_per_s_b1000", "machine",
           "keras", "tensorflow", "onnxruntime", "ai_edge_litert")


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
        rows.append({
            "weight": name, "runtime": runtime, "format": fmt or "keras",
            "size_bytes": _size(path), "load_ms": statistics.median(loads),
            "latency_b1_ms_median": statistics.median(b1),
            "latency_b1_ms_p95": float(np.percentile(b1, 95)),
            "latency_b1000_ms_median": b1000, "img_per_s_b1000": 1000 / (b1000 / 1000),
        })
    return rows



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
          f"{'b1 p95':>8} {'b1000':>9} {'img/s':>8}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for row in bench_weight(name, Path(tmp)):
                rows.append({**row, **context})
                print(f"{row['weight']:21} {row['runtime']:15} {row['size_bytes']:>10,} "
                      f"{row['load_ms']:>7.1f}ms {row['latency_b1_ms_median']:>8.3f}ms "
                      f"{row['latency_b1_ms_p95']:>6.3f}ms "
                      f"{row['latency_b1000_ms_median']:>7.1f}ms "
                      f"{row['img_per_s_b1000']:>8,.0f}", flush=True)
    write_csv(out, COLUMNS, rows)
    print(f"wrote {out} ({context['machine']})")
    return 0

