"""zoo export: every shipped model in every format, run by the format's own runtime, answers as
the Keras model does on its whole test set (MNIST: 10,000 digits; X/O: its generated test set;
FSDD: the 300 test recordings), an ensemble of 8 on its first 2,000 (ENSEMBLE_INPUTS says why).

Tolerance: the same class for every test input, and class probabilities within 1e-4 of Keras'
(the exports compute in float32 with other kernels and orders; what they reach, per weight and
runtime, is in reproductions/results/export_bench.csv, written by `make bench-export`).
Keras' answers are the shipped file's, loaded by Keras itself (safe mode), MNIST's test set
read from its IDX files: tests/shared.py, whose answers also recompute the cards in
test_results.py. Each export and each weight's answers are made once a test session, by the
first of `make test`'s processes that needs them; the others read them. Weights whose
files hold the same Keras config (the four conv7_bn weights, the two ensembles of 8 conv7_bn,
lenet5.mnist and lenet5.paper; _config_key) export through the same graph and differ only in
the numbers the exporter copies, so one of each such set stands for the others (`zoo predict`'s
default where it is one of them, else the first by name): each ensemble of 8 costs minutes here."""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import export as zoo_export
from zoo.cli import DEFAULT_WEIGHTS, main as zoo_main
from tests.shared import session_folder, write_once


