"""Where a training step's time goes: `make profile` (`python -m reproductions profile conv3_bn
[--steps N] [--set KEY=VALUE] [--out-dir DIR]`).

Sets a recipe's run up as reproductions train do (reproductions/run/prepare.py: its model, optimizer,
steps per execution, op determinism, the tf.data stream of zoo.data.training_stream), warms up,
then:

1. times `--steps` training steps without the profiler, and turns that into achieved GFLOP/s
   (forward FLOPs counted from the layers by reproductions.bench.models.forward_flops, x3 for forward
   and backward, as `make bench` counts them) against the float32 matmul peak that `make bench`
   measures (reproductions.bench.models.matmul_peak, measured here in the same process);
2. runs the same number of steps again under TensorFlow's profiler
   (tf.profiler.experimental.start/stop), which writes an XSpace protobuf (*.xplane.pb), and reads
   it with the XSpace message TensorFlow itself ships (tensorflow.tsl.profiler.protobuf.xplane_pb2).

Why parse the XSpace ourselves: the per-op tables of TensorBoard's profile plugin (xprof's
`xspace_to_tools_data`) need the xprof package, whose dependencies would move packages of the
shared environment (protobuf among them); the XSpace message is part of TensorFlow. The host plane
holds one line per thread; TensorFlow's executor records every op it runs as an event named
"<op name>:<op type>". An op's self time is its duration less the op events nested inside it on the
same thread (a function call op runs its body inline). Threads named tf_data_* run the input
pipeline; every other thread's ops are the training step proper.

Writes reproductions/results/profile_<recipe>.csv (one row per op type and place: total self time,
per step, share of all ops' self time, count) and profile_<recipe>.md (the table, the step time,
the threads' busy fraction, GFLOP/s against the peak), with the machine and versions. The
profile's own overhead makes its step slower than the timed one: the table gives shares, the
timed run gives the speed.
"""

from __future__ import annotations

import csv
import dataclasses
import glob
import math
import os
import re
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from reproductions import RESULTS
from zoo.files import open_for_writing, write_text

WARMUP_STEPS = 20  # traces the step function and fills the pipeline before anything is timed


@dataclass(frozen=True)
class OpRow:
    op_type: str
    where: str  # "step" (the training step's threads) or "input" (tf.data's threads)
    self_us: float
    count: int


def _is_op_event(name: str) -> bool:
    """TensorFlow's executor names an op's event "<op name>:<op type>"; tf.data's iterator events
    ("Iterator::Root::...") and the runtime's own ("ExecutorState::Process") have "::"."""
    if "::" in name or name.count(":") != 1:
        return False
    scope, op_type = name.split(":")
    # types start upper-case, or with "_" for TensorFlow's internal kernels (oneDNN's _Mkl*)
    return bool(scope) and op_type.isidentifier() and (op_type[0].isupper() or op_type[0] == "_")


def op_table(xspace) -> tuple[list[OpRow], dict]:
    """Per (op type, place) self time and count from an XSpace's host plane; and totals: the
    profiled span (µs) and the number of threads that ran ops."""
    rows = defaultdict(lambda: [0.0, 0])
    span_start, span_end, threads = math.inf, -math.inf, set()
    for plane in xspace.planes:
        if not plane.name.startswith("/host:"):
            continue
        names = {k: m.name for k, m in plane.event_metadata.items()}
        for line in plane.lines:
            where = "input" if line.name.startswith("tf_data") else "step"
            # (start, end, type) of op events, sorted by start: nesting by time on one thread
            events = sorted(((line.timestamp_ns * 1000 + e.offset_ps,
                              line.timestamp_ns * 1000 + e.offset_ps + e.duration_ps,
                              names[e.metadata_id].split(":")[1])
                             for e in line.events if _is_op_event(names[e.metadata_id])),
                            key=lambda t: (t[0], -t[1]))
            if not events:
                continue
            threads.add((plane.name, line.id))
            stack = []  # open events: [end, type, self_ps]
            for start, end, op_type in events:
                while stack and stack[-1][0] <= start:
                    _close(stack.pop(), rows, where)
                if stack:  # nested: its time is not its parent's self time
                    stack[-1][2] -= min(end, stack[-1][0]) - start
                stack.append([end, op_type, end - start])
                span_start, span_end = min(span_start, start), max(span_end, end)
            while stack:
                _close(stack.pop(), rows, where)
    table = [OpRow(t, w, ps / 1e6, n) for (t, w), (ps, n) in rows.items()]
    table.sort(key=lambda r: -r.self_us)
    span_us = (span_end - span_start) / 1e6 if threads else 0.0
    return table, {"span_us": span_us, "threads": len(threads)}


