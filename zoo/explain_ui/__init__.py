"""The live explainer: draw a digit in the browser, watch every layer of a zoo net answer.

    zoo explain --serve                  # http://127.0.0.1:8050/ ; make explain-ui PORT=...
    python -m zoo.explain_ui --bench     # the server-side time of one drawn digit, per weight

A Flask app (Flask comes with MLflow; pinned in requirements.txt) serving plain files from
static/ and one JSON API. The numbers come from zoo.explain.Explainer, the same computation as
the static pages of `zoo explain`; a drawn canvas is converted by zoo.images.to_mnist, as
`zoo predict` converts a picture. Maps travel as bytes (each layer quantised to 0-255 over its
own range, base64) and are drawn on small canvases by the page: one forward pass and a few
kilobytes per answer, where PNGs would cost a matplotlib or Pillow encoding per map.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import random
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np
from flask import Flask, jsonify, request, send_file, send_from_directory
from werkzeug.exceptions import HTTPException

import zoo
import zoo.data
import zoo.weights
from zoo.data.idx import DataError, sha256_of
from zoo.explain import Explainer, Explanation
from zoo.images import ImageError, load_image, to_mnist

STATIC = Path(__file__).with_name("static")
MAX_UPLOAD = 4 * 1024 * 1024  # a phone photo of a digit fits; a drawn canvas is ~10 KB
TOP_CONTRIBUTIONS = 12
DEFAULT_MODEL = "conv3_bn.mnist"


class InputError(ValueError):
    """A request the page can correct: answered 400 with this message."""


class UnknownWeight(InputError):
    """A weight that is not shipped: answered 404."""


def grid(a: np.ndarray, lo: float, hi: float, cmap: str) -> dict:
    """An array (h, w) or (h, w, n) as the page draws it: bytes 0-255 over [lo, hi], base64,
    in (row, column, map) order."""
    a = np.asarray(a, dtype="float32")
    a = a[..., None] if a.ndim == 2 else a
    scale = 255 / (hi - lo) if hi > lo else 0.0
    q = np.clip(np.rint((a - lo) * scale), 0, 255).astype("uint8")
    return {"shape": list(a.shape), "lo": float(lo), "hi": float(hi), "cmap": cmap,
            "data": base64.b64encode(q.tobytes()).decode("ascii")}


def to_json(seen: Explanation, kind: str) -> dict:
    """The Explanation as the page's JSON: the same numbers the static page plots."""
    image = seen.image
    lo, hi = (0.0, 255.0) if kind == "mnist" else (float(image.min()), float(image.max()))
    order = np.argsort(np.abs(seen.contributions))[::-1][:TOP_CONTRIBUTIONS]
    winner = seen.winner
    return {
        "input": grid(image, lo, hi, "viridis" if kind == "audio" else "grey"),
        "classes": list(seen.classes),
        "probabilities": [float(p) for p in seen.probabilities],
        "prediction": winner,
        "filters": [{"layer": f.layer, "averaged": f.averaged,
                     "grid": grid(f.kernels, -(b := float(np.abs(f.kernels).max()) or 1.0), b,
                                  "rdbu")}
                    for f in seen.filters],
        "layers": [{"layer": m.layer, "caption": m.caption, "total": m.total,
                    "grid": grid(m.maps, float(m.maps.min()), float(m.maps.max()), "viridis")}
                   for m in seen.maps],
        "vote": {"layer": seen.vote_layer, "winner": seen.classes[winner],
                 "scores": [float(s) for s in seen.scores],
                 "top": [{"unit": int(i), "value": float(seen.contributions[i])}
                         for i in order]},
    }


def decode_picture(value) -> np.ndarray:
    """A data URL (the canvas's PNG, or an uploaded picture) -> 28x28 uint8, the MNIST way."""
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        raise InputError("a picture must be sent as a data URL (data:image/png;base64,...)")
    try:
        raw = base64.b64decode(value.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError) as err:
        raise InputError(f"the picture's base64 is damaged ({err})") from err
    return to_mnist(load_image(io.BytesIO(raw), "the picture"), "the picture")


