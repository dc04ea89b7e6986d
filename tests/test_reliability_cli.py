"""Issue 17, items 7, 9 and 12 at the `zoo` command: messages and exit code 2 instead of
tracebacks, notes for converted recordings, and no TensorFlow chatter."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from tests.test_reliability_pictures import _png_header_only
from zoo.cli import main as zoo_cli
from zoo.data.fsdd import _folder

REPO = Path(__file__).resolve().parents[1]
# what TensorFlow 2.21 prints on start-up (checked absent below)
CHATTER = ("absl::InitializeLog", "oneDNN custom operations", "cudart_stub", "cuInit",
           "cpu_feature_guard", "rebuild TensorFlow")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    import zoo.data

    (_, _), (x_test, _) = zoo.data.load_mnist()
    Image.fromarray(x_test[0]).save(folder / "digit.png")
    clip = folder / "clip.wav"
    clip.write_bytes((_folder(None) / "4_nicolas_17.wav").read_bytes())
    _png_header_only(folder / "huge.png", 14000, 14000)
    return folder


def test_a_recording_given_to_a_picture_net_is_refused(files, capsys):
    assert zoo_cli(["predict", str(files / "clip.wav"), "--model", "conv3_bn.mnist"]) == 2
    err = capsys.readouterr().err
    assert f"{files / 'clip.wav'} is a WAV recording, but conv3_bn.mnist takes pictures; leave " \
        "--model out (recordings go to audio_conv.fsdd)" in err


def test_a_picture_given_to_the_xo_net_is_refused(files, capsys):
    assert zoo_cli(["predict", str(files / "digit.png"), "--model", "xo.generated"]) == 2
    assert "xo.generated takes 9x9 images" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["explain", "conv3_bn.mnist", "-1"], "-1: not a test index (they start at 0) nor a file"),
    (["explain", "nosuch", "7"], "unknown model 'nosuch'"),
    (["explain", "conv3_bn.mnist", "{files}/clip.wav"], "clip.wav is a WAV recording, but this "
                                                        "model takes pictures of digits"),
    (["predict", "{files}/huge.png"], "huge.png: not a readable image: too large to read safely"),
    (["predict", "{files}/missing.wav"], "missing.wav: no such file (give a picture of a digit or "
                                         "a WAV recording; check the path)"),
    (["predict", "{files}/digit.png", "--model", "smiles_cnn.freesolv"],
     "digit.png is a file, but smiles_cnn.freesolv reads a molecule as a SMILES string"),
    # a name of a molecule net is answered with the molecule weights, whatever the verb
    (["predict", "CCO", "--model", "smiles_cnn.nosuch"], "unknown molecule weight "
     "'smiles_cnn.nosuch'. Did you mean smiles_cnn.solubility"),
    (["info", "smiles_cnn.nosuch"], "Shipped molecule weights: chemception.freesolv"),
    (["evaluate", "smiles_cnn.nosuch"], "unknown molecule weight 'smiles_cnn.nosuch'"),
    (["explain", "smiles_cnn.nosuch", "CCO"], "unknown molecule weight 'smiles_cnn.nosuch'"),
    (["info", "smiles_cnn"], "smiles_cnn is a molecule net; name one of its weights: "
     "smiles_cnn.freesolv, smiles_cnn.solubility, smiles_cnn.solubility_class"),
    (["predict", "CCO", "--model", "chemception"], "chemception is a molecule net"),
])
def test_bad_inputs_are_messages_with_exit_code_2(files, capsys, args, message, tmp_path):
    args = [a.format(files=files) for a in args] + (["--out", str(tmp_path)]
                                                     if args[0] == "explain" else [])
    assert zoo_cli(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("verb", [["export", "softmax.mnist", "--format", "onnx"],
                                  ["evaluate", "softmax.mnist"], ["explain", "softmax.mnist", "7"]])
def test_an_empty_out_is_refused_not_the_current_folder(capsys, verb):
    with pytest.raises(SystemExit) as exit_:  # `--out "$DIR"` with DIR unset wrote into "."
        zoo_cli([*verb, "--out", ""])
    assert exit_.value.code == 2
    assert "argument --out: an empty folder name" in capsys.readouterr().err


@pytest.mark.parametrize("top", ["0", "-1", "two"])
def test_top_below_one_is_refused_by_the_parser(files, capsys, top):
    with pytest.raises(SystemExit) as exit_:
        zoo_cli(["predict", str(files / "digit.png"), "--top", top])
    assert exit_.value.code == 2
    assert f"argument --top: '{top}': show at least 1 class" in capsys.readouterr().err


def test_a_converted_recording_gets_a_note(files, capsys, tmp_path):
    rate, samples = wavfile.read(files / "clip.wav")
    stereo = tmp_path / "stereo.wav"
    wavfile.write(stereo, rate, np.stack([samples, samples], axis=1))
    assert zoo_cli(["predict", str(stereo)]) == 0
    out, err = capsys.readouterr()
    assert f"note: {stereo}: 2 channels averaged into one (mono)" in err
    assert out.startswith(f"{stereo}: 4 (")


def test_the_answer_comes_without_tensorflow_chatter(files):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "zoo.cli", "predict", str(files / "digit.png")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0
    assert done.stdout.startswith(f"{files / 'digit.png'}: 7 (")
    assert not [c for c in CHATTER if c in done.stderr], done.stderr
    # whoever sets TF_CPP_MIN_LOG_LEVEL asks for TensorFlow's log, and gets it (--keras: a
    # picture otherwise goes through ONNX Runtime, and TensorFlow is never imported)
    done = subprocess.run([sys.executable, "-m", "zoo.cli", "predict", str(files / "digit.png"),
                           "--keras"],
                          cwd=REPO, env={**env, "TF_CPP_MIN_LOG_LEVEL": "0"},
                          capture_output=True, text=True, timeout=300)
    assert "oneDNN custom operations" in done.stderr or "cuInit" in done.stderr


@pytest.mark.parametrize("argv", [["list"], ["info", "conv3_bn"], ["info", "conv3_bn.mnist"],
                                  ["--help"]])
def test_static_answers_import_neither_tensorflow_nor_keras(argv):
    code = ("import sys\nfrom zoo.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n"
            "    pass\nprint('LOADED', sorted(m for m in ('keras', 'tensorflow') "
            "if m in sys.modules))" % argv)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("LOADED []")


# ---- issue 25, item 7: `zoo predict` checks its inputs first and answers without TensorFlow ----

def _imports_after(argv, env=None):
    """(exit code, stdout, stderr, which of keras/tensorflow the call imported), in a fresh
    interpreter as a user's shell would run it."""
    code = ("import sys\nfrom zoo.cli import main\nrc = main(%r)\n"
            "print('LOADED', sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))\n"
            "sys.exit(rc)" % argv)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=env)
    *out, loaded = done.stdout.strip().splitlines()
    return done.returncode, "\n".join(out), done.stderr, loaded


