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


def _rng_states(model):
    return [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]
