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
    differ by several times (the float32 matmul peak: 462 against 132 GFLOP/s on 2 cores).

    An AVX-512 CPU whose oneDNN is capped below it (ONEDNN_MAX_CPU_ISA=AVX2, say) is named as
    such: TensorFlow's convolutions and matmuls are oneDNN's, and its other kernels are built
    without AVX-512, so the cap stands in for the other kind on the same cores (its clock, caches
    and memory stay this machine's)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    if "avx512f" not in line.split():
                        return "no AVX-512"
                    cap = onednn_isa_cap()
                    return "AVX-512" if cap is None else \
                        f"no AVX-512: an AVX-512 CPU with oneDNN capped at {cap}"
    except OSError:
        pass
    return "unknown"


def onednn_isa_cap() -> str | None:
    """ONEDNN_MAX_CPU_ISA when it keeps oneDNN below AVX-512 (SSE41, AVX, AVX2, AVX2_VNNI...),
    else None (unset, ALL, DEFAULT, or an AVX-512 or AVX10 level)."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    if not cap or cap in ("ALL", "DEFAULT") or cap.startswith(("AVX512", "AVX10")):
        return None
    return cap


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
