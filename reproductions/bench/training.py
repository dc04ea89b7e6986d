"""What makes training fast on this CPU: conv3_bn's training throughput under one change at a
time, against a plain PyTorch loop of the same net: `make bench-training` (about 10 minutes).

Each variant runs in a fresh process (thread and oneDNN settings only take effect at start-up)
and trains conv3_bn on real MNIST by its recipe (Adam, Görner's schedule, batch 100 unless the
variant changes it); the figure is the median images/s of 3 timed segments of ~10,000 images
after a warm-up segment. The first variant is how reproductions trained before this study;
`recipe` is how they train now (see reproductions/run/train.py). Writes
reproductions/results/bench_training.csv (generated) and prints a table.

The PyTorch row needs torch, which the zoo itself does not: `make bench-training` installs the
pinned CPU wheel of requirements-torch.txt into .venv first. Without torch the row is left out
and says so.
"""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from reproductions import RESULTS
from reproductions.bench.common import out_file
from zoo.files import open_for_writing

RESULTS_CSV = RESULTS / "bench_training.csv"
SEGMENT_IMAGES = 10_000
QUICK_SEGMENT_IMAGES = 500  # --quick (CI): checks the machinery, measures nothing
SEGMENTS = 3  # timed, after one warm-up segment


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    batch_size: int = 100
    steps_per_execution: int = 1
    pipeline: str = "stream"  # "stream" (zoo.data.training_stream), "cached", "numpy"
    determinism: bool = True  # tf.config.experimental.enable_op_determinism()
    jit_compile: bool = False
    threads: tuple[int, int] | None = None  # (intra-op, inter-op); None: TensorFlow's default
    precision: str = "float32"  # a Keras dtype policy, e.g. "mixed_bfloat16"
    env: tuple[tuple[str, str], ...] = ()  # environment set before TensorFlow starts
    framework: str = "keras"  # "keras" (TensorFlow), "keras_jax" (KERAS_BACKEND=jax) or "torch"
    model: str = "conv3_bn"  # a zoo model with a recipe of the same name
    model_options: tuple = ()  # ((builder argument, value), ...)
    channels_last: bool = False  # torch: NHWC tensors and weights (torch.channels_last)
    torch_compile: bool = False  # torch: the net and its loss compiled by torch.compile


BEFORE = Variant("before", "reproductions before this study: stream, op determinism, 1 step "
                           "per call")
RECIPE_NOW = Variant("recipe", "how reproductions trained from issue 18 to 2026-12-06: stream, "
                               "op determinism, steps_per_execution=100, Keras' BatchNorm ops",
                     steps_per_execution=100)
VARIANTS = (
    BEFORE,
    replace(BEFORE, name="no_determinism", what="op determinism off", determinism=False),
    replace(BEFORE, name="spe_10", what="steps_per_execution=10", steps_per_execution=10),
    replace(BEFORE, name="cached", what="tf.data from_tensor_slices + cache + shuffle + batch",
            pipeline="cached"),
    replace(BEFORE, name="numpy", what="numpy arrays straight to fit", pipeline="numpy"),
    replace(BEFORE, name="threads_2_1", what="intra-op 2, inter-op 1 threads", threads=(2, 1)),
    replace(BEFORE, name="threads_1_1", what="intra-op 1, inter-op 1 threads", threads=(1, 1)),
    replace(BEFORE, name="onednn_off", what="TF_ENABLE_ONEDNN_OPTS=0",
            env=(("TF_ENABLE_ONEDNN_OPTS", "0"),)),
    replace(BEFORE, name="bfloat16", what="Keras policy mixed_bfloat16 (changes the numerics)",
            precision="mixed_bfloat16"),
    replace(BEFORE, name="jit", what="jit_compile=True (XLA)", jit_compile=True),
    replace(BEFORE, name="batch_200", what="batch 200 (changes the recipe)", batch_size=200),
    replace(BEFORE, name="batch_500", what="batch 500 (changes the recipe)", batch_size=500),
    RECIPE_NOW,
    replace(RECIPE_NOW, name="fused_bn", what="recipe + TensorFlow's fused BatchNorm kernel "
            "(zoo.layers.FusedBatchNormalization): how reproductions train now",
            model_options=(("fused_bn", True),)),
    Variant("mlp5_before", "mlp5 (a small, overhead-bound net), as reproductions trained it",
            model="mlp5"),
    Variant("mlp5_recipe", "mlp5 as reproductions train it now (steps_per_execution=100)",
            model="mlp5", steps_per_execution=100),
    Variant("torch", "plain PyTorch loop, same net, same batch, torch threads = cores",
            framework="torch"),
    # the fair peers of `make bench-peers` (issue 18): each framework at its best on 2 cores
    Variant("torch_threads_2", "plain PyTorch loop, eager, intra-op 2 / inter-op 1 threads",
            framework="torch", threads=(2, 1)),
    Variant("torch_best", "plain PyTorch loop, channels_last + torch.compile, intra-op 2 / "
            "inter-op 1 threads", framework="torch", threads=(2, 1), channels_last=True,
            torch_compile=True),
    Variant("keras_jax", "the zoo's model and recipe on Keras' JAX backend (XLA-compiled step, "
            "steps_per_execution=100, numpy batches; .venv-backends)", framework="keras_jax",
            steps_per_execution=100, pipeline="numpy", determinism=False),
)


