"""A quiet console for long verbs: what the user needs on the terminal, everything else in a log.

While a `reproduce` runs (unless --verbose), file descriptor 2 goes to a log file: TensorFlow's
C++ lines (written to descriptor 2 from C++, which neither TF_CPP_MIN_LOG_LEVEL nor Python's
logging fully stops), MLflow's INFO lines and artifact bars (its handlers hold the original
sys.stderr, which writes to descriptor 2) and Keras' messages (interactive logging off: no
progress bars, no escape codes, whether or not the output is a terminal). Python's sys.stderr is
re-opened on the original descriptor 2, so the suite's own messages and errors still reach the
user (MLflow's own prints, such as the registry's, go to the log too). Each run logs the file as
an artifact (logs/console.log) when it ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

from tracking import REPO_ROOT

LOGS = REPO_ROOT / "runs" / "logs"
current_log: Path | None = None  # the log of the verb running now; train_run logs it


@contextlib.contextmanager
def quiet(verb: str, folder: Path = LOGS):
    """Descriptor 2 into <folder>/<verb>-<UTC time>.log meanwhile; yields the log's path."""
    global current_log
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{verb}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}.log"
    sys.stdout.flush()
    sys.stderr.flush()
    old_stderr = sys.stderr
    with contextlib.ExitStack() as undo:
        log = undo.enter_context(open(path, "ab", buffering=0))
        console_fd = os.dup(2)
        undo.callback(os.close, console_fd)
        os.dup2(log.fileno(), 2)
        undo.callback(os.dup2, console_fd, 2)  # fd 2 back to the console on the way out
        # our messages to the console; left open on the way out (handlers made meanwhile, such
        # as TensorFlow's, may still hold it), errors never raised by an odd character
        sys.stderr = os.fdopen(os.dup(console_fd), "w", buffering=1, errors="backslashreplace")
        undo.callback(setattr, sys, "stderr", old_stderr)
        # MLflow's handler writes to whatever sys.stderr is at the time: point it at the log
        text_log = os.fdopen(os.dup(log.fileno()), "w", buffering=1)
        undo.callback(text_log.close)
        for handler in [h for h in logging.getLogger("mlflow").handlers
                        if isinstance(h, logging.StreamHandler)]:
            undo.callback(handler.setStream, handler.setStream(text_log))
        # and its eprint lines ("Successfully registered model ..."), which write to the
        # sys.stderr of the time through this module-level stream, looked up at each call
        from mlflow.utils import logging_utils

        undo.callback(setattr, logging_utils, "MLFLOW_LOGGING_STREAM",
                      logging_utils.MLFLOW_LOGGING_STREAM)
        logging_utils.MLFLOW_LOGGING_STREAM = text_log
        undo.callback(_flush_quietly, sys.stderr)
        current_log = path
        undo.callback(globals().__setitem__, "current_log", None)
        yield path


def _flush_quietly(stream) -> None:
    """Flush on the way out; a console gone (a closed pipe) must not stop the restoring."""
    with contextlib.suppress(OSError, ValueError):
        stream.flush()


def keras_to_the_log() -> None:
    """Import Keras (and TensorFlow: its start-up lines land in the log) with its progress bars
    off: its messages go through logging, so no escape codes reach a file or a pipe. For the
    rest of the process: a quiet verb is the process's one verb."""
    import keras

    keras.config.disable_interactive_logging()
