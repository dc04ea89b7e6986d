"""The live explainer's Flask app: made and configured (create_app), and served (serve).

A Flask app (Flask comes with MLflow; pinned in requirements.txt) serving plain files from
static/ and one JSON API (zoo.explain_ui.routes), answered by one Lab (zoo.explain_ui.lab) per
app, kept in app.extensions["zoo_lab"].
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask

import zoo
import zoo.weights
from zoo.explain_ui.lab import Lab
from zoo.explain_ui.routes import add_routes

STATIC = Path(__file__).with_name("static")
MAX_UPLOAD = 4 * 1024 * 1024  # a phone photo of a digit fits; a drawn canvas is ~10 KB
DEFAULT_MODEL = "conv3_bn.mnist"


def create_app(default_model: str = DEFAULT_MODEL) -> Flask:
    # named after the package, as it was before the package was split into modules: the app's
    # name (its logger's) and root folder stay zoo.explain_ui's
    app = Flask(__package__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD
    lab = Lab()
    app.extensions["zoo_lab"] = lab
    add_routes(app, lab, default_model)
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