def _spe(v: Variant, segment: int) -> int:
    """Steps per call, at most a segment's steps: a full segment (100 steps of 100) keeps the
    variant's figure; --quick's tiny segments are not stretched to 100 steps."""
    return math.gcd(v.steps_per_execution, max(1, segment // v.batch_size))


def _segments_keras(v: Variant, segment: int) -> list[float]:
    import keras
    import tensorflow as tf

    if v.threads:
        tf.config.threading.set_intra_op_parallelism_threads(v.threads[0])
        tf.config.threading.set_inter_op_parallelism_threads(v.threads[1])
    if v.determinism:
        tf.config.experimental.enable_op_determinism()
    import zoo
    import zoo.data
    from reproductions.recipes import RECIPES
    from reproductions.run.prepare import compile_model, load_data

    keras.mixed_precision.set_global_policy(v.precision)
    recipe = replace(RECIPES[v.model], batch_size=v.batch_size)
    keras.utils.set_random_seed(0)
    x, y = load_data(recipe).train
    options = recipe.model_kwargs() | dict(v.model_options)
    spe = _spe(v, segment)
    model = compile_model(recipe, zoo.create_model(recipe.model, **options),
                          steps_per_execution=spe, jit_compile=v.jit_compile)
    steps = max(spe, segment // v.batch_size)
    steps -= steps % spe
    times = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: times.append(-time.perf_counter()),
        on_epoch_end=lambda *_: times.__setitem__(-1, times[-1] + time.perf_counter()))
    fit = dict(epochs=SEGMENTS + 1, callbacks=[timer], verbose=0)
    if v.pipeline == "numpy":
        # fit's own pipeline; an "epoch" is then a pass over the data, so cut the data to a segment
        n = steps * v.batch_size
        model.fit(x[:n], y[:n], batch_size=v.batch_size, shuffle=True, **fit)
        return times[1:]
    if v.pipeline == "cached":
        data = (tf.data.Dataset.from_tensor_slices((x, y)).cache()
                .shuffle(len(x), seed=0, reshuffle_each_iteration=True)
                .batch(v.batch_size, drop_remainder=True).repeat().prefetch(tf.data.AUTOTUNE))
    else:
        data = zoo.data.training_stream(x, y, v.batch_size, seed=0)
    model.fit(data, steps_per_epoch=steps, **fit)
    return [t * segment / (steps * v.batch_size) for t in times[1:]]


def _segments_keras_jax(v: Variant, segment: int) -> list[float]:
    """The same zoo model and recipe (optimizer, schedule, batch) on Keras' JAX backend, in
    .venv-backends (no TensorFlow): zoo.data reads MNIST's files with numpy, fit's own pipeline
    feeds numpy batches (tf.data is TensorFlow's), Keras compiles the step with XLA."""
    import keras

    if keras.backend.backend() != "jax":
        raise RuntimeError(f"variant {v.name} needs KERAS_BACKEND=jax, not "
                           f"{keras.backend.backend()}")
    import zoo
    import zoo.data
    from reproductions.run.prepare import compile_model
    from reproductions.recipes import RECIPES

    recipe = replace(RECIPES[v.model], batch_size=v.batch_size)
    keras.utils.set_random_seed(0)
    x, y = zoo.data.load_dataset(recipe.dataset).train
    model = compile_model(recipe, zoo.create_model(recipe.model, **recipe.model_kwargs()),
                          steps_per_execution=_spe(v, segment))
    spe = _spe(v, segment)
    steps = max(spe, segment // v.batch_size)
    steps -= steps % spe
    n = steps * v.batch_size  # an epoch of fit over numpy arrays is one pass: one segment
    times = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: times.append(-time.perf_counter()),
        on_epoch_end=lambda *_: times.__setitem__(-1, times[-1] + time.perf_counter()))
    model.fit(x[:n], y[:n], batch_size=v.batch_size, shuffle=True, epochs=SEGMENTS + 1,
              callbacks=[timer], verbose=0)
    return [t * segment / n for t in times[1:]]


def _segments_torch(v: Variant, segment: int) -> list[float]:
    """conv3_bn in PyTorch, as close as the frameworks allow: same layers, SAME padding,
    BatchNorm without scale, dropout 0.25, Adam with the same schedule, uint8 pixels / 256.
    channels_last: NHWC memory format (oneDNN's preferred convolution layout on CPU);
    torch_compile: the net's forward and backward compiled by torch.compile (Inductor's C++
    kernels; the warm-up segment pays the compilation). Reads MNIST with zoo.data's numpy reader,
    so it runs in either venv (.venv with requirements-torch.txt, or .venv-backends)."""
    import torch
    from torch import nn

    import zoo.data
    from reproductions.recipes import RECIPES

    if v.threads:
        torch.set_num_threads(v.threads[0])
        torch.set_num_interop_threads(v.threads[1])
    else:
        torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    recipe = RECIPES["conv3_bn"]
    x, y = zoo.data.load_dataset(recipe.dataset).train
    images, labels = torch.from_numpy(x), torch.from_numpy(y.astype("int64"))

    def block(layer, width):  # Görner 4.2: no bias, BatchNorm offset only, ReLU
        return [layer, nn.BatchNorm1d(width, eps=1e-5, momentum=0.001, affine=True)
                if isinstance(layer, nn.Linear) else
                nn.BatchNorm2d(width, eps=1e-5, momentum=0.001, affine=True), nn.ReLU()]

    net = nn.Sequential(
        *block(nn.Conv2d(1, 24, 6, 1, padding="same", bias=False), 24),
        nn.ZeroPad2d((1, 2, 1, 2)), *block(nn.Conv2d(24, 48, 5, 2, bias=False), 48),
        nn.ZeroPad2d((1, 1, 1, 1)), *block(nn.Conv2d(48, 64, 4, 2, bias=False), 64),
        nn.Flatten(), *block(nn.Linear(7 * 7 * 64, 200, bias=False), 200), nn.Dropout(0.25),
        nn.Linear(200, 10))
    for module in net.modules():  # no scale: keep gamma at 1
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.weight.requires_grad_(False)
    memory_format = torch.channels_last if v.channels_last else torch.contiguous_format
    net = net.to(memory_format=memory_format)
    params = [p for p in net.parameters() if p.requires_grad]
    lr = recipe.schedule  # Görner's floored exponential decay (reproductions/run/schedule.py)
    optimizer = torch.optim.Adam(params, lr=lr.lr_max + lr.lr_min, eps=recipe.adam_epsilon)
    loss_fn = nn.CrossEntropyLoss()
    forward = net
    if v.torch_compile:
        forward = torch.compile(net)
    steps = segment // v.batch_size
    order, at, step, times = torch.randperm(len(images)), 0, 0, []
    net.train()
    for _ in range(SEGMENTS + 1):
        start = time.perf_counter()
        for _ in range(steps):
            if at + v.batch_size > len(order):
                order, at = torch.randperm(len(images)), 0
            index = order[at:at + v.batch_size]
            at += v.batch_size
            batch = (images[index].unsqueeze(1).float() / 256).contiguous(
                memory_format=memory_format)
            for group in optimizer.param_groups:
                group["lr"] = lr.lr_min + lr.lr_max * math.exp(-step / lr.decay_steps)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(forward(batch), labels[index])
            loss.backward()
            optimizer.step()
            step += 1
        times.append(time.perf_counter() - start)
    return times[1:]


def measure(v: Variant, quick: bool = False) -> dict:
    segment = QUICK_SEGMENT_IMAGES if quick else SEGMENT_IMAGES
    times = {"torch": _segments_torch, "keras_jax": _segments_keras_jax,
             "keras": _segments_keras}[v.framework](v, segment)
    return {"img_per_s": segment / statistics.median(times),
            "spread_img_per_s": segment / min(times) - segment / max(times)}


REPO = Path(__file__).resolve().parents[2]
BACKENDS_PYTHON = REPO / ".venv-backends" / "bin" / "python"  # make venv-backends


def _has_torch(python: str) -> bool:
    return subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0


def python_for(v: Variant, torch_in: str | None = None) -> tuple[str | None, str]:
    """(the Python that runs the variant's child, why not when None). Keras on TensorFlow: this
    venv. Keras on JAX: .venv-backends (keras, jax, torch; no TensorFlow). torch: `torch_in`
    ("main" or "backends") when given, else this venv if it has torch, else .venv-backends."""
    backends = str(BACKENDS_PYTHON) if BACKENDS_PYTHON.exists() else None
    if v.framework == "keras":
        return sys.executable, ""
    if v.framework == "keras_jax" or torch_in == "backends":
        return backends, "" if backends else "no .venv-backends (make venv-backends makes it)"
    if _has_torch(sys.executable):
        return sys.executable, ""
    if torch_in is None and backends and _has_torch(backends):
        return backends, ""
    return None, "torch is not installed (make bench-training installs it)"


def child(v: Variant, python: str, quick: bool) -> subprocess.CompletedProcess:
    """One measure of a variant in a fresh process (threads, oneDNN and the Keras backend are
    fixed at start-up); its stdout's last line is measure()'s JSON."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **dict(v.env),
           # the repository's code in any venv (.venv-backends has no editable install)
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    if v.framework == "keras_jax":
        env["KERAS_BACKEND"] = "jax"
    return subprocess.run([python, "-m", "reproductions", "bench-training", "--one", v.name]
                          + (["--quick"] if quick else []), capture_output=True, text=True,
                          env=env, cwd=REPO)


def _version(python: str, module: str) -> str:
    done = subprocess.run([python, "-c", f"import {module}; print({module}.__version__)"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def run(args) -> int:
    """The `bench-training` verb (arguments: its room's verbs.py)."""
    by_name = {v.name: v for v in VARIANTS}
    if args.one:
        print(json.dumps(measure(by_name[args.one], args.quick)))
        return 0
    names = [n for n in args.variants.split(",") if n] or list(by_name)
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        args.verb_parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    partial = "--quick" if args.quick else ("--variants" if args.variants else None)
    out = out_file(args, RESULTS_CSV, partial)

    import keras
    import tensorflow as tf

    from tracking.tags import machine

    rows, failed = [], []
    for name in names:
        v = by_name[name]
        python, why = python_for(v)
        if python is None:
            print(f"{name:15} left out: {why}")
            continue
        done = child(v, python, args.quick)
        if done.returncode:  # report it, keep measuring the others, write what was measured
            print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            failed.append(name)
            continue
        row = {"variant": name, **json.loads(done.stdout.strip().splitlines()[-1]),
               "torch": _version(python, "torch") if v.framework == "torch" else "",
               "jax": _version(python, "jax") if v.framework == "keras_jax" else ""}
        rows.append(row)
        print(f"{name:15} {v.model:9} {row['img_per_s']:7.0f} img/s "
              f"(±{row['spread_img_per_s'] / 2:4.0f})  {v.what}", flush=True)
    columns = ("variant", "img_per_s", "spread_img_per_s", "what", "batch_size",
               "steps_per_execution", "pipeline", "determinism", "jit_compile", "threads", "precision",
               "env", "framework", "model", "model_options", "channels_last", "torch_compile",
               "mode", "machine", "tensorflow", "keras", "torch", "jax")
    with open_for_writing(out, newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in rows:
            v = asdict(by_name[row["variant"]])
            del v["name"]
            v["env"] = " ".join(f"{k}={val}" for k, val in v["env"])
            v["model_options"] = " ".join(f"{k}={val}" for k, val in v["model_options"])
            writer.writerow({**v, "img_per_s": f"{row['img_per_s']:.0f}",
                             "spread_img_per_s": f"{row['spread_img_per_s']:.0f}",
                             "variant": row["variant"], "machine": machine(),
                             "mode": "quick" if args.quick else "full",
                             "tensorflow": tf.__version__ if v["framework"] == "keras" else "",
                             "keras": keras.__version__, "torch": row["torch"],
                             "jax": row["jax"]})
    print(f"wrote {out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