def test_a_bad_picture_is_refused_before_tensorflow_is_imported(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    code, _, err, loaded = _imports_after(["predict", str(bad)])
    assert code == 2 and f"{bad}: not a readable image" in err
    assert loaded == "LOADED []"


def test_pictures_are_answered_from_a_cached_onnx_export_as_keras_answers(files, tmp_path):
    env = {**os.environ, "ZOO_CACHE_DIR": str(tmp_path / "cache")}
    argv = ["predict", str(files / "digit.png"), "--model", "conv3_bn.mnist", "--top", "10"]
    code, first, err, _ = _imports_after(argv, env)
    assert code == 0 and "note: conv3_bn.mnist has no usable ONNX export" in err
    code, warm, err, loaded = _imports_after(argv, env)
    assert code == 0 and loaded == "LOADED []" and "no usable" not in err  # the cache answered
    code, by_keras, _, loaded = _imports_after(argv + ["--keras"], env)
    assert code == 0 and loaded == "LOADED ['keras', 'tensorflow']"
    assert warm == first == by_keras  # every class's probability, to 3 decimals
    assert warm.startswith(f"{files / 'digit.png'}: 7 (")


def test_a_damaged_cached_export_is_built_again(files, tmp_path):
    env = {**os.environ, "ZOO_CACHE_DIR": str(tmp_path / "cache")}
    argv = ["predict", str(files / "digit.png"), "--model", "conv3.mnist"]
    assert _imports_after(argv, env)[0] == 0
    [cached] = (tmp_path / "cache" / "onnx").glob("conv3.mnist-*.onnx")
    raw = bytearray(cached.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte in the weights
    cached.write_bytes(bytes(raw))
    code, out, err, _ = _imports_after(argv, env)
    assert code == 0 and "note: conv3.mnist has no usable ONNX export" in err  # rebuilt, not trusted
    assert out.startswith(f"{files / 'digit.png'}: 7 (")
    assert _imports_after(argv, env)[3] == "LOADED []"


def test_output_into_a_closed_pipe_ends_without_a_traceback():
    """`zoo list | head -1`: the reader is gone before the command writes its lines (here for
    certain: the pipe's reading end is closed first, so every write meets a closed pipe)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "zoo.cli", "list"], cwd=REPO, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 1  # the output did not all arrive: not a success


def test_a_cache_that_cannot_be_written_still_gets_an_answer(files, capsys, tmp_path, monkeypatch):
    """ZOO_CACHE_DIR below a file (ENOTDIR for anyone, root included): the export cannot be kept,
    so the answer comes from Keras, with a note saying why and what to set."""
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    monkeypatch.setenv("ZOO_CACHE_DIR", str(blocker / "cache"))
    assert zoo_cli(["predict", str(files / "digit.png"), "--model", "conv3_bn.mnist"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{files / 'digit.png'}: 7 (")
    assert f"note: cannot keep the export in {blocker / 'cache'} (Not a directory): answering " \
        "with Keras this time; set ZOO_CACHE_DIR to a folder you can write" in err
    assert "Traceback" not in err and blocker.read_text() == "mine"


def test_a_file_name_that_is_not_utf8_is_answered_and_printed(files, tmp_path):
    """Linux names are bytes: a picture named b"bad\\xff.png" is read, and its name printed with
    the odd byte escaped, even where the output must be strict UTF-8 (PYTHONIOENCODING)."""
    name = os.fsdecode(bytes(tmp_path) + b"/bad\xff.png")
    Path(name).write_bytes((files / "digit.png").read_bytes())
    done = subprocess.run([sys.executable, "-m", "zoo.cli", "predict", name], cwd=REPO,
                          capture_output=True, timeout=300,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    out = done.stdout.decode()
    assert done.returncode == 0 and "Traceback" not in done.stderr.decode(), done.stderr
    assert out.startswith(f"{tmp_path}/bad\\udcff.png: 7 ("), out


def test_the_readmes_digit_is_mnists_first_test_image_drawn_dark_on_light(files):
    """README: docs/digit.png is MNIST's first test image (a 7), dark on light, four times
    larger (each pixel a 4x4 block)."""
    import zoo.data

    (_, _), (x_test, y_test) = zoo.data.load_mnist()
    picture = np.asarray(Image.open(REPO / "docs" / "digit.png").convert("L"))
    assert y_test[0] == 7 and picture.shape == (112, 112)
    np.testing.assert_array_equal(picture, np.kron(255 - x_test[0], np.ones((4, 4), np.uint8)))
