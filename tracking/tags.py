"""Tags that make a run reproducible: code version, package versions, data, machine."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket
import subprocess

from tracking.store import REPO_ROOT

PACKAGES = ("tensorflow", "keras", "mlflow", "keras-tuner", "tensorflow-datasets", "numpy")


def git_commit() -> str:
    """HEAD's commit, "-dirty" when tracked files differ from it; else why there is none, e.g.
    "unknown (git not installed)", "unknown (not a git checkout: ...)": never a bare unknown."""
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            reason = (out.stderr.strip().splitlines() or ["git rev-parse failed"])[-1]
            return f"unknown ({reason})"
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        return "unknown (git not installed)"
    except (OSError, subprocess.SubprocessError) as err:
        return f"unknown (git failed: {err})"
    if dirty.returncode != 0:
        return out.stdout.strip() + "-dirty?"  # the commit is known, its cleanliness is not
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_kind() -> str:
    """"AVX-512" or "no AVX-512": the two kinds of machine this project meets, whose convolutions
    differ by several times (the float32 matmul peak: 462 against 132 GFLOP/s on 2 cores)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return "AVX-512" if "avx512f" in line.split() else "no AVX-512"
    except OSError:
        pass
    return "unknown"


def gpus() -> str:
    import tensorflow as tf

    found = tf.config.list_physical_devices("GPU")
    return ", ".join(d.name for d in found) or "none"


def machine() -> str:
    """One line: CPU model, cores, GPU; the `machine` column of the results."""
    return f"{cpu_model()}, {os.cpu_count()} cores, GPU: {gpus()}"


def tf_threads() -> str:
    """TensorFlow's intra- and inter-op threads in this process ("default": one a core), as
    `reproduce --jobs` sets them per worker: runs with other thread counts may differ in the
    last bits (reproductions/results/reproduce_jobs_timing.md)."""
    import tensorflow as tf

    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    return f"intra {intra or 'default'}, inter {inter or 'default'}"


def run_tags() -> dict[str, str]:
    tags = {
        "git_commit": git_commit(),
        "machine": machine(),
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "cpu_kind": cpu_kind(),
        "tf_threads": tf_threads(),
    }
    for pkg in PACKAGES:
        try:
            tags[f"version.{pkg}"] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            tags[f"version.{pkg}"] = "not installed"
    return tags
