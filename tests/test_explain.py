"""The explainer renders every registered model on a real input: the expected PNGs, none empty,
and an HTML page whose image links all exist."""

import re

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.cli import main as zoo_cli
from zoo.explain import _CONV, _kernels, _shown_layers, explain, resolve_input
from zoo.models.ensemble import members_of


@pytest.mark.parametrize("name", zoo.list_models())
def test_explain_renders_every_model(name, tmp_path):
    model = zoo.create_model(name)
    kind = zoo.model_info(name)["input_kind"]
    image, truth, caption = resolve_input("X" if kind == "xo" else "0", kind)
    assert image.shape == zoo.model_info(name)["input_shape"]
    page = explain(model, image, tmp_path, name, truth, caption,
                   classes=zoo.model_info(name)["classes"])

    model = (members_of(model) or [model])[0]  # an ensemble shows its first member's layers
    n_filters = sum(1 for l in model.layers if isinstance(l, _CONV) and _kernels(l) is not None)
    expected = 1 + n_filters + len(_shown_layers(model)) + 2  # input, ..., vote, probabilities
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == expected
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
    assert f"wrote {page}" in capsys.readouterr().out
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
