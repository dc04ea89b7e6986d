"""The live explainer's request handlers: the page (static/), one JSON API, and errors as JSON.

    GET  /                   static/index.html
    GET  /api/models         the shipped weights and the one the page opens with
    GET  /api/examples       the X/O examples and the FSDD test recordings
    GET  /api/fsdd/<name>    one FSDD test recording (audio/wav)
    POST /api/explain        {"model": ..., "input": {"kind": ..., "value": ...}} -> an answer
    GET  /api/molecules      the shipped molecule weights
    POST /api/molecule       {"model": ..., "smiles": "CCO"} -> which atoms or characters moved
                             the answer (zoo.molecules.explain)

A request the page can correct gets a 4xx with a sentence; anything else a 500 with a sentence,
its trace in the server's log. The handlers ask the Lab (zoo.explain_ui.lab) for the numbers and
read their settings (the static folder, the upload limit) from the app zoo.explain_ui.app made.
"""

from __future__ import annotations

import json
import traceback

from flask import Flask, jsonify, request, send_file, send_from_directory
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from zoo.data.idx import DataError
from zoo.explain_ui.inputs import (InputError, UnknownWeight, fsdd_file, fsdd_recordings,
                                   mnist_status)
from zoo.explain_ui.lab import Lab
from zoo.images import ImageError
from zoo.molecules.featurize import MoleculeError
from zoo.weights import WeightsError


def add_routes(app: Flask, lab: Lab, default_model: str) -> None:
    """The handlers of `app`, answering from `lab`; the page opens with `default_model`."""

    @app.get("/")
    def index():
        return send_from_directory(app.static_folder, "index.html")

    @app.get("/api/models")
    def models():
        return jsonify(models=lab.weights(), default=default_model)

    @app.get("/api/examples")
    def examples():
        # no MNIST here: loading it (a download, without local files) waits for the first
        # question about it, so that the page and its model list come up at once
        return jsonify(xo=["X", "O", "generated"], fsdd=fsdd_recordings(),
                       mnist=mnist_status())

    @app.get("/api/fsdd/<name>")
    def recording(name):
        return send_file(fsdd_file(name), mimetype="audio/wav")

    def raw_body() -> bytes:
        """The request's bytes, at most the upload limit. werkzeug answers a Content-Length
        over it with 413, and so a chunked body (which has none) where the server marks its
        de-chunked input as terminated (gunicorn, werkzeug's own server); where it does not
        (werkzeug's test client, some servers), werkzeug reads such a body as empty, so it is
        read here, from the server's input, up to the limit."""
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if request.content_length is not None or not chunked:
            return request.get_data()
        limit = app.config["MAX_CONTENT_LENGTH"]
        raw = request.environ["wsgi.input"].read(limit + 1)
        if len(raw) > limit:
            raise RequestEntityTooLarge()
        return raw

    def json_object(example: str) -> dict:
        """The request's JSON object; anything else a 400 that shows `example`."""
        try:
            body = json.loads(raw_body())
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError(f"malformed JSON ({err}); a request is {example}") from None
        except RecursionError:  # Python's parser gives up past ~1,000 levels: a 400, not a 500
            raise InputError(f"the JSON is nested too deeply; a request is {example}") from None
        except ValueError:  # an integer of more than 4,300 digits, which Python refuses to read
            raise InputError(f"malformed JSON (a number too long to read); a request is "
                             f"{example}") from None
        if not isinstance(body, dict):
            raise InputError(f"the request must be a JSON object, {example}")
        return body

    @app.post("/api/explain")
    def explain():
        body = json_object("{\"model\": ..., \"input\": {\"kind\": ..., \"value\": ...}}")
        return jsonify(lab.explain(body.get("model"), body.get("input")))

    @app.get("/api/molecules")
    def molecules():
        return jsonify(molecules=lab.molecule_weights())

    @app.post("/api/molecule")
    def molecule():
        body = json_object("{\"model\": ..., \"smiles\": \"CCO\"}")
        return jsonify(lab.molecule(body.get("model"), body.get("smiles")))

    @app.errorhandler(HTTPException)
    def http_error(err):
        message = err.description
        if err.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = (f"upload too large: the limit is {limit // 2**20} MB "
                       "(a drawing or a photo of one digit is far smaller)")
        return jsonify(error=message), err.code

    @app.errorhandler(UnknownWeight)
    def unknown(err):
        return jsonify(error=str(err)), 404

    @app.errorhandler(InputError)
    @app.errorhandler(MoleculeError)
    @app.errorhandler(ImageError)
    @app.errorhandler(DataError)
    def bad_input(err):
        return jsonify(error=str(err)), 400

    @app.errorhandler(WeightsError)
    def damaged_weight(err):  # the server's own file failed its check: no trace, what to do
        return jsonify(error=f"{err}. The server's copy of the zoo is damaged: restore its "
                       "weights (git checkout zoo/weights zoo/molecules/weights, or reinstall) "
                       "and restart it"), 500

    @app.errorhandler(Exception)
    def internal(err):  # the trace goes to the server's log, a sentence to the page
        traceback.print_exc()
        return jsonify(error=f"the server failed: {type(err).__name__}: {err}"), 500
