"""Issue 30, item 2: nothing half-written. Every writer of the zoo and the suite writes a
temporary file beside its target and renames it when complete (zoo/files.py), so a full disk, a
read-only folder or a path in the way leaves what was there before and no temporary file, and the
`zoo` command and the suite say so in one line (the path, the cause) with exit code 2.

A full disk is injected where each kind of writer writes (Keras' export and save, TensorFlow's
SavedModel writer, matplotlib's savefig, csv rows, Path.write_text): part of the file is
written, then ENOSPC, as a real full disk does."""

import csv
import errno
import os
import re
from pathlib import Path

import keras
import pytest
from matplotlib.figure import Figure

from reproductions.__main__ import main as suite_main
from reproductions.recipes import get_recipe
from tests.test_reliability_suite import _finished_run
from zoo.cli import main as zoo_cli
from zoo.export import export, output_path, read_metadata
from zoo.files import WriteError, atomic_path

REPO = Path(__file__).resolve().parents[1]
FULL = "no space left on device"
# the verbs of the `zoo` command that write under --out, cheap weights for each
WRITING_VERBS = {"export": ["export", "softmax.mnist", "--format", "onnx"],
                 "evaluate": ["evaluate", "softmax.mnist"],
                 "explain": ["explain", "conv3.mnist", "7"]}


