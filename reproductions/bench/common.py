"""What every bench shares: a results CSV written one way (whole or not at all, zoo.files), a
timed call, a package's version.

Kept apart from the benches themselves so that each imports it and none imports another (the
model bench and the export bench used to borrow these from each other, a circle).
"""

from __future__ import annotations

import csv
import importlib.metadata
import time
from pathlib import Path

from zoo.files import open_for_writing


def write_csv(path: Path, columns, rows) -> None:
    """A results table: floats to 4 significant digits, the folder made if needed."""
    with open_for_writing(path, newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v)
                             for k, v in row.items()})


def timed(fn, reps: int, warmup: int) -> list[float]:
    """`reps` wall times of fn() in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def version(package: str) -> str:
    """An installed distribution's version, or "not installed"."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
