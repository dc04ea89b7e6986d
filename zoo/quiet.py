"""Keep TensorFlow's start-up chatter off a user's terminal, and nothing else.

Importing TensorFlow 2.21 writes lines such as "oneDNN custom operations are on", "Could not
find cuda drivers" and "All log messages before absl::InitializeLog() is called are written to
STDERR" straight to file descriptor 2, from C++, before TF_CPP_MIN_LOG_LEVEL is read; so neither
that variable nor Python's logging can stop them. While Keras (and TensorFlow behind it) is
imported, descriptor 2 goes to a temporary file instead; the lines known to be chatter are
dropped and any other line is written back to stderr, so a real warning or crash report still
shows. TF_CPP_MIN_LOG_LEVEL=3 (unless the user set it) quiets what TensorFlow logs later, such
as the "failed call to cuInit" of a machine without a GPU. Used by the commands only (`zoo`,
`python -m reproductions` for its verbs declared `keras`) and by the processes a command becomes
(the model server of `serve`: tracking/serve.py, tracking/scoring.py): a library must not touch
its caller's file descriptors.

Some native chatter comes later than the import: LiteRT writes "INFO: Created TensorFlow Lite
XNNPACK delegate for CPU." from C++, through TFLite's own logger (which no variable or Python
setting quiets), as the first interpreter of a process allocates its tensors. The library wraps
such a step in `later_chatter_filtered()`, which filters only in a command that said so
(`command_console()`, called by the command before its work); anywhere else it does nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

CHATTER = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:. ]+\d+ (port|cudart_stub|cpu_feature_guard|cuda_executor|cuda_dnn|"
    r"cuda_fft|cuda_blas|cuda_platform)\.cc:\d+\] .*"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow with the "
    r"appropriate compiler flags\."
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.)$")

_command = False  # set by command_console(): descriptor 2 is a command's, the zoo may filter it


@contextlib.contextmanager
def native_stderr_filtered():
    """Descriptor 2 into a temporary file meanwhile; lines that are not chatter come back."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode(errors="replace").splitlines()
                    if line.strip() and not CHATTER.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


def command_console() -> None:
    """Said by a command before its work, never by the library: this process's descriptor 2 is
    the command's, so `later_chatter_filtered()` filters it (unless the user set
    TF_CPP_MIN_LOG_LEVEL: whoever asks for TensorFlow's log gets LiteRT's line with it)."""
    global _command
    import zoo

    _command = zoo.USER_TF_LOG_LEVEL is None


@contextlib.contextmanager
def later_chatter_filtered():
    """`native_stderr_filtered()` in a command that called `command_console()`; elsewhere
    nothing: a library's caller keeps its descriptor 2 as it was."""
    if not _command:
        yield
        return
    with native_stderr_filtered():
        yield


def import_keras_quietly() -> None:
    import zoo

    if "keras" in sys.modules or zoo.USER_TF_LOG_LEVEL is not None:
        return  # imported already, or the user set TF_CPP_MIN_LOG_LEVEL: they want the log
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with native_stderr_filtered():
        import keras  # noqa: F401  (and TensorFlow, its backend)


def users_log_level(env: dict[str, str]) -> dict[str, str]:
    """`env` for a child process with TF_CPP_MIN_LOG_LEVEL as the user set it, or unset: this
    process's quiet import set it to 3, which a child would inherit and so hide TensorFlow's
    errors from its log, or keep its own quiet import from running. Changes `env`, returns it."""
    import zoo

    if zoo.USER_TF_LOG_LEVEL is None:
        env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    else:
        env["TF_CPP_MIN_LOG_LEVEL"] = zoo.USER_TF_LOG_LEVEL
    return env


def stop_at_closed_pipe(main, *args):
    """main(*args), for a command whose output may be piped into `head`: when the reader stops
    reading, the command stops as `head` expects, with no BrokenPipeError traceback (Python's
    documented recipe: the rest of the output goes to os.devnull, so the flush at exit cannot
    fail again; exit code 1 for the unfinished output)."""
    try:
        try:
            return main(*args)
        finally:  # also on SystemExit (argparse's --help): its text is still in the buffer
            sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
