"""Files written whole or not at all: every file the zoo and the training suite write goes to a
temporary name beside its target and is renamed onto it once complete (os.replace, atomic within
a folder).

A full disk (ENOSPC), a read-only folder, a target that is a directory or a parent that is a
file then leave what was there before, never a truncated file under the final name that a later
`zoo.load`, ONNX Runtime or git would take for the real one (issue 30). The failure becomes a
WriteError naming the path and the cause in words; the `zoo` command and the suite print it as
`error: ...` with exit code 2.

    with atomic_path("exports/conv3.mnist.onnx") as temp:   # .tmp-<pid>-<n>-conv3.mnist.onnx
        model.export(str(temp), format="onnx")
    write_text(RESULTS / "mnist.md", text)
    with open_for_writing(RESULTS / "mnist.csv", newline="") as f:
        csv.writer(f).writerows(rows)

The temporary name ends with the target's own name because writers take the format from it
(matplotlib's PNG, Keras' .keras and .tflite). A process killed outright (kill -9) can leave
one behind: hidden, and never under the final name.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

_SERIAL = itertools.count()  # two writes of one target in one process get two temporary names

# why a write failed, in words, and what to do about it ({parent}: the target's folder)
_CAUSES = {
    errno.ENOSPC: ("no space left on device", "free some space on that disk or write elsewhere"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or write elsewhere"),
    errno.EFBIG: ("file too large for that file system", "write elsewhere"),
    errno.EROFS: ("read-only file system", "write elsewhere"),
    errno.EACCES: ("permission denied", "make {parent} writable or write elsewhere"),
    errno.EPERM: ("operation not permitted", "make {parent} writable or write elsewhere"),
    # mkdir -p where no folder can be made (under /proc, say)
    errno.ENOENT: ("no such file or directory, and none can be made there", "write elsewhere"),
}
# errors of a path that is in the way: a directory where a file goes, a file where a folder goes
_IN_THE_WAY = (errno.EISDIR, errno.ENOTDIR, errno.EEXIST)


class WriteError(OSError):
    """A file or folder that could not be written whole: the message names its path, the cause
    in words and what to do. Whatever was at the path before is still there."""

    def __init__(self, path, cause: OSError, *, folder: bool = False):
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.path = Path(path)
        self.message = f"cannot write {self.path}: {_why(self.path, cause, folder)}"

    def __str__(self) -> str:
        return self.message


def _why(path: Path, cause: OSError, folder: bool) -> str:
    if cause.errno in _CAUSES:
        words, advice = _CAUSES[cause.errno]
        return f"{words}; {advice.format(parent=path.parent)}"
    if cause.errno in _IN_THE_WAY:
        if path.is_dir() and not folder:
            return "it is a directory; move it away or write elsewhere"
        blocker = next((p for p in ([path] if folder else []) + list(path.parents)
                        if os.path.lexists(p) and not p.is_dir()), None)
        if blocker == path:
            return "it is a file, not a directory; move it away or write elsewhere"
        if blocker is not None:
            return f"{blocker} is a file, not a directory; move it away or write elsewhere"
    return (cause.strerror or str(cause)).lower()


def make_folder(path) -> Path:
    """mkdir -p, its failures (a file in the way, a read-only parent) as WriteError. A folder
    that exists but refuses writes is refused too, with an empty file made and removed: callers
    make their folder before the work, so that a bad --out costs nothing (as root, os.access
    says yes to a read-only file system)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".tmp-{os.getpid()}-{next(_SERIAL)}-probe"
        _remove(probe)  # the leftover of a process killed outright that had this process's id
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.remove(probe)
    except OSError as err:
        raise WriteError(path, err, folder=True) from err
    return path


@contextmanager
def atomic_path(target, *, folder: bool = False):
    """Yields a temporary path beside `target` for the caller to write (a file, or with
    `folder` a directory, as a SavedModel is); when the block ends, renames it onto `target`;
    if the block raises, removes it and re-raises (an OSError of the write as WriteError).
    The target's folder is made if needed."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # named after the target: the file the caller meant to write
        raise WriteError(target, err) from err
    if target.is_dir() != folder and os.path.lexists(target):
        # a directory where a file goes (os.replace would refuse it only after the work), or a
        # file where a folder goes (the swap would replace it): refused first
        raise WriteError(target, OSError(errno.EEXIST if folder else errno.EISDIR, ""),
                         folder=folder)
    temp = target.with_name(f".tmp-{os.getpid()}-{next(_SERIAL)}-{target.name}")
    _remove(temp)  # the leftover of a process killed outright that had this process's id
    try:
        # made empty first: a folder that refuses writes fails here, as a plain OSError, for
        # every writer (TensorFlow's own file layer would raise errors of its own later)
        if folder:
            os.mkdir(temp)
        else:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as err:
        raise WriteError(target, err, folder=folder) from err
    try:
        yield temp
        if folder:
            _swap_in(temp, target)
        else:
            os.replace(temp, target)
    except BaseException as err:
        _remove(temp)
        # only the errors of writing: a missing input read inside the block stays what it is
        if isinstance(err, OSError) and not isinstance(err, WriteError) and (
                err.errno in _CAUSES or err.errno in _IN_THE_WAY):
            raise WriteError(target, err, folder=folder) from err
        raise


def _swap_in(new: Path, target: Path) -> None:
    """Folder `new` in place of folder `target`: os.replace cannot put a folder over a non-empty
    one, so the old one is renamed away first, put back if the new one cannot go in, and
    removed once it has."""
    if not os.path.lexists(target):
        os.replace(new, target)
        return
    old = target.with_name(f".old-{os.getpid()}-{next(_SERIAL)}-{target.name}")
    os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError:
        os.replace(old, target)
        raise
    # the new folder is in place: an old one that will not go is left hidden, not a failure
    shutil.rmtree(old, ignore_errors=True)


def _remove(temp: Path) -> None:
    """Best effort: on a read-only file system even unlinking a missing file fails (EROFS, not
    ENOENT), and the write that follows, or the error being raised, says what matters."""
    if temp.is_dir() and not temp.is_symlink():
        shutil.rmtree(temp, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


@contextmanager
def open_for_writing(target, *, newline: str | None = None):
    """open(target, "w") whole or not at all: the file object of a temporary file, renamed onto
    `target` once closed (ENOSPC can come as late as the close)."""
    with atomic_path(target) as temp, open(temp, "w", newline=newline) as f:
        yield f


def write_text(target, text: str) -> Path:
    with atomic_path(target) as temp:
        temp.write_text(text)
    return Path(target)


def copy_file(source, target) -> Path:
    """shutil.copyfile, whole or not at all."""
    with atomic_path(target) as temp:
        shutil.copyfile(source, temp)
    return Path(target)


def append_csv_rows(target, columns, rows) -> Path:
    """Rows appended to a CSV (its header written first if the file is new), through a copy
    that then replaces the file: a full disk cannot leave half a row."""
    import csv
    import shutil

    target = Path(target)
    new = not target.exists()
    with atomic_path(target) as temp:
        if not new:
            shutil.copyfile(target, temp)
        with open(temp, "a", newline="") as f:
            writer = csv.DictWriter(f, columns)
            if new:
                writer.writeheader()
            writer.writerows(rows)
    return target