def _config_key(config_json: bytes) -> str:
    """The sha256 of a .keras file's config with its `shared_object_id`s numbered 0, 1, ... in
    the order they first appear: Keras writes Python's id() of each shared object there, a
    number of the saving process, so two saves of one net differ in it and in nothing else.
    A Dropout's rate is left out too: at inference the layer passes its input on whatever its
    rate (conv7_bn with 0.4 and with 0.2 export the same graph)."""
    numbers = {}

    def renumbered(node):
        if isinstance(node, dict):
            if node.get("class_name") == "Dropout":
                node = {**node, "config": {**node["config"], "rate": None}}
            return {key: numbers.setdefault(value, len(numbers)) if key == "shared_object_id"
                    else renumbered(value) for key, value in node.items()}
        if isinstance(node, list):
            return [renumbered(value) for value in node]
        return node

    text = json.dumps(renumbered(json.loads(config_json)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _one_per_config(names: list[str]) -> list[str]:
    """One weight of each set whose .keras files hold the same config (_config_key): a default
    of `zoo predict` first, then by name."""
    defaults = {n for kind in DEFAULT_WEIGHTS.values() for n in kind}
    seen, kept = set(), []
    for name in sorted(names, key=lambda n: (n not in defaults, n)):
        info = zoo.weight_info(name)
        with zipfile.ZipFile(info.path) as archive:
            key = (info.dataset, _config_key(archive.read("config.json")))
        if key not in seen:
            seen.add(key)
            kept.append(name)
    return sorted(kept)


WEIGHTS = _one_per_config(zoo.list_weights())
PROB_ATOL = 1e-4


class Exports:
    """exported[weight, format]: the path `zoo export` returned, exported by one process of the
    session, into a folder they share."""

    def __init__(self, folder):
        self.folder = folder

    def __getitem__(self, key):
        name, fmt = key
        record = write_once(self.folder / f"{name}.{fmt}.path", lambda temp: temp.write_text(
            str(zoo_export.export(name, fmt, self.folder))))
        return Path(record.read_text())


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return Exports(session_folder(tmp_path_factory, "exports"))


# An ensemble of 8 reads each input 8 times in every runtime. Its graph is 8 copies of its
# member's (conv7_bn, checked here on all 10,000 digits) under Keras' Average, so its first
# 2,000 digits check what is its own; `make bench-export` runs it on all 10,000 (the
# test_inputs column of export_bench.csv, and the agreement columns beside it). Whichever
# ensemble stands for its config (`zoo predict`'s default first).
ENSEMBLE_INPUTS = 2000


def _inputs_checked(name: str) -> int | None:
    return ENSEMBLE_INPUTS if name.partition(".")[0].endswith("_ensemble") else None


@pytest.mark.parametrize("fmt", zoo_export.FORMATS)
@pytest.mark.parametrize("name", WEIGHTS)
def test_export_answers_as_keras_on_the_test_set(name, fmt, exported, keras_answers):
    x, _, expected = keras_answers(name)
    assert len(x) >= 300
    if first := _inputs_checked(name):
        x, expected = x[:first], expected[:first]
    got = zoo_export.runtime(exported[name, fmt])(x)
    assert got.shape == expected.shape
    differ = np.flatnonzero(got.argmax(axis=1) != expected.argmax(axis=1))
    assert differ.size == 0, f"{name} {fmt}: {differ.size} of {len(x)} classes differ"
    np.testing.assert_allclose(got, expected, atol=PROB_ATOL, rtol=0)


# after the parity tests, which make most of the exports it looks at
def test_every_weight_has_every_format(exported):
    assert len(WEIGHTS) >= 12
    for name in WEIGHTS:
        for fmt in zoo_export.FORMATS:
            path = exported[name, fmt]
            assert path.exists() and path.name.startswith(name), (name, fmt, path)


@pytest.mark.parametrize("fmt", zoo_export.FORMATS)
def test_batch_axis_is_free_and_input_is_raw_pixels(fmt, exported, keras_answers):
    name = "conv3_bn_small.mnist"
    x, _, expected = keras_answers(name)
    assert x.dtype == np.uint8
    run = zoo_export.runtime(exported[name, fmt])
    for n in (1, 7, 1000, 3):  # growing and shrinking batches through one runtime
        np.testing.assert_allclose(run(x[:n]), expected[:n], atol=PROB_ATOL, rtol=0)


@pytest.mark.parametrize("fmt", zoo_export.FORMATS)
@pytest.mark.parametrize("name", ["conv3_bn.mnist", "audio_conv.fsdd", "xo.generated"])
def test_the_card_travels_in_the_export_metadata(name, fmt, exported):
    card = zoo_export.read_metadata(exported[name, fmt])
    info = zoo.model_info(zoo.weight_info(name).arch)
    assert card["name"] == name and card["classes"] == list(info["classes"])
    assert card["weights_sha256"] == zoo.weight_info(name).sha256
    expected_input = {"conv3_bn.mnist": ("uint8", [-1, 28, 28]),
                      "audio_conv.fsdd": ("float32", [-1, 64, 61]),
                      "xo.generated": ("float32", [-1, 9, 9])}[name]
    assert (card["input"]["dtype"], card["input"]["shape"]) == expected_input


def test_onnx_names_its_batch_axis_and_keeps_the_classes(exported):
    import onnx

    proto = onnx.load(str(exported["conv3_bn.mnist", "onnx"]))
    [inp] = proto.graph.input
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [28, 28]
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["classes"]) == [str(d) for d in range(10)]


def test_zoo_export_command(tmp_path, capsys):
    assert zoo_main(["export", "xo_lecture.lecture", "--format", "onnx", "--out",
                     str(tmp_path)]) == 0
    assert "classes X O" in capsys.readouterr().out
    assert (tmp_path / "xo_lecture.lecture.onnx").is_file()


def test_zoo_export_refuses_bad_input_with_exit_2(tmp_path, capsys):
    assert zoo_main(["export", "conv3_bn.mnst", "--format", "onnx", "--out", str(tmp_path)]) == 2
    assert "no shipped weights named 'conv3_bn.mnst'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        zoo_main(["export", "conv3_bn.mnist", "--format", "tflite", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "invalid choice: 'tflite'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    with pytest.raises(zoo_export.ExportError, match="not a zoo export"):
        zoo_export.runtime(tmp_path / "model.pt")


def test_weights_share_an_export_only_where_their_configs_differ_in_object_ids_or_dropout():
    """_config_key: the four conv7_bn files differ as bytes (Keras' shared_object_id) but are one
    net; conv7_bn and its ensemble, or conv7_bn and conv3_bn, are not. Dropout rates aside."""
    def config(name):
        with zipfile.ZipFile(zoo.weight_info(name).path) as archive:
            return archive.read("config.json")

    a, b = config("conv7_bn.mnist"), config("conv7_bn.swa")
    assert a != b and b"shared_object_id" in a
    assert _config_key(a) == _config_key(b)
    assert _config_key(a) != _config_key(config("conv7_bn_ensemble.mnist"))
    assert _config_key(a) != _config_key(config("conv3_bn.mnist"))
    # a Dropout's rate is no part of the exported graph; another layer's setting is
    def layer(class_name, **config):
        return json.dumps({"class_name": class_name, "config": config}).encode()

    assert _config_key(layer("Dropout", rate=0.4)) == _config_key(layer("Dropout", rate=0.2))
    assert _config_key(layer("Dropout", rate=0.4)) != _config_key(layer("Dense", rate=0.4))
    assert _config_key(layer("Dense", units=10)) != _config_key(layer("Dense", units=20))
    # the numbering keeps which objects are shared: one id used twice is not two ids
    one = json.dumps({"x": {"shared_object_id": 7}, "y": {"shared_object_id": 7}}).encode()
    two = json.dumps({"x": {"shared_object_id": 7}, "y": {"shared_object_id": 8}}).encode()
    assert _config_key(one) != _config_key(two)
