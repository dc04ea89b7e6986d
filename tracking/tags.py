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


def gpus() -> str:
    import tensorflow as tf

    found = tf.config.list_physical_devices("GPU")
    return ", ".join(d.name for d in found) or "none"


def machine() -> str:
    """One line: CPU model, cores, GPU; the `machine` column of the results."""
    return f"{cpu_model()}, {os.cpu_count()} cores, GPU: {gpus()}"


def run_tags() -> dict[str, str]:
    tags = {
        "git_commit": git_commit(),
        "machine": machine(),
        "host": socket.gethostname(),
        "python": platform.python_version(),
    }
    for pkg in PACKAGES:
        try:
            tags[f"version.{pkg}"] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            tags[f"version.{pkg}"] = "not installed"
    return tags
