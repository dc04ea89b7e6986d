"""The explainer renders every registered model on a real input: the expected PNGs, none empty,
and an HTML page whose image links all exist."""

import re

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.cli import main as zoo_cli
from zoo.explain import explain, resolve_input


# What each model's page shows, written out (not derived from zoo.explain's own helpers, so
# that a layer dropped or added by the code is caught): filters of each convolution with
# kernels, the maps of each shown layer, the input, the vote, the probabilities.
CONV7_BN_PNGS = [
    "filters-conv1.png", "filters-conv2.png", "filters-conv3.png", "filters-conv4.png",
    "filters-conv5.png", "filters-conv6.png", "filters-conv7.png", "input.png", "maps-conv1.png",
    "maps-conv2.png", "maps-conv3.png", "maps-conv4.png", "maps-conv5.png", "maps-conv6.png",
    "maps-conv7.png", "probabilities.png", "vote.png"]
EXPECTED_PNGS = {
    "audio_conv": [
        "filters-conv1.png", "filters-conv2.png", "filters-conv3.png", "filters-conv4.png",
        "input.png", "maps-bn1_relu.png", "maps-bn2_relu.png", "maps-bn3_relu.png",
        "maps-bn4_relu.png", "maps-conv2.png", "maps-conv3.png", "maps-conv4.png",
        "probabilities.png", "vote.png"],
    "conv3": [
        "filters-conv1.png", "filters-conv2.png", "filters-conv3.png", "input.png",
        "maps-conv1.png", "maps-conv2.png", "maps-conv3.png", "probabilities.png", "vote.png"],
    "conv3_bn": [
        "filters-conv1.png", "filters-conv2.png", "filters-conv3.png", "input.png",
        "maps-bn1_relu.png", "maps-bn2_relu.png", "maps-bn3_relu.png", "maps-conv2.png",
        "maps-conv3.png", "probabilities.png", "vote.png"],
    "conv3_bn_small": [
        "filters-conv1.png", "filters-conv2.png", "filters-conv3.png", "input.png",
        "maps-bn1_relu.png", "maps-bn2_relu.png", "maps-bn3_relu.png", "maps-conv2.png",
        "maps-conv3.png", "probabilities.png", "vote.png"],
    "conv3_dropout": [
        "filters-conv1.png", "filters-conv2.png", "filters-conv3.png", "input.png",
        "maps-conv1.png", "maps-conv2.png", "maps-conv3.png", "probabilities.png", "vote.png"],
    "conv7_bn": CONV7_BN_PNGS,
    "conv7_bn_ensemble": CONV7_BN_PNGS,  # an ensemble shows its first member's layers
    "lenet5": [
        "filters-C1.png", "filters-C5.png", "filters-S2.png", "filters-S4.png", "input.png",
        "maps-C1_tanh.png", "maps-C3_tanh.png", "maps-C5_tanh.png", "maps-S2_pool.png",
        "maps-S2_tanh.png", "maps-S4_pool.png", "maps-S4_tanh.png", "probabilities.png",
        "vote.png"],
    "lenet5_rbf": [  # lenet5's pictures: the RBF output draws as the probabilities
        "filters-C1.png", "filters-C5.png", "filters-S2.png", "filters-S4.png", "input.png",
        "maps-C1_tanh.png", "maps-C3_tanh.png", "maps-C5_tanh.png", "maps-S2_pool.png",
        "maps-S2_tanh.png", "maps-S4_pool.png", "maps-S4_tanh.png", "probabilities.png",
        "vote.png"],
    "lenet5_modern": [
        "filters-C1.png", "filters-C3.png", "input.png", "maps-C1.png", "maps-C3.png",
        "maps-S2.png", "maps-S4.png", "probabilities.png", "vote.png"],
    "mlp5": [
        "input.png", "probabilities.png", "vote.png"],
    "softmax": [
        "input.png", "probabilities.png", "vote.png"],
    "xo": [
        "filters-features.png", "input.png", "maps-pool.png", "maps-relu.png",
        "probabilities.png", "vote.png"],
    "xo_lecture": [
        "filters-features.png", "input.png", "maps-pool.png", "maps-relu.png",
        "probabilities.png", "vote.png"],
}


@pytest.mark.parametrize("name", zoo.list_models())
def test_explain_renders_every_model(name, tmp_path):
    model = zoo.create_model(name)
    kind = zoo.model_info(name)["input_kind"]
    image, truth, caption = resolve_input("X" if kind == "xo" else "0", kind)
    assert image.shape == zoo.model_info(name)["input_shape"]
    page = explain(model, image, tmp_path, name, truth, caption,
                   classes=zoo.model_info(name)["classes"])

    pngs = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in pngs] == EXPECTED_PNGS[name]
    for png in pngs:
        pixels = np.asarray(Image.open(png).convert("L"))
        assert pixels.std() > 1, f"{png.name} is blank"
    links = re.findall(r'<img src="([^"]+)"', page.read_text())
    assert sorted(links) == sorted(p.name for p in pngs)
    if name not in ("softmax", "mlp5"):
        assert any(p.name.startswith("maps-") for p in pngs)  # convolutional nets show maps


def test_zoo_explain_command_with_shipped_weights(tmp_path, capsys):
    weight = "conv3.mnist"
    assert zoo_cli(["explain", weight, "7", "--out", str(tmp_path)]) == 0
    page = tmp_path / f"{weight}-7" / "index.html"
    out = capsys.readouterr().out
    assert f"wrote {page}" in out
    # the index is MNIST's: test image 7 is a 9 (read from the IDX file, not from the zoo)
    assert "on MNIST test image 7, labelled 9:" in out
    assert "MNIST test image 7" in page.read_text()


def test_zoo_explain_rejects_a_bad_input(tmp_path, capsys):
    assert zoo_cli(["explain", "xo_lecture", "Z", "--out", str(tmp_path)]) == 2
    assert "an X/O net takes X or O" in capsys.readouterr().err


def test_suite_explain_logs_the_page_to_mlflow(mlflow_store, tmp_path, capsys):
    from mlflow.tracking import MlflowClient

    from reproductions.__main__ import main as suite

    assert suite(["explain", "xo_lecture", "X", "--out", str(tmp_path)]) == 0
    assert "logged to MLflow, experiment zoo-explain" in capsys.readouterr().out
    client = MlflowClient()
    [run] = client.search_runs([client.get_experiment_by_name("zoo-explain").experiment_id])
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "explain")}
    assert "explain/index.html" in logged
    assert suite(["explain", "xo_lecture", "Z", "--out", str(tmp_path)]) == 2
    assert "error: an X/O net takes X or O, not 'Z'" in capsys.readouterr().err
