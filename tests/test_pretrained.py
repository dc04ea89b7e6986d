"""Shipped weights: verified files, exact recorded accuracy, safe loading, the registry, and the
`zoo` command on real digits saved as pictures."""

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
from PIL import Image

import zoo
import zoo.weights as weights
from zoo.cli import main as zoo_cli
from zoo.data.idx import sha256_of

SHIPPED = zoo.list_weights()
MNIST_MODELS = [n for n in zoo.list_models() if zoo.model_info(n)["input_kind"] == "mnist"]


def test_every_mnist_model_has_shipped_weights():
    assert MNIST_MODELS and {f"{m}.mnist" for m in MNIST_MODELS} <= set(SHIPPED)
    assert {"xo.generated", "xo_lecture.lecture", "audio_conv.fsdd", "lenet5.paper"} <= \
        set(SHIPPED)


def test_manifest_has_the_card_keys():
    keys = {"name", "file", "sha256", "size", "params", "test_accuracy", "recipe", "recipe_mean",
            "recipe_std", "command", "seed", "data_sha256", "keras_version",
            "tensorflow_version", "license"}
    for name in SHIPPED:
        assert keys <= set(zoo.weight_info(name).to_manifest())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weight(name, request):
    card = zoo.weight_info(name)
    path = weights.WEIGHTS_DIR / card.file
    assert sha256_of(path) == card.sha256 and path.stat().st_size == card.size
    model = zoo.load(name)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == card.params
    assert model.output.shape[-1] == len(card.classes)
    if card.dataset == "mnist":
        return  # its accuracy: test_results.py's independent reader (Keras, numpy, the IDX files)
    data = {"fsdd": "fsdd"}.get(card.dataset)
    (_, _), (x_test, y_test) = (request.getfixturevalue(data) if data
                                else zoo.data.load(card.dataset))
    assert weights.accuracy(model, x_test, y_test) == card.test_accuracy


# Recipes whose reproduction falls short of the published figure: the shipped file does too.
# Each is explained in reproductions/results/*.md and the README; strict, so that a file that
# starts meeting its target makes this list shrink.
KNOWN_SHORT = {
    "softmax.mnist": "Görner's 0.9268 is the max over training (picked on the test set); the "
                     "final accuracy, ours, is lower (mnist.md: short)",
    "mlp5.mnist": "Görner's 0.9824 is a max over training; our recipe is within noise of it, "
                  "this seed below it",
    "conv3.mnist": "Görner's 0.989 is a max over training; our recipe is within noise of it, "
                   "this seed below it",
    "conv3.tuned": "the blind search's winner is no better than conv3 on the test set (within "
                   "noise of 0.989, this seed below it; docs/searches.md)",
    "conv3_dropout.mnist": "the range 0.9928-0.9935 is of maxima over training; our final "
                           "accuracy is lower (mnist.md: short)",
    "lenet5_rbf.mnist": "LeNet-5 trained as the paper says (SDLM, RBF output) is still short of "
                        "0.95% error (mnist.md: short; its gaps table says what differs)",
    "lenet5.mnist": "the faithful LeNet-5 overfits under the modern Adam recipe (training "
                    "accuracy 100%); see lenet5.paper",
    "lenet5.paper": "the paper's SGD schedule without its SDLM step sizes, per-image updates and "
                    "RBF output: 0.08 points short over 3 seeds (mnist.md)",
    "conv7_bn.mnist": "issue 14's 99.65%: Deotte's schedule cut to 800,000 images is "
                      "undertrained (validation still rising at the end); see conv7_bn.cosine",
    "conv7_bn.dropout20_refit": "its recipe clears 99.65% over its 8 seeds (docs/record.md), but "
                                "the seed that ships, its first, fixed before training, is its "
                                "lowest",
}


