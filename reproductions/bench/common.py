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

from zoo.files import make_folder, open_for_writing


def out_folder(args, committed: Path, partial: str | None = None) -> Path:
    """Where a bench writes its tables: --out-dir, else `committed`, the folder of the committed
    ones. A run that measures part of what they hold (`partial`: the option that makes it so,
    such as "--quick") must name its own folder: only a whole bench replaces the committed
    tables. The folder is made, and tried, before the bench: a bad one costs nothing."""
    given = getattr(args, "out_dir", None)
    if not given and partial:
        args.verb_parser.error(f"{partial} measures part of what the committed tables hold: "
                               "give --out-dir for this run's tables (a whole run, without it, "
                               "replaces the committed ones)")
    return make_folder(Path(given) if given else committed)


def out_file(args, committed: Path, partial: str | None = None) -> Path:
    """The same for a bench of one table (--out): its folder made and tried first, a folder in
    the file's place refused."""
    given = getattr(args, "out", None)
    if not given and partial:
        args.verb_parser.error(f"{partial} measures part of what {committed.name} holds: give "
                               f"--out for this run's table (a whole run, without it, replaces "
                               "the committed one)")
    path = Path(given) if given else committed
    make_folder(path.parent)
    if path.is_dir():
        args.verb_parser.error(f"--out {path} is a folder: give the CSV file's path")
    return path


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