def disk_full(path, data: bytes = b"half of a file"):
    """What a full disk does to a writer: part of the file written, then ENOSPC."""
    Path(path).write_bytes(data)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def disk_full_text(self, text, *args, **kwargs):
    disk_full(self, text.encode()[:len(text) // 2])


def leftovers(folder: Path) -> list[Path]:
    """Temporary files or folders of zoo.files left anywhere under `folder`."""
    return [p for p in folder.rglob(".*") if p.name.startswith((".tmp-", ".old-"))]


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def refused(capsys, path, cause: str) -> str:
    """The `error: ...` line of a refused write: the path, the cause, no traceback."""
    err = capsys.readouterr().err
    assert f"error: cannot write {path}" in err and cause in err, err
    assert "Traceback" not in err
    return err


@pytest.fixture()
def full_after_the_header(monkeypatch):
    """csv writers: the header goes through, the disk is full at the first row."""
    real, calls = csv.DictWriter.writerow, []

    def writerow(self, row):
        calls.append(row)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, row)

    monkeypatch.setattr(csv.DictWriter, "writerow", writerow)


@pytest.fixture()
def unwritable(tmp_path):
    """(a folder this process cannot write into, the cause the message gives): a folder of mode
    0o500 holding an earlier file; for root, whom modes do not stop, a path below a regular file
    instead (ENOTDIR for anyone)."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    folder.chmod(0o500)
    try:
        (folder / "probe").touch()
    except PermissionError:
        yield folder, "permission denied"
    else:
        (folder / "probe").unlink()
        blocker = tmp_path / "a-file"
        blocker.write_text("mine")
        yield blocker / "out", f"{blocker} is a file, not a directory"
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_a_full_disk_during_export_keeps_the_previous_file(tmp_path, monkeypatch, capsys, fmt):
    target = output_path("softmax.mnist", fmt, tmp_path)
    target.write_bytes(b"the previous export")
    monkeypatch.setattr(keras.Model, "export", lambda self, filepath, **kw: disk_full(filepath))
    assert zoo_cli(["export", "softmax.mnist", "--format", fmt, "--out", str(tmp_path)]) == 2
    err = refused(capsys, target, FULL)
    assert "free some space on that disk or write elsewhere (--out)" in err
    assert target.read_bytes() == b"the previous export"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", ["OSError", "TensorFlow's error"])
def test_a_full_disk_during_a_saved_model_export_keeps_the_previous_folder(tmp_path, monkeypatch,
                                                                           capsys, failure):
    import tensorflow as tf

    target = output_path("softmax.mnist", "saved_model", tmp_path)
    target.mkdir()
    (target / "saved_model.pb").write_bytes(b"the previous export")

    def write_out(self, filepath, **kw):
        Path(filepath, "variables").mkdir(parents=True, exist_ok=True)
        if failure == "OSError":
            disk_full(Path(filepath) / "saved_model.pb")
        # TensorFlow's own file layer reports ENOSPC so
        raise tf.errors.ResourceExhaustedError(None, None, f"{filepath}/saved_model.pb; No "
                                               "space left on device")

    # ExportArchive() answers an instance of the backend's own class: that class is patched
    monkeypatch.setattr(type(keras.export.ExportArchive()), "write_out", write_out)
    assert zoo_cli(["export", "softmax.mnist", "--format", "saved_model",
                    "--out", str(tmp_path)]) == 2
    refused(capsys, target, FULL)
    assert contents(target) == {"saved_model.pb": b"the previous export"}
    assert leftovers(tmp_path) == []


def test_an_export_replaces_the_previous_one_only_once_it_is_whole(tmp_path):
    """The real writers on the temporary path: the ONNX file and the SavedModel folder take the
    target's place complete, card included; the old folder's files do not linger."""
    onnx_file = output_path("softmax.mnist", "onnx", tmp_path)
    onnx_file.write_bytes(b"the previous export")
    folder = output_path("softmax.mnist", "saved_model", tmp_path)
    folder.mkdir()
    (folder / "stale.txt").write_text("from the previous export")
    assert export("softmax.mnist", "onnx", tmp_path) == onnx_file
    assert export("softmax.mnist", "saved_model", tmp_path) == folder
    assert read_metadata(onnx_file)["name"] == read_metadata(folder)["name"] == "softmax.mnist"
    assert not (folder / "stale.txt").exists()
    assert leftovers(tmp_path) == []


def test_an_export_whose_target_is_a_directory_is_refused(tmp_path, capsys):
    target = output_path("softmax.mnist", "onnx", tmp_path)
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    assert zoo_cli(["export", "softmax.mnist", "--format", "onnx", "--out", str(tmp_path)]) == 2
    refused(capsys, target, "it is a directory")
    assert contents(target) == {"keep.txt": b"mine"}
    assert leftovers(tmp_path) == []


def test_a_full_disk_during_evaluate_keeps_the_previous_picture(tmp_path, monkeypatch, capsys):
    png = tmp_path / "softmax.mnist-confusion.png"
    png.write_bytes(b"the previous picture")
    monkeypatch.setattr(Figure, "savefig", lambda self, fname, **kw: disk_full(fname))
    assert zoo_cli(["evaluate", "softmax.mnist", "--out", str(tmp_path)]) == 2
    refused(capsys, png, FULL)
    assert png.read_bytes() == b"the previous picture"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("writer", ["a picture", "the page"])
def test_a_full_disk_during_explain_keeps_the_previous_page(tmp_path, monkeypatch, capsys,
                                                            writer):
    page = tmp_path / "conv3.mnist-7"
    page.mkdir()
    for name in ("input.png", "index.html"):
        (page / name).write_text(f"the previous {name}")
    if writer == "a picture":
        monkeypatch.setattr(Figure, "savefig", lambda self, fname, **kw: disk_full(fname))
    else:
        monkeypatch.setattr(Path, "write_text", disk_full_text)
    assert zoo_cli(["explain", "conv3.mnist", "7", "--out", str(tmp_path)]) == 2
    refused(capsys, page / ("input.png" if writer == "a picture" else "index.html"), FULL)
    assert (page / "index.html").read_text() == "the previous index.html"
    if writer == "a picture":
        assert (page / "input.png").read_text() == "the previous input.png"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("verb", WRITING_VERBS)
def test_an_out_that_is_a_file_is_a_message(tmp_path, capsys, verb):
    out = tmp_path / "results.txt"
    out.write_text("mine")
    assert zoo_cli(WRITING_VERBS[verb] + ["--out", str(out)]) == 2
    refused(capsys, out, "is a file, not a directory")
    assert out.read_text() == "mine"


@pytest.mark.parametrize("verb", WRITING_VERBS)
def test_an_out_that_cannot_be_written_is_a_message(unwritable, capsys, verb):
    out, cause = unwritable
    assert zoo_cli(WRITING_VERBS[verb] + ["--out", str(out)]) == 2
    refused(capsys, out, cause)
    if out.name == "readonly":
        assert contents(out) == {"keep.txt": b"mine"} and leftovers(out) == []


def test_a_full_disk_while_the_suite_writes_its_tables_keeps_the_previous_ones(
        mlflow_store, tmp_path, full_after_the_header, capsys):
    _finished_run(get_recipe("softmax"), 1, 0.9201)
    folder = tmp_path / "mlflow-results"  # where `report` writes a user's store's tables
    folder.mkdir()
    for name in ("mnist.csv", "mnist_seeds.csv", "mnist.md"):
        (folder / name).write_text(f"the previous {name}")
    before = contents(folder)
    assert suite_main(["report", "mnist"]) == 2
    err = refused(capsys, folder / "mnist_seeds.csv", FULL)  # the first file written
    assert "(--out)" not in err  # the suite's verbs write where the repository keeps results
    assert contents(folder) == before
    assert leftovers(folder) == []


def test_a_bench_table_is_written_whole_or_not_at_all(tmp_path, full_after_the_header):
    from reproductions.bench.common import write_csv

    path = tmp_path / "bench.csv"
    path.write_text("the previous table")
    with pytest.raises(WriteError, match=re.escape(f"cannot write {path}: {FULL}")):
        write_csv(path, ["variant", "img_per_s"], [{"variant": "zoo", "img_per_s": 1234.5}])
    assert path.read_text() == "the previous table"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("page", ["README.md", "MODELS.md"])
def test_a_full_disk_while_a_generated_page_is_written_keeps_it(tmp_path, monkeypatch, page):
    from reproductions.report import readme
    from reproductions.ship import models_md
    from zoo.weights import cards

    copy = tmp_path / page
    copy.write_text((REPO / page if page == "README.md" else models_md.MODELS_MD).read_text())
    before = copy.read_bytes()
    monkeypatch.setattr(models_md, "MODELS_MD", copy)
    monkeypatch.setattr(Path, "write_text", disk_full_text)
    with pytest.raises(WriteError, match=re.escape(f"cannot write {copy}: {FULL}")):
        if page == "README.md":
            readme.update(copy)
        else:
            models_md.write_models_md(list(cards().values()))
    assert copy.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    from reproductions.run.checkpoint import Checkpoints

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    checkpoints = Checkpoints(tmp_path)
    checkpoints.save(1, model, {"history": {}})
    before = contents(tmp_path)
    monkeypatch.setattr(keras.Model, "save", lambda self, filepath, **kw: disk_full(filepath))
    with pytest.raises(WriteError, match=re.escape(f"cannot write {tmp_path / 'epoch-2.keras'}: "
                                                   f"{FULL}")):
        checkpoints.save(2, model, {"history": {}})
    monkeypatch.undo()
    assert contents(tmp_path) == before and leftovers(tmp_path) == []
    assert checkpoints.latest()[0] == 1  # the run resumes from the last whole checkpoint


def test_a_full_disk_while_a_weight_is_shipped_keeps_the_previous_file(tmp_path, monkeypatch):
    from reproductions.ship import export_weights

    monkeypatch.setattr(export_weights, "WEIGHTS_DIR", tmp_path)
    target = tmp_path / "xo_lecture.lecture.keras"
    target.write_bytes(b"the shipped weight")
    monkeypatch.setattr(keras.Model, "save", lambda self, filepath, **kw: disk_full(filepath))
    with pytest.raises(WriteError, match=re.escape(f"cannot write {target}: {FULL}")):
        export_weights._xo_lecture_card(None, None, None)
    assert target.read_bytes() == b"the shipped weight"
    assert leftovers(tmp_path) == []


def test_a_folder_that_cannot_be_swapped_in_leaves_the_previous_one(tmp_path, monkeypatch):
    """A folder (a SavedModel) cannot replace a folder in one rename: the old one is moved
    away, the new one moved in; if that second rename fails, the old one goes back."""
    target = tmp_path / "softmax.mnist.saved_model"
    target.mkdir()
    (target / "saved_model.pb").write_text("the previous export")
    real, renames = os.replace, []

    def replace(source, destination):
        renames.append(source)
        if len(renames) == 2:  # the new folder onto the target
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(destination))
        return real(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(WriteError, match=re.escape(f"cannot write {target}: permission denied")):
        with atomic_path(target, folder=True) as temp:
            (temp / "saved_model.pb").write_text("the new export")
    monkeypatch.undo()
    assert contents(target) == {"saved_model.pb": b"the previous export"}
    assert leftovers(tmp_path) == []


@pytest.fixture()
def read_only_mount(tmp_path, monkeypatch):
    """A folder that behaves as a read-only mount: every write and unlink under it fails with
    EROFS (simulated: as root, a mode of 555 refuses nothing). A read-only mount refuses even
    the unlinking of a missing file (EROFS, not ENOENT)."""
    mount = tmp_path / "mount"
    mount.mkdir()
    real_open, real_unlink = os.open, Path.unlink

    def read_only(path):
        return Path(path).resolve().is_relative_to(mount.resolve())

    def erofs(path):
        return OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    def open_(path, flags, *args, **kwargs):
        if read_only(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise erofs(path)
        return real_open(path, flags, *args, **kwargs)

    def unlink(self, missing_ok=False):
        if read_only(self):
            raise erofs(self)
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(Path, "unlink", unlink)
    return mount


def test_a_read_only_file_system_is_a_message(read_only_mount, capsys):
    """The write is refused in one line, as a folder that refuses writes is, before the model
    loads, and the previous file stays."""
    mount = read_only_mount
    with open(mount / "softmax.mnist.onnx", "w") as f:  # builtins.open: not refused
        f.write("the previous export")
    assert zoo_cli(["export", "softmax.mnist", "--format", "onnx", "--out", str(mount)]) == 2
    refused(capsys, mount, "read-only file system")
    assert (mount / "softmax.mnist.onnx").read_text() == "the previous export"


def test_evaluate_refuses_an_unwritable_out_before_reading_the_test_set(read_only_mount, capsys,
                                                                        monkeypatch):
    """Its confusion matrix is written last: a folder that refuses writes is found first, not
    after the test set has been read and run through the net."""
    import zoo.data

    monkeypatch.setattr(zoo.data, "load", lambda *a, **k: pytest.fail("the test set was read"))
    assert zoo_cli(["evaluate", "softmax.mnist", "--out", str(read_only_mount / "plots")]) == 2
    refused(capsys, read_only_mount / "plots", "read-only file system")