class Lab:
    """What the server keeps between requests: loaded nets and their probes, the data sets."""

    def __init__(self):
        self._lock = threading.Lock()  # one forward pass at a time: 2 cores, one teacher
        self._explainers: dict[str, Explainer] = {}
        self._mnist = None
        self._wrong: dict[str, np.ndarray] = {}

    @staticmethod
    def weights() -> list[dict]:
        rows = []
        for name in zoo.list_weights():
            card = zoo.weight_info(name)  # classes and input kind: the card's, never guessed
            rows.append({"name": name, "dataset": card.dataset, "kind": card.input_kind,
                         "accuracy": card.test_accuracy, "classes": list(card.classes)})
        return rows

    def explainer(self, name: str) -> Explainer:
        if name not in self._explainers:
            if name not in zoo.list_weights():
                raise UnknownWeight(f"unknown model {name!r}; shipped weights: "
                                    f"{', '.join(zoo.list_weights())}")
            self._explainers[name] = Explainer(zoo.load(name), zoo.weight_info(name).classes)
        return self._explainers[name]

    def mnist(self):
        if self._mnist is None:
            (_, _), self._mnist = zoo.data.load_mnist()
        return self._mnist

    def misclassified(self, name: str) -> np.ndarray:
        """Indices of the MNIST test images weight `name` gets wrong (computed once)."""
        if name not in self._wrong:
            x, y = self.mnist()
            model = self.explainer(name).model
            pred = model.predict(x, batch_size=1000, verbose=0).argmax(axis=1)
            self._wrong[name] = np.flatnonzero(pred != y)
        return self._wrong[name]

    def resolve(self, name: str, kind: str, source: dict):
        """(image as the model sees it, true class index or None, caption, extra fields)."""
        what, value = source.get("kind"), source.get("value")
        if kind == "mnist" and what == "picture":
            return decode_picture(value), None, "your drawing, converted the MNIST way", {}
        if kind == "mnist" and what == "mnist":
            x, y = self.mnist()
            extra = {}
            if value == "misclassified":
                wrong = self.misclassified(name)
                if not len(wrong):
                    raise InputError(f"{name} gets every MNIST test image right")
                value = int(random.choice(wrong))
                extra = {"index": value}
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(x):
                raise InputError(f"an MNIST test image is an index from 0 to {len(x) - 1}, "
                                 f"not {value!r}")
            caption = f"MNIST test image {value}" + (
                f", one that {name} gets wrong" if extra else "")
            return x[value], int(y[value]), caption, extra
        if kind == "xo" and what == "xo":
            from zoo.data.xo import make_xo
            from zoo.models.xo import CLASSES, O_IMAGE, X_IMAGE

            if value in CLASSES:
                return (X_IMAGE if value == "X" else O_IMAGE), CLASSES.index(value), \
                    f"the lecture's {value}", {}
            if value == "generated":
                seed = random.randrange(10**6)
                (images, labels), _ = make_xo(1, seed=seed)
                return images[0], int(labels[0]), \
                    f"a generated {CLASSES[labels[0]]} (zoo.data.xo, seed {seed})", {}
            raise InputError(f"an X/O example is X, O or generated, not {value!r}")
        if kind == "audio" and what == "fsdd":
            from zoo.data.fsdd import _order, spectrogram_of_file

            path = fsdd_file(value)
            return spectrogram_of_file(path), _order(value)[0], \
                f"FSDD recording {value} (log-mel spectrogram)", {}
        wanted = {"mnist": "a drawing, a picture or an MNIST test image",
                  "xo": "an X/O example", "audio": "an FSDD recording"}[kind]
        raise InputError(f"{name} takes {wanted}, not {what!r}")

    def explain(self, name: str, source: dict) -> dict:
        if not isinstance(name, str):
            raise InputError("say which model: {\"model\": \"conv3_bn.mnist\", ...}")
        if not isinstance(source, dict):
            raise InputError("say what to explain: {\"input\": {\"kind\": ..., \"value\": ...}}")
        with self._lock:
            start = time.perf_counter()
            explainer = self.explainer(name)
            kind = zoo.weight_info(name).input_kind
            image, truth, caption, extra = self.resolve(name, kind, source)
            answer = to_json(explainer(image), kind)
            answer.update(extra, model=name, caption=caption, truth=truth,
                          server_ms=round(1000 * (time.perf_counter() - start), 1))
        return answer


