"""The live explainer's JSON API, through the Flask app (no socket, no browser): every shipped
weight answers with the numbers of zoo.explain's computation, a drawing is converted exactly as
`zoo predict` converts a picture, and every bad request gets a 4xx with a sentence."""

import base64
import io
import socket

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.cli import main as zoo_cli
from zoo.explain import Explainer
from zoo.explain_ui import MAX_UPLOAD, create_app, fsdd_recordings
from zoo.images import mnist_from_file


@pytest.fixture(scope="module")
def client():
    return create_app().test_client()


def picture(array: np.ndarray, fmt="PNG") -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()


def drawn(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit as the canvas would send it: 280x280, black ink on white."""
    return np.asarray(Image.fromarray(255 - digit).resize((280, 280), Image.BILINEAR))


def values(grid) -> np.ndarray:
    q = np.frombuffer(base64.b64decode(grid["data"]), dtype="uint8").reshape(grid["shape"])
    return grid["lo"] + q.astype("float64") * (grid["hi"] - grid["lo"]) / 255


def example(kind):
    return {"mnist": {"kind": "mnist", "value": 3}, "xo": {"kind": "xo", "value": "O"},
            "audio": {"kind": "fsdd", "value": fsdd_recordings()[7]}}[kind]


@pytest.mark.parametrize("weight", zoo.list_weights())
def test_every_shipped_weight_answers_with_the_explainers_numbers(client, weight):
    card = zoo.weight_info(weight)
    classes, kind = card.classes, card.input_kind
    response = client.post("/api/explain", json={"model": weight, "input": example(kind)})
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    model = zoo.load(weight)
    image = values(answer["input"])[..., 0]
    explainer = Explainer(model, classes)
    assert answer["classes"] == list(zoo.model_info(card.arch)["classes"])
    assert [l["layer"] for l in answer["layers"]] == [l.name for l in explainer.shown]
    assert [f["layer"] for f in answer["filters"]] == [f.layer for f in explainer.filters]
    if kind != "audio":  # pixels come back exactly; a spectrogram to 1/255 of its range
        expected = model.predict(image[None].astype("float32"), verbose=0)[0]
        np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-5)
    assert answer["prediction"] == int(np.argmax(answer["probabilities"]))
    assert answer["truth"] is not None
    for layer in answer["layers"]:
        h, w, n = layer["grid"]["shape"]
        assert n == min(layer["total"], 24) and h * w * n == len(
            base64.b64decode(layer["grid"]["data"]))
    # the vote: the winner's total is its contributions' sum plus the bias; softmax gives the
    # probabilities of the net that voted (an ensemble's first member: its page shows that one)
    scores = np.array(answer["vote"]["scores"])
    voter = explainer.model(image[None].astype("float32"), training=False)[0]
    np.testing.assert_allclose(np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum(),
                               voter, atol=1e-4)


def test_a_drawing_is_converted_like_zoo_predict_converts_a_picture(client, mnist, tmp_path):
    (_, _), (x_test, y_test) = mnist
    canvas = drawn(x_test[0])
    Image.fromarray(canvas).save(tmp_path / "digit.png")
    answer = client.post("/api/explain", json={
        "model": "conv3.mnist", "input": {"kind": "picture", "value": picture(canvas)}}).get_json()
    np.testing.assert_array_equal(values(answer["input"])[..., 0],
                                  mnist_from_file(tmp_path / "digit.png"))
    assert answer["classes"][answer["prediction"]] == str(y_test[0])
    assert answer["caption"] == "your drawing, converted the MNIST way"


def test_random_misclassified_is_misclassified(client, mnist):
    (_, _), (x_test, y_test) = mnist
    model = zoo.load("softmax.mnist")  # 7.6% wrong: a fresh pick each time
    seen = set()
    for _ in range(3):
        answer = client.post("/api/explain", json={
            "model": "softmax.mnist", "input": {"kind": "mnist", "value": "misclassified"}}
        ).get_json()
        i = answer["index"]
        seen.add(i)
        assert answer["truth"] == y_test[i] != answer["prediction"]
        assert model.predict(x_test[i:i + 1], verbose=0)[0].argmax() == answer["prediction"]
    assert len(seen) > 1


def test_models_and_examples(client):
    models = client.get("/api/models").get_json()
    assert [m["name"] for m in models["models"]] == zoo.list_weights()
    conv3_bn = next(m for m in models["models"] if m["name"] == "conv3_bn.mnist")
    assert conv3_bn["accuracy"] == zoo.weight_info("conv3_bn.mnist").test_accuracy
    examples = client.get("/api/examples").get_json()
    assert examples["xo"] == ["X", "O", "generated"]
    assert len(examples["fsdd"]) == 300 and examples["fsdd"][0] == "0_george_0.wav"
    wav = client.get("/api/fsdd/0_george_0.wav")
    assert wav.status_code == 200 and wav.data[:4] == b"RIFF"


BLANK = np.full((280, 280), 255, dtype="uint8")


@pytest.mark.parametrize("body,status,words", [
    ({"model": "conv9.mnist", "input": {"kind": "mnist", "value": 1}}, 404, "unknown model"),
    ({"model": "conv3.mnist", "input": {"kind": "picture", "value": picture(BLANK)}}, 400,
     "no digit found (the image is blank)"),
    ({"model": "conv3.mnist", "input": {"kind": "picture", "value": "data:image/png;base64,@@"}},
     400, "base64 is damaged"),
    ({"model": "conv3.mnist", "input": {"kind": "picture", "value": "digit.png"}}, 400,
     "data URL"),
    ({"model": "conv3.mnist", "input": {"kind": "picture",
                                        "value": "data:image/png;base64,aGVsbG8="}}, 400,
     "the picture: not a readable image (not a format Pillow knows: send a PNG, JPEG"),
    ({"model": "conv3.mnist", "input": {"kind": "mnist", "value": 10000}}, 400, "0 to 9999"),
    ({"model": "conv3.mnist", "input": {"kind": "mnist", "value": "7"}}, 400, "0 to 9999"),
    ({"model": "conv3.mnist", "input": {"kind": "mnist", "value": True}}, 400, "0 to 9999"),
    ({"model": "conv3.mnist", "input": {"kind": "fsdd", "value": "0_george_0.wav"}}, 400,
     "conv3.mnist takes a drawing"),
    ({"model": "audio_conv.fsdd", "input": {"kind": "fsdd", "value": "../../etc/passwd"}}, 400,
     "no FSDD test recording"),
    ({"model": "audio_conv.fsdd", "input": {"kind": "fsdd", "value": "0_george_9.wav"}}, 400,
     "no FSDD test recording"),  # a training recording: the page offers the test set only
    ({"model": "xo_lecture.lecture", "input": {"kind": "xo", "value": "Z"}}, 400, "X, O or"),
    ({"input": {"kind": "mnist", "value": 1}}, 400, "say which model"),
    ({"model": "conv3.mnist"}, 400, "say what to explain"),
    ([1, 2], 400, "JSON object"),
])
def test_bad_requests_get_a_4xx_and_a_sentence(client, body, status, words):
    response = client.post("/api/explain", json=body)
    assert response.status_code == status
    assert words in response.get_json()["error"]


def test_malformed_json_and_huge_uploads(client):
    response = client.post("/api/explain", data=b'{"model": "conv3.mnist", "input":')
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("malformed JSON")
    response = client.post("/api/explain", data=b"{" + b" " * MAX_UPLOAD + b"}")
    assert response.status_code == 413
    assert "upload too large: the limit is 4 MB" in response.get_json()["error"]
    response = client.get("/api/nothing")
    assert response.status_code == 404 and "error" in response.get_json()


def test_a_decompression_bomb_is_refused(client):
    buf = io.BytesIO()
    Image.new("1", (14000, 14000), 1).save(buf, "PNG")  # 51 KB, 196 million pixels
    bomb = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    response = client.post("/api/explain", json={
        "model": "conv3.mnist", "input": {"kind": "picture", "value": bomb}})
    assert response.status_code == 400
    assert "the picture: not a readable image" in response.get_json()["error"]
    assert "decompression bomb" in response.get_json()["error"]  # Pillow's refusal, at open


def test_json_nested_too_deep_is_a_400_not_a_500(client):
    """100,000 levels: Python's parser raises RecursionError, which was answered 500 (issue 30)."""
    response = client.post("/api/explain", data=b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("the JSON is nested too deeply")


def test_serve_refuses_an_unknown_model_and_a_busy_port(capsys):
    assert zoo_cli(["explain", "--serve", "conv9.mnist"]) == 2
    assert "unknown model 'conv9.mnist'" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert zoo_cli(["explain", "--serve", "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # was: listening on 4464 (70000 mod 65536)
        zoo_cli(["explain", "--serve", "--port", "70000"])
    assert exit_.value.code == 2
    assert "a port is a whole number from 1 to 65535" in capsys.readouterr().err
    assert zoo_cli(["explain"]) == 2
    assert "needs a model and an input (or --serve)" in capsys.readouterr().err
    assert zoo_cli(["explain", "--serve", "chemception.freesolv"]) == 2
    assert "chemception.freesolv is a molecule weight (the page has them on its molecules " \
        "tab)" in capsys.readouterr().err
    assert zoo_cli(["explain", "--serve", "conv3_bn.mnist", "7"]) == 2  # the 7 was dropped
    assert "zoo explain --serve takes no input ('7')" in capsys.readouterr().err


def test_a_molecule_is_explained_atom_by_atom_or_character_by_character(client):
    """Issue 29: the live explainer shows the drawn molecule and which atoms (image nets) or
    characters (the SMILES net) moved the answer; the shares are the answer's own changes."""
    from zoo.molecules import weights

    listed = client.get("/api/molecules").get_json()["molecules"]
    assert [m["name"] for m in listed] == weights.list_weights()
    text = client.post("/api/molecule", json={"model": "smiles_cnn.freesolv", "smiles": "OCC"})
    answer = text.get_json()
    assert text.status_code == 200 and answer["smiles"] == "CCO"
    assert [p[0] for p in answer["parts"]] == ["C", "C", "O"] and "kcal/mol" in answer["said"]
    assert answer["png"].startswith("data:image/png;base64,")
    assert answer["string"].count("<span") == 3
    drawing = client.post("/api/molecule", json={"model": "chemception.solubility_class",
                                                 "smiles": "c1ccccc1O"}).get_json()
    assert not drawing.get("error") and drawing["by_atom"] and len(drawing["parts"]) == 7
    assert drawing["said"].startswith("solubility ")


@pytest.mark.parametrize("body,status,words", [
    ({"model": "smiles_cnn.freesolv", "smiles": "C1CC"}, 400, "not a SMILES string"),
    ({"model": "smiles_cnn.freesolv", "smiles": 7}, 400, "a SMILES string"),
    ({"model": "smiles_cnn.nowhere", "smiles": "CCO"}, 404, "unknown molecule weight"),
    ("[1, 2]", 400, "JSON object"),
])
def test_a_bad_molecule_request_gets_a_sentence(client, body, status, words):
    sent = client.post("/api/molecule", data=body) if isinstance(body, str) else \
        client.post("/api/molecule", json=body)
    assert sent.status_code == status
    assert words in sent.get_json()["error"]


@pytest.mark.parametrize("route", ["/api/explain", "/api/molecule"])
def test_an_integer_too_long_for_python_is_a_400_not_a_500(client, route):
    """json.loads refuses integers of more than 4,300 digits with a plain ValueError, which was
    answered 500 ("the server failed")."""
    sent = client.post(route, data=b'{"model": "conv3.mnist", "smiles": 1' + b"0" * 5000 + b"}")
    assert sent.status_code == 400
    assert sent.get_json()["error"].startswith("malformed JSON (a number too long to read)")


def test_a_chunked_request_is_read_and_held_to_the_upload_limit(client):
    """A chunked body has no Content-Length: where the server does not mark its input as
    terminated (this test client), werkzeug read it as empty (a valid request was "malformed
    JSON (char 0)") and never held it to the limit (5 MB was a 400, not a 413). gunicorn, which
    `zoo explain --serve` runs, marks it, and werkzeug handled it there already."""
    chunked = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}
    body = b'{"model": "conv3.mnist", "input": {"kind": "mnist", "value": 0}}'
    sent = client.post("/api/explain", input_stream=io.BytesIO(body), headers=chunked)
    assert sent.status_code == 200, sent.get_json()
    assert sent.get_json()["model"] == "conv3.mnist"
    sent = client.post("/api/explain", input_stream=io.BytesIO(b" " * (MAX_UPLOAD + 1)),
                       headers=chunked)
    assert sent.status_code == 413
    assert "upload too large" in sent.get_json()["error"]


def test_a_long_bad_smiles_is_not_sent_back_whole(client):
    sent = client.post("/api/molecule", json={"model": "smiles_cnn.freesolv",
                                              "smiles": "C" * 1_000_000 + " x"})
    assert sent.status_code == 400
    assert sent.get_json()["error"].startswith("a SMILES string of 1,000,002 characters")
    assert len(sent.data) < 1000


def test_an_architecture_name_is_its_shipped_weight_as_in_zoo_explain(client):
    sent = client.post("/api/explain", json={"model": "conv3", "input": {"kind": "mnist",
                                                                         "value": 0}})
    assert sent.status_code == 200 and sent.get_json()["model"] == "conv3.mnist"


def test_a_damaged_weight_is_a_sentence_without_a_trace(monkeypatch, capsys):
    """The server's own file failing its check was "the server failed: WeightsError" and a
    traceback in its log; it says what is damaged and how to restore it."""
    from zoo.weights import WeightsError

    def damaged(name):
        raise WeightsError(f"{name}: SHA256 mismatch")

    monkeypatch.setattr(zoo, "load", damaged)
    sent = create_app().test_client().post("/api/explain", json={
        "model": "softmax.mnist", "input": {"kind": "mnist", "value": 0}})
    assert sent.status_code == 500
    assert sent.get_json()["error"].startswith("softmax.mnist: SHA256 mismatch. The server's copy "
                                               "of the zoo is damaged: restore its weights (git "
                                               "checkout zoo/weights zoo/molecules/weights")
    assert "Traceback" not in capsys.readouterr().err