def _has_a_bar(name):
    """A target above chance; xo_lecture's old card carries 0.5 (chance for X/O), which is no
    bar at all (make zoo-weights now writes none for it)."""
    card = zoo.weight_info(name)
    return card.target_acc is not None and card.target_acc > 1 / len(card.classes)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_SHORT[n]))
    if n in KNOWN_SHORT else n for n in SHIPPED if _has_a_bar(n)])
def test_shipped_weight_meets_its_target(name):
    card = zoo.weight_info(name)
    assert card.test_accuracy >= card.target_acc, (
        f"{name}: {card.test_accuracy} is below its recipe's target {card.target_acc}")


def test_create_model_pretrained_is_the_shipped_file(mnist_batch):
    x, _ = mnist_batch
    name = zoo.WeightName.parse("conv3.mnist")
    np.testing.assert_array_equal(zoo.create_model(name.arch, pretrained=True)
                                  .predict(x, verbose=0), zoo.load(str(name)).predict(x, verbose=0))


def test_one_changed_byte_is_refused_before_loading(tmp_path, monkeypatch):
    card = zoo.weight_info(SHIPPED[0])
    copy = tmp_path / card.file
    shutil.copy(card.path, copy)
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    copy.write_bytes(bytes(raw))
    calls = []
    real_read, real_load = weights.read_verified, keras.saving.load_model
    # the size and hash check of load_file, patched in the module where load_file looks it up
    monkeypatch.setattr(weights.loading, "read_verified",
                        lambda *a: (calls.append("hash"), real_read(*a))[1])
    monkeypatch.setattr(keras.saving, "load_model",
                        lambda *a, **k: (calls.append("load"), real_load(*a, **k))[1])
    with pytest.raises(zoo.WeightsError, match=rf"SHA256 mismatch, expected {card.sha256}, "
                                               r"got [0-9a-f]{64}.*not loaded"):
        weights.load_file(copy, card.sha256)
    assert calls == ["hash"]  # refused by the hash; Keras never opened the file
    # the intact file: hash first, then load
    calls.clear()
    weights.load_file(card.path, card.sha256)
    assert calls == ["hash", "load"]


