"""Ctrl-C at a safe point: while runs train, SIGINT stops the run at its next batch's end.

Why not Python's own KeyboardInterrupt, raised wherever the main thread happens to be: CI saw a
worker die of `munmap_chunk(): invalid pointer` right after its Ctrl-C, before it could end its
run as KILLED (the run stayed RUNNING). The likeliest cause is the exception landing inside a
native call that calls back into Python (TensorFlow's data pipeline, a checkpoint's HDF5 write)
and leaving it half done. Here the signal only raises a flag; `StopAtBatchEnd` raises
KeyboardInterrupt from plain Python at the next training or validation batch's end (an
evaluation of the source's test set, run inside a callback, ends first), and train_run ends the
run as KILLED, keeping its last checkpoint. A run whose training is over when the signal comes
finishes its last writes and no new pair starts (`check`).

    with interrupt.deferred():   # each worker; reproduce's own loop (--jobs 1) passes True:
                                 # a second Ctrl-C stops it at once
        ...train_run(...) for each pair, interrupt.check() between them...
"""

from __future__ import annotations

import contextlib
import signal

import keras

_requested = False
_twice_stops_at_once = False


def _on_sigint(signum, frame):
    """The first SIGINT asks for the stop. A worker ignores later ones: the terminal's Ctrl-C and
    the parent's pass-on both reach it, and nothing must interrupt its run's last writes. One
    process (--jobs 1) takes a second Ctrl-C as "now": KeyboardInterrupt wherever it is."""
    global _requested
    if _requested and _twice_stops_at_once:
        raise KeyboardInterrupt
    _requested = True
    if not _twice_stops_at_once:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def deferred(twice_stops_at_once: bool = False):
    """SIGINT raises the flag instead of KeyboardInterrupt while the block runs (main thread).
    The flag is the block's: it is lowered when the block ends, so that a later training in the
    same process (a test, a second verb called in-process) is not stopped by an old Ctrl-C. A
    worker that was asked to stop keeps ignoring SIGINT (it is finishing its last writes); any
    other process gets its previous handler back."""
    global _requested, _twice_stops_at_once
    _requested, _twice_stops_at_once = False, twice_stops_at_once
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        stopping, _requested = _requested, False
        if not stopping or _twice_stops_at_once:
            signal.signal(signal.SIGINT, previous)


def check() -> None:
    """KeyboardInterrupt if a stop was asked for inside the running `deferred` block: between
    pairs, and from StopAtBatchEnd. Outside a block it never raises."""
    if _requested:
        raise KeyboardInterrupt


class StopAtBatchEnd(keras.callbacks.Callback):
    """The deferred Ctrl-C, raised where only Python runs: before training, at each training and
    validation batch's end, and at each evaluation's end."""

    def on_train_begin(self, logs=None):
        check()

    def on_train_batch_end(self, batch, logs=None):
        check()

    def on_test_batch_end(self, batch, logs=None):
        check()

    def on_epoch_end(self, epoch, logs=None):
        check()
