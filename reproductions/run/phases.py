"""Where a run's time goes besides its training steps (issue 26), logged with every run as
`time_<phase>_s` metrics and tabulated per recipe by `python -m reproductions time-job`
(reproductions/results/reproduce_jobs_overheads.md).

Phases, in the order a run meets them: `startup` (the process's start to its first run: Python,
TensorFlow, the suite; once a process), `data` (reading and checking the arrays, their digest),
`store` (finding a finished run, the claim), `model` (building and compiling), `mlflow_start`
(the run, its parameters, its data sets), `test_evals` (a published recipe's tests on its
source's cadence), `checkpoints`, `step_logging` (the curves' points), `final_test` (a chosen
recipe's one test read), `artifacts` (plots, .keras, recipe.json), `model_logging` (the MLflow
model) and `parent` (the recipe's parent run, after the run). `system_metrics` is the CPU time
of MLflow's sampling thread, which runs beside the steps rather than between them.
"""

from __future__ import annotations

import contextlib
import threading
import time

PHASES = ("startup", "data", "store", "model", "mlflow_start", "test_evals", "checkpoints",
          "step_logging", "final_test", "artifacts", "model_logging", "parent", "system_metrics")
_first_run_done = False  # startup is counted once a process, by its first run that trains


class Phases:
    """Seconds per phase, added up; `with phases("data"): ...`. Made as a run is asked for, it
    notes the time since the process started; `training_starts()` counts it as the start-up if
    this is the process's first run to train (a pair skipped or held elsewhere does not)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._since_start = None if _first_run_done else _process_age()

    @contextlib.contextmanager
    def __call__(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def training_starts(self) -> None:
        global _first_run_done
        if self._since_start is not None and not _first_run_done:
            _first_run_done = True
            self.add("startup", self._since_start)

    def metrics(self) -> dict[str, float]:
        return {f"time_{name}_s": s for name, s in self.seconds.items()}


def _process_age() -> float:
    """Seconds since this process started."""
    import psutil

    return max(0.0, time.time() - psutil.Process().create_time())


def system_metrics_cpu_seconds() -> float | None:
    """CPU seconds used so far by MLflow's system-metrics thread (None: none running)."""
    import psutil

    ids = {t.native_id for t in threading.enumerate() if t.name == "SystemMetricsMonitor"}
    if not ids:
        return None
    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in ids)