def fsdd_recordings() -> list[str]:
    """The FSDD test recordings (official split: index 0-4) under ZOO_DATA_DIR/fsdd, by digit,
    speaker and index; [] when there is no local copy."""
    from zoo.data.fsdd import _folder, _known, _order

    folder = _folder(None)
    if folder is None:
        return []
    return sorted((n for n in _known() if _order(n)[2] < 5 and (folder / n).is_file()),
                  key=_order)


def fsdd_file(name) -> Path:
    """The path of one FSDD test recording, checked against the zoo's checksums."""
    from zoo.data.fsdd import _folder, _known

    if name not in fsdd_recordings():  # also keeps paths like ../../etc/passwd out
        raise InputError(f"no FSDD test recording named {name!r} under $ZOO_DATA_DIR/fsdd")
    path = _folder(None) / name
    if sha256_of(path) != _known()[name]:
        raise DataError(f"{path}: SHA256 mismatch; the recording is altered, fetch it again")
    return path


def create_app(default_model: str = DEFAULT_MODEL) -> Flask:
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD
    lab = Lab()
    app.extensions["zoo_lab"] = lab

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/api/models")
    def models():
        return jsonify(models=lab.weights(), default=default_model)

    @app.get("/api/examples")
    def examples():
        # no MNIST here: loading it (a download, without local files) waits for the first
        # question about it, so that the page and its model list come up at once
        return jsonify(xo=["X", "O", "generated"], fsdd=fsdd_recordings())

    @app.get("/api/fsdd/<name>")
    def recording(name):
        return send_file(fsdd_file(name), mimetype="audio/wav")

    @app.post("/api/explain")
    def explain():
        raw = request.get_data()  # over MAX_UPLOAD: werkzeug raises 413 here
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError(f"malformed JSON ({err})") from err
        if not isinstance(body, dict):
            raise InputError("the request must be a JSON object {\"model\": ..., \"input\": ...}")
        return jsonify(lab.explain(body.get("model"), body.get("input")))

    @app.errorhandler(HTTPException)
    def http_error(err):
        message = err.description
        if err.code == 413:
            message = (f"upload too large: the limit is {MAX_UPLOAD // 2**20} MB "
                       "(a drawing or a photo of one digit is far smaller)")
        return jsonify(error=message), err.code

    @app.errorhandler(UnknownWeight)
    def unknown(err):
        return jsonify(error=str(err)), 404

    @app.errorhandler(InputError)
    @app.errorhandler(ImageError)
    @app.errorhandler(DataError)
    def bad_input(err):
        return jsonify(error=str(err)), 400

    @app.errorhandler(Exception)
    def internal(err):  # the trace goes to the server's log, a sentence to the page
        traceback.print_exc()
        return jsonify(error=f"the server failed: {type(err).__name__}: {err}"), 500

    return app


def serve(host: str = "127.0.0.1", port: int = 8050, model: str | None = None) -> int:
    """Run the live explainer until Ctrl-C; returns the exit code."""
    from werkzeug.serving import make_server

    model = model or DEFAULT_MODEL
    if model in zoo.list_models():  # "lenet5": its shipped default, as zoo.load does
        model = zoo.weights.default_weight(model)
    if model not in zoo.list_weights():
        print(f"error: unknown model {model!r}; shipped: {', '.join(zoo.list_weights())}",
              file=sys.stderr)
        return 2
    try:
        # Werkzeug's threaded server: one user on one machine; the Lab serialises the nets
        server = make_server(host, port, create_app(model), threaded=True)
    except (OSError, SystemExit) as err:  # on a busy port Werkzeug prints why, then exits
        why = err.strerror if isinstance(err, OSError) else "the reason is above"
        print(f"error: cannot listen on {host}:{port} ({why})", file=sys.stderr)
        return 2
    print(f"the live explainer: http://{host}:{server.port}/  (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
