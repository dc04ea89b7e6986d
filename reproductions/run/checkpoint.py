"""Per-epoch checkpoints, so a run killed mid-way (Ctrl-C, kill -9) resumes where it stopped.

A checkpoint folder holds, for the last completed epoch k, `epoch-k.keras` (the compiled model:
weights and optimizer state) and `epoch-k.json` (history, wall time so far, and the dropout
layers' random-generator states, which Keras 3.15 saves but does not restore on load; without
them a resumed run would draw other dropout masks than an uninterrupted one).
Each file is written whole or not at all (zoo.files: a temporary name, then a rename), and
LATEST, which names k, is replaced only after both are written, so a kill or a full disk at any
moment leaves either the previous checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import keras

from zoo.files import atomic_path, write_text


class Checkpoints:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def latest(self):
        """(epoch, model, state) of the last completed epoch, or None."""
        pointer = self.folder / "LATEST"
        if not pointer.exists():
            return None
        epoch = int(pointer.read_text())
        # compile=True restores the optimizer; the schedule class must be registered first
        import reproductions.run.schedule  # noqa: F401

        model = keras.saving.load_model(self.folder / f"epoch-{epoch}.keras", safe_mode=True)
        state = json.loads((self.folder / f"epoch-{epoch}.json").read_text())
        for var, value in zip(_rng_states(model), state.pop("rng_states")):
            var.assign(value)
        return epoch, model, state

    def save(self, epoch: int, model, state: dict):
        with atomic_path(self.folder / f"epoch-{epoch}.keras") as temp:
            model.save(temp)
        rng = [var.numpy().tolist() for var in _rng_states(model)]
        write_text(self.folder / f"epoch-{epoch}.json", json.dumps({**state, "rng_states": rng}))
        write_text(self.folder / "LATEST", str(epoch))
        for old in self.folder.glob("epoch-*"):
            if old.stem != f"epoch-{epoch}":
                old.unlink(missing_ok=True)

    def clear(self):
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.folder.parent.rmdir()  # the store's folder, once its last checkpoint is gone
        except OSError:
            pass  # other pairs' checkpoints are still there


class EvaluationEnd(keras.callbacks.Callback):
    """At each evaluation: training time, history, checkpoint (its time into `phases`),
    progress line."""

    def __init__(self, recipe, seed, checkpoints, state, progress, phases):
        super().__init__()
        self.recipe, self.seed = recipe, seed
        self.checkpoints, self.state, self.progress = checkpoints, state, progress
        self.phases = phases
        self.t0 = time.perf_counter()
        self.test_s0 = state.get("test_s", 0.0)

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        # the source's test evaluations are not training time (state["test_s"])
        self.state["wall_s"] += now - self.t0 - (self.state.get("test_s", 0.0) - self.test_s0)
        for key, value in logs.items():
            self.state["history"].setdefault(key, []).append(float(value))
        with self.phases("checkpoints"):
            self.checkpoints.save(epoch + 1, self.model, self.state)
        self.t0 = time.perf_counter()  # checkpoint time is not training time
        self.test_s0 = self.state.get("test_s", 0.0)
        if self.progress:
            self.progress.epoch_done(self.recipe, self.seed, epoch + 1, logs)


def _rng_states(model):
    return [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]