def _close(event, rows, where):
    _, op_type, self_ps = event
    rows[(op_type, where)][0] += max(self_ps, 0)
    rows[(op_type, where)][1] += 1


def read_xspace(logdir: Path):
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(glob.glob(str(logdir / "**" / "*.xplane.pb"), recursive=True))
    if not files:
        raise RuntimeError(f"TensorFlow's profiler wrote no *.xplane.pb under {logdir}")
    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(files[-1]).read_bytes())
    return space


def variant(recipe_name: str, overrides: tuple[str, ...] = ()):
    """The recipe, or its variant with `overrides` ("key=value" texts, as reproduce --set),
    named by the texts typed, which also name its files. ValueError: a value the recipe refuses."""
    from reproductions.recipes import derive, get_recipe, parse_override

    recipe = get_recipe(recipe_name)
    if not overrides:
        return recipe
    return derive(recipe, dict(parse_override(text) for text in overrides),
                  name=recipe.name + "".join(f"+{text}" for text in overrides))


def set_threads(threads: int) -> None:
    """TensorFlow's intra- and inter-op threads, as a `reproduce` worker sets them
    (reproductions/run/workers.py); before TensorFlow runs its first op."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def profile_recipe(recipe, steps: int) -> dict:
    import keras
    import tensorflow as tf

    import zoo.data
    from reproductions.bench.models import forward_flops, matmul_peak
    from reproductions.run.prepare import build_model, compile_model, load_data, steps_per_execution

    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()  # as reproductions train
    spe = math.gcd(steps_per_execution(recipe), steps)  # whole calls of the step function
    data = load_data(recipe, with_test=False)
    model = compile_model(recipe, build_model(recipe), spe)
    stream = zoo.data.training_stream(*data.train, recipe.batch_size, seed=0,
                                      **recipe.augmentation())
    warmup = max(spe, WARMUP_STEPS - WARMUP_STEPS % spe)
    model.fit(stream, epochs=1, steps_per_epoch=warmup, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(stream, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    step_s = (time.perf_counter() - start) / steps

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            model.fit(stream, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
        finally:
            tf.profiler.experimental.stop()
        table, totals = op_table(read_xspace(Path(logdir)))
    if not table:
        raise RuntimeError("the profile holds no TensorFlow op events")

    flops = forward_flops(model)
    peak = matmul_peak()
    # bfloat16 compute has its own, higher peak: the fair yardstick for a bfloat16 variant
    peak_bf16 = matmul_peak(dtype="bfloat16") if recipe.precision == "mixed_bfloat16" else None
    gflops = 3 * flops * recipe.batch_size / step_s / 1e9
    return {"recipe": recipe, "steps": steps, "spe": spe, "step_s": step_s, "table": table,
            "totals": totals, "fwd_flops": flops, "gflops": gflops, "peak": peak,
            "peak_bf16": peak_bf16,
            "threads": (tf.config.threading.get_intra_op_parallelism_threads(),
                        tf.config.threading.get_inter_op_parallelism_threads()),
            "tensorflow": tf.__version__, "keras": keras.__version__}


COLUMNS = ("op_type", "where", "self_ms", "self_ms_per_step", "share", "count", "count_per_step")


def file_stem(name: str) -> str:
    """A variant's name as a file name: brackets, quotes and spaces of a --set value dropped
    (conv3_bn+model_options=[["fused_bn",false]] -> conv3_bn+model_options=fused_bn,false)."""
    return re.sub(r"[^\w+=.,-]", "", name)


def write(result: dict, out_dir: Path, command: str) -> tuple[Path, Path]:
    """The CSV and the table; `command`: the command line that made them, as typed."""
    from tracking.tags import cpu_kind, machine

    recipe, steps, table = result["recipe"], result["steps"], result["table"]
    total_us = sum(r.self_us for r in table)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"profile_{file_stem(recipe.name)}.csv"
    with open_for_writing(csv_path, newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        for r in table:
            writer.writerow({"op_type": r.op_type, "where": r.where,
                             "self_ms": f"{r.self_us / 1e3:.4g}",
                             "self_ms_per_step": f"{r.self_us / 1e3 / steps:.4g}",
                             "share": f"{r.self_us / total_us:.4f}", "count": r.count,
                             "count_per_step": f"{r.count / steps:.4g}"})
    input_us = sum(r.self_us for r in table if r.where == "input")
    span_us, threads = result["totals"]["span_us"], result["totals"]["threads"]
    intra, inter = result.get("threads", (0, 0))
    cores = min(os.cpu_count() or 1, intra or os.cpu_count() or 1)  # the cores it may use
    lines = [
        f"# Where a training step of {recipe.name} goes (generated by `{command}`)", "",
        f"Machine: {machine()} ({cpu_kind()}); TensorFlow {result['tensorflow']}, Keras "
        f"{result['keras']}.", "",
        f"- TensorFlow's threads: {intra or 'its default, one a core'} intra-op, "
        f"{inter or 'its default'} inter-op"
        + (" (a `reproduce` worker's, --jobs at its default: reproductions/run/workers.py); the "
           "matmul peak below is measured with the same threads." if "+threads=" not in
           recipe.name else "; the matmul peak below is measured with the same threads."),
        f"- Timed without the profiler: {1e3 * result['step_s']:.2f} ms a step of "
        f"{recipe.batch_size} images ({recipe.batch_size / result['step_s']:.0f} images/s; "
        f"steps per execution {result['spe']}).",
        f"- Forward {result['fwd_flops'] / 1e6:.2f} MFLOP an image (convolutions and dense "
        f"layers), x3 for training: {result['gflops']:.1f} GFLOP/s, "
        f"{100 * result['gflops'] / result['peak']:.1f}% of the float32 matmul peak measured in "
        f"the same process ({result['peak']:.0f} GFLOP/s, `make bench`'s measure)"
        + ("." if result["peak_bf16"] is None else
           f"; {100 * result['gflops'] / result['peak_bf16']:.1f}% of the bfloat16 matmul peak "
           f"measured likewise ({result['peak_bf16']:.0f} GFLOP/s), the yardstick of bfloat16 "
           "compute."),
        f"- Under the profiler: {span_us / 1e3 / steps:.2f} ms a step from the first op to the "
        f"last; ops' self time {total_us / 1e3 / steps:.2f} ms a step on {threads} threads, "
        f"{100 * total_us / (span_us * cores):.0f}% of {cores} cores over that span (the rest: "
        f"cores idle between ops, or busy outside TensorFlow's ops); the input pipeline's ops "
        f"{100 * input_us / total_us:.1f}% of it.", "",
        "Self time: an op's time less the ops it ran inside it; share: of all ops' self time.",
        "", "| op type | where | self ms a step | share | count a step |", "|---|---|---|---|---|"]
    for r in table:
        if r.self_us / total_us < 0.001:  # the CSV keeps every row
            continue
        lines.append(f"| {r.op_type} | {r.where} | {r.self_us / 1e3 / steps:.3f} | "
                     f"{100 * r.self_us / total_us:.1f}% | {r.count / steps:.3g} |")
    md_path = out_dir / f"profile_{file_stem(recipe.name)}.md"
    write_text(md_path, "\n".join(lines) + "\n")
    return csv_path, md_path


def run(args) -> int:
    """The `profile` verb (arguments: its room's verbs.py)."""
    try:
        recipe = variant(args.recipe, tuple(args.set))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from reproductions.run.workers import default_jobs, thread_split

    # by default, the threads a `reproduce` worker has here (--jobs at its default)
    threads = args.threads if args.threads is not None else thread_split(default_jobs())
    if threads:
        set_threads(threads)
    if args.threads is not None:  # not the worker's: its own files
        recipe = dataclasses.replace(recipe, name=f"{recipe.name}+threads={threads or 'all'}")
    from tracking.tags import onednn_isa_cap

    isa = onednn_isa_cap()  # the other machine kind, approximately, on this one (cpu_kind)
    if isa:
        recipe = dataclasses.replace(recipe, name=f"{recipe.name}+isa={isa}")
    result = profile_recipe(recipe, args.steps)
    command = ((f"ONEDNN_MAX_CPU_ISA={isa} " if isa else "")
               + f"python -m reproductions profile {args.recipe} --steps {args.steps}"
               + "".join(f" --set {shlex.quote(text)}" for text in args.set)
               + (f" --threads {args.threads}" if args.threads is not None else ""))
    csv_path, md_path = write(result, Path(args.out_dir) if args.out_dir else RESULTS, command)
    print(md_path.read_text())
    print(f"wrote {csv_path} and {md_path}")
    return 0
