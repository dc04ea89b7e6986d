"""Per-epoch checkpoints, so a run killed mid-way (Ctrl-C, kill -9) resumes where it stopped.

A checkpoint folder holds, for the last completed epoch k, `epoch-k.keras` (the compiled model:
weights and optimizer state) and `epoch-k.json` (history, wall time so far, and the dropout
layers' random-generator states, which Keras 3.15 saves but does not restore on load; without
them a resumed run would draw other dropout masks than an uninterrupted one).
The file LATEST names k and is replaced atomically after both are written, so a kill at any
moment leaves either the previous checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import keras


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
        self.folder.mkdir(parents=True, exist_ok=True)
        model.save(self.folder / f"epoch-{epoch}.keras")
        rng = [var.numpy().tolist() for var in _rng_states(model)]
        (self.folder / f"epoch-{epoch}.json").write_text(json.dumps({**state, "rng_states": rng}))
        tmp = self.folder / "LATEST.tmp"
        tmp.write_text(str(epoch))
        os.replace(tmp, self.folder / "LATEST")
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