def test_a_lambda_layer_is_refused(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(zoo.WeightsError, match="Lambda layer"):
        weights.load_file(path, sha256_of(path))


def test_unknown_weight_name_lists_close_matches():
    with pytest.raises(zoo.WeightsError, match=r"no shipped weights named 'conv3.mnst'.*Did you"):
        zoo.load("conv3.mnst")
    # a model with no weight of that tag is named as given; a file gets told what --model takes
    with pytest.raises(zoo.WeightsError, match=r"no shipped weights named 'nope'\. Did you"):
        zoo.load("nope")
    with pytest.raises(zoo.WeightsError, match=r"named './mine\.keras' \(a shipped weight's "
                                               r"name, not a file"):
        zoo.load("./mine.keras")


def _folder(path):
    """A new folder for MLflow to copy a model into (its dst_path must exist); under the test's
    tmp_path, where MLflow's own temporary copies would stay behind."""
    path.mkdir()
    return path


def test_register_and_load_through_the_registry(mlflow_store, mnist_batch, tmp_path):
    from tracking.register import register

    name = "softmax.mnist"
    [uri] = register([name])
    assert uri == "models:/softmax@mnist"
    x, _ = mnist_batch
    loaded = mlflow.keras.load_model(uri, dst_path=_folder(tmp_path / "loaded"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), zoo.load(name).predict(x, verbose=0),
                               atol=1e-6)
    assert register([name]) == [uri]  # the same file is not registered twice
    versions = mlflow.MlflowClient().search_model_versions("name = 'softmax'")
    assert len(versions) == 1 and versions[0].tags["sha256"] == zoo.weight_info(name).sha256
    # a signature (pixels in, as requests send them: float32 holding whole numbers 0-255 unless
    # params.pixel_range says otherwise; 10 probabilities out) and real test digits as example
    local = mlflow.artifacts.download_artifacts(uri, dst_path=_folder(tmp_path / "logged"))
    logged = mlflow.models.Model.load(local)
    [spec] = logged.signature.inputs.inputs
    assert (spec.type, spec.shape) == (np.dtype("float32"), (-1, 28, 28))
    assert [(p.name, p.default) for p in logged.signature.params.params] == \
        [("pixel_range", "uint8")]
    assert logged.signature.outputs.inputs[0].shape == (-1, 10)
    np.testing.assert_array_equal(logged.load_input_example(local), x[:2])
    # served (pyfunc), the model checks its input against the signature: float32 arrays, as
    # a request's JSON arrives (uint8 arrays are MLflow's dtype error: say float32)
    served = mlflow.pyfunc.load_model(uri, dst_path=_folder(tmp_path / "served"))
    # answered by ONNX Runtime from the weight's export: TensorFlow's last bits differ (1e-6)
    np.testing.assert_allclose(served.predict(x.astype("float32")), loaded.predict(x, verbose=0),
                               atol=1e-5)
    with pytest.raises(mlflow.exceptions.MlflowException, match="does not match expected shape"):
        served.predict(x[:, :20].astype("float32"))
    with pytest.raises(mlflow.exceptions.MlflowException, match="pixels must be whole numbers"):
        served.predict(x.astype("float32") / 255)  # floats in 0-1 without pixel_range


def test_registered_models_with_the_zoos_own_layers_load_as_pyfunc(mlflow_store):
    """lenet5 holds zoo.layers classes: the pyfunc loader (tracking.pyfunc) imports zoo first,
    checked in a fresh process that never imported zoo itself."""
    from tracking.register import register

    [uri] = register(["lenet5.mnist"])
    code = ("import sys, mlflow, numpy as np; m = mlflow.pyfunc.load_model(sys.argv[1]); "
            "print(m.predict(np.zeros((3, 28, 28), np.float32)).shape)")
    out = subprocess.run([sys.executable, "-c", code, uri], capture_output=True, text=True,
                         timeout=300, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("(3, 10)")


def test_a_version_registered_without_signature_is_registered_again(mlflow_store):
    """Stores registered before the zoo logged signatures get a version that has one."""
    from tracking.register import register

    name = "xo_lecture.lecture"
    card = zoo.weight_info(name)
    with mlflow.start_run():
        info = mlflow.keras.log_model(zoo.load(name), name="old",
                                      registered_model_name="xo_lecture")
    client = mlflow.MlflowClient()
    client.set_model_version_tag("xo_lecture", info.registered_model_version, "sha256",
                                 card.sha256)
    assert register([name]) == ["models:/xo_lecture@lecture"]
    latest = mlflow.models.get_model_info("models:/xo_lecture@lecture")
    [spec] = latest.signature.inputs.inputs
    assert (spec.type, spec.shape) == (np.dtype("float32"), (-1, 9, 9))
    assert len(client.search_model_versions("name = 'xo_lecture'")) == 2


@pytest.mark.parametrize("name", zoo.list_weights())
def test_every_weight_has_its_own_signature(name):
    from tracking.signatures import signature

    arch = zoo.weight_info(name).arch
    model = zoo.load(name)
    [spec] = signature(arch, model).inputs.inputs
    expected = {"mnist": ("float32", (-1, 28, 28)), "xo": ("float32", (-1, 9, 9)),
                "fsdd": ("float32", (-1, 64, 61))}[zoo.weight_info(name).dataset]
    assert (str(spec.type), spec.shape) == expected
    classes = zoo.model_info(arch)["classes"]
    assert signature(arch, model).outputs.inputs[0].shape == (-1, len(classes))


@pytest.fixture()
def digit_pictures(tmp_path, mnist):
    """The first five test digits (7 2 1 0 4) as pictures the way users have them."""
    (_, _), (x_test, y_test) = mnist
    paths, labels = [], []
    for i in range(5):
        digit = x_test[i]
        light = Image.fromarray(digit)                                   # MNIST polarity
        dark_on_white = Image.fromarray(255 - digit).resize((112, 112))  # paper, bigger
        canvas = Image.new("RGB", (90, 60), (250, 245, 235))             # colour, off-centre
        canvas.paste(Image.fromarray(255 - digit).convert("RGB").resize((42, 42)), (40, 10))
        for kind, image in (("light", light), ("paper", dark_on_white), ("rgb", canvas)):
            path = tmp_path / f"{i}-{kind}.{'jpg' if kind == 'rgb' else 'png'}"
            image.save(path)
            paths.append(path)
            labels.append(int(y_test[i]))
    return paths, labels


def test_zoo_predict_reads_real_pictures(digit_pictures, capsys, tmp_path):
    paths, labels = digit_pictures
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("not a picture")
    code = zoo_cli(["predict", str(paths[0]), str(not_an_image), *map(str, paths[1:]),
                    "--model", "conv3_bn.mnist"])
    out, err = capsys.readouterr()
    assert code == 2  # one file was a bad input; the others were still classified
    assert f"{not_an_image}: not a readable image" in err
    lines = out.strip().splitlines()
    assert len(lines) == len(paths)
    assert len(paths) == len(labels) > 0
    for line, path, label in zip(lines, paths, labels, strict=True):
        assert line.startswith(f"{path}: {label} ("), line


def test_zoo_predict_hears_real_test_recordings(capsys):
    from zoo.data.fsdd import _folder

    folder = _folder(None)
    names = [f"{d}_{s}_{i}.wav" for d, s, i in ((3, "theo", 0), (7, "george", 2),
                                                  (0, "lucas", 4), (9, "yweweler", 1))]
    assert zoo_cli(["predict", *(str(folder / n) for n in names)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(names)
    for line, name in zip(lines, names, strict=True):
        assert line.startswith(f"{folder / name}: {name[0]} ("), line


@pytest.mark.parametrize("name", ["audio_conv.fsdd", "conv3_bn.mnist", "xo.generated"])
def test_zoo_evaluate_writes_a_confusion_matrix_and_lists_every_error(name, tmp_path, capsys):
    import csv

    assert zoo_cli(["evaluate", name, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    card = zoo.weight_info(name)
    assert f"test accuracy {100 * card.test_accuracy:.2f}%" in out
    assert "class 9:" in out or "class O:" in out
    assert (tmp_path / f"{name}-confusion.png").stat().st_size > 1000
    # as many rows as the card's accuracy leaves wrong on the test set
    (_, _), (_, y_test) = zoo.data.load(card.dataset)
    with open(tmp_path / f"{name}-errors.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == round((1 - card.test_accuracy) * len(y_test)) > 0
    indices = [int(r["test_index"]) for r in rows]
    assert indices == sorted(set(indices)) and 0 <= indices[0] and indices[-1] < len(y_test)
    for r in rows:
        assert r["true"] == card.classes[y_test[int(r["test_index"])]] != r["predicted"]
        assert float(r["p_predicted"]) >= float(r["p_true"])
    assert f"the {len(rows)} test examples it gets wrong" in out
    drawn = tmp_path / f"{name}-errors.png"  # pictures only: a recording's errors are listed
    assert drawn.stat().st_size > 1000 if card.input_kind != "audio" else not drawn.exists()


def test_weight_names_follow_the_recipes():
    from reproductions.ship.export_weights import weight_name
    from reproductions.recipes import RECIPES

    assert str(weight_name(RECIPES["conv3_bn"])) == "conv3_bn.mnist"
    assert str(weight_name(RECIPES["conv3_bn_fast"])) == "conv3_bn_small.mnist"  # model's only one
    assert str(weight_name(RECIPES["conv3_tuned"])) == "conv3.tuned"
    assert str(weight_name(RECIPES["xo"])) == "xo.generated"
    # an ensemble's card names its members' recipe; its own name is "<net>_ensemble.<tag>"
    ensembles = {n for n in SHIPPED if weights.WeightName.parse(n).arch.endswith("_ensemble")}
    assert {str(weight_name(RECIPES[c.recipe])) for c in weights.cards().values()
            if c.recipe in RECIPES and str(c.name) not in ensembles} == \
        {n for n in SHIPPED if n != "xo_lecture.lecture"} - ensembles


def test_weight_names_have_one_parser():
    name = zoo.WeightName.parse("conv3_bn.mnist")
    assert (name.arch, name.tag, str(name)) == ("conv3_bn", "mnist", "conv3_bn.mnist")
    for bad in ("conv3_bn", "conv3.bn.mnist", ".mnist", "Conv3.mnist", "conv3 .mnist"):
        with pytest.raises(zoo.WeightsError, match="is not a weight name"):
            zoo.WeightName.parse(bad)
    assert zoo.WeightName.is_weight_name("xo.generated")
    assert not zoo.WeightName.is_weight_name("xo")


def test_a_name_means_one_weight_wherever_it_is_read(capsys):
    # zoo explain, the explainer page and its server all read a name through shipped_name
    from zoo.explain import resolve_model
    from zoo.explain_ui.app import serve
    from zoo.explain_ui import Lab

    assert weights.shipped_name("lenet5") == "lenet5.mnist"
    assert weights.shipped_name("audio_conv") == "audio_conv.fsdd"  # its only weight
    assert weights.shipped_name("conv3.tuned") == "conv3.tuned"
    for left_to_the_caller in ("conv3_bn.nosuch", "nosuch", "../conv3_bn.keras", ""):
        assert weights.shipped_name(left_to_the_caller) == left_to_the_caller
    assert resolve_model("audio_conv").label == "audio_conv.fsdd"
    assert Lab().explain("lenet5", {"kind": "mnist", "value": 0})["model"] == "lenet5.mnist"
    with pytest.raises(zoo.WeightsError, match="no shipped weights named 'nosuch'"):
        zoo.weight_info("nosuch")  # named as typed, not as "nosuch.mnist"
    assert serve(model="nosuch") == 2  # refused before any server starts
    assert "unknown model 'nosuch'" in capsys.readouterr().err


def test_cards_are_the_manifest_typed_and_unchanged():
    import json

    entries = json.loads(weights.MANIFEST.read_text())
    assert [c.to_manifest() for c in weights.cards().values()] == entries
    card = zoo.weight_info("audio_conv")  # a bare model name: its default (only) weight
    assert str(card.name) == "audio_conv.fsdd" and card.input_kind == "audio"
    assert card.preprocessing == "zoo.data.fsdd:spectrogram_of_file"
    assert zoo.weight_info("xo.generated").classes == ("X", "O")
    assert zoo.weight_info("conv3_bn").license.startswith("MNIST: CC BY-SA 3.0")
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.sha256 = "0" * 64


def test_a_manifest_entry_with_an_unknown_key_is_refused():
    entry = weights.cards()["conv3.mnist"].to_manifest() | {"acuracy": 0.99}
    with pytest.raises(zoo.WeightsError, match=r"'conv3.mnist' has unknown keys: acuracy"):
        weights.WeightCard.from_manifest(entry)


def test_models_md_is_written_from_the_cards(tmp_path, monkeypatch):
    from reproductions.ship import models_md

    monkeypatch.setattr(models_md, "MODELS_MD", tmp_path / "MODELS.md")
    models_md.write_models_md(list(weights.cards().values()))
    assert (tmp_path / "MODELS.md").read_text() == \
        (weights.WEIGHTS_DIR.parent / "MODELS.md").read_text()


def test_predict_takes_its_preprocessing_from_the_card(digit_pictures, capsys):
    paths, _ = digit_pictures
    # a picture given to the audio net is refused as the wrong kind of input (the card's kind
    # against what the file holds, whatever its name), saying which weight would take it
    assert zoo_cli(["predict", str(paths[0]), "--model", "audio_conv.fsdd"]) == 2
    assert "is a picture, but audio_conv.fsdd takes recordings; leave --model out (pictures " \
        "go to conv7_bn_ensemble.mnist)" in capsys.readouterr().err


def test_zoo_info_shows_a_card_and_a_model(capsys):
    assert zoo_cli(["info", "conv3.tuned"]) == 0
    out = capsys.readouterr().out
    assert "recipe              conv3_tuned" in out and "input_kind" in out
    assert zoo_cli(["info", "lenet5"]) == 0
    assert "weights      lenet5.mnist" in capsys.readouterr().out
    assert zoo_cli(["info", "lenet6"]) == 2
    assert "unknown model 'lenet6'" in capsys.readouterr().err


def test_every_trained_card_ships_its_recipes_first_declared_seed():
    """Fixed before training, never chosen by a test figure (issue 24): the seed and the words."""
    from reproductions.recipes import ENSEMBLES, RECIPES

    for card in weights.cards().values():
        if card.recipe not in RECIPES:
            continue  # built, not trained (xo_lecture)
        if card.seed is None:  # an ensemble: its declared members
            assert f"seeds {', '.join(map(str, ENSEMBLES[card.recipe]))}," in card.chosen
            continue
        assert card.seed == RECIPES[card.recipe].seeds[0], card.name
        assert "first reported seed, fixed before training" in card.chosen, card.name


def test_zoo_list_shows_no_spread_where_there_is_none(capsys):
    """An ensemble is one model, xo_lecture was built, not trained: no made-up "± 0.00"."""
    assert zoo_cli(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}
    assert "one model of 8 members" in lines["conv7_bn_ensemble.mnist"]
    assert "no recipe: built, not trained" in lines["xo_lecture.lecture"]
    assert "±" not in lines["conv7_bn_ensemble.mnist"] + lines["xo_lecture.lecture"]
    assert "over 5 seeds" in lines["conv3.mnist"]
    # zoo info likewise: an ensemble's members, not a recipe mean and a std of 0 over 8 "seeds"
    assert zoo_cli(["info", "conv7_bn_ensemble.mnist"]) == 0
    keys = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()}
    assert keys["members"] == "8" and not {"recipe_mean", "recipe_std", "recipe_seeds"} & set(keys)
    assert zoo_cli(["info", "conv3.mnist"]) == 0
    assert "recipe_std" in capsys.readouterr().out


def test_every_single_net_card_carries_its_recipes_committed_figure():
    """A card's recipe figure (mean, spread, seed count) is the committed table's, over the
    recipe's declared seeds, for every card of the recipe's current version: a card shipped
    before its recipe's seeds were declared must not keep a figure the tables no longer show."""
    import csv

    from reproductions.recipes import RECIPES

    for family in ("mnist", "fsdd", "xo"):
        path = Path(__file__).resolve().parents[1] / "reproductions" / "results" / f"{family}.csv"
        table = {r["recipe"]: r for r in csv.DictReader(open(path, newline=""))}
        for card in zoo.weights.cards().values():
            if card.dataset != family or card.name.arch.endswith("_ensemble") or \
                    card.recipe not in table or card.recipe_hash != RECIPES[card.recipe].hash():
                continue
            row = table[card.recipe]
            assert card.recipe_seeds == int(row["n_seeds"]), card.name
            # the card holds the figure whole, the CSV rounded to its last printed decimal
            for held, printed in ((card.recipe_mean, row["mean_test_acc"]),
                                  (card.recipe_std, row["std_test_acc"])):
                half_unit = 0.5 * 10 ** -len(printed.partition(".")[2])
                assert abs(held - float(printed)) <= half_unit + 1e-12, (card.name, printed)


def test_python_dash_m_zoo_is_the_zoo_command():
    """`python -m zoo`, as `python -m reproductions` is the suite's: the same command as `zoo`."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "zoo", "list"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "conv7_bn_ensemble.mnist" in done.stdout
    done = subprocess.run([sys.executable, "-m", "zoo", "info", "nope"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "unknown model 'nope'" in done.stderr
    assert "Traceback" not in done.stderr
