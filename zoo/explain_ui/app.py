"""The live explainer's Flask app: made and configured (create_app), and served (serve).

A Flask app (Flask comes with MLflow; pinned in requirements.txt) serving plain files from
static/ and one JSON API (zoo.explain_ui.routes), answered by one Lab (zoo.explain_ui.lab) per
app, kept in app.extensions["zoo_lab"]; served by gunicorn (pinned too).
"""

from __future__ import annotations

import os
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


def serve(host: str = "127.0.0.1", port: int = 8050, model: str | None = None,
          workers: int | None = None) -> int:
    """Run the live explainer until Ctrl-C; returns the exit code.

    Served by gunicorn, a production WSGI server: one worker process per core (each with its own
    Lab: the nets answer in parallel, where one process's Lab answers one request at a time) and
    a few threads each, so that a slow client or an upload does not hold a worker. Flask's own
    server answered 41 requests/s at 8 concurrent clients (issue 30); `make bench-serving`
    measures both (reproductions/results/serving_load.md)."""
    from gunicorn.app.base import BaseApplication

    from zoo.ports import PortError, check_free

    model = zoo.weights.shipped_name(model or DEFAULT_MODEL)  # "lenet5": its shipped default
    if model not in zoo.list_weights():
        from zoo.molecules import weights as molecule_weights

        why = (f"{model} is a molecule weight (the page has them on its molecules tab); "
               "--serve names the picture or recording weight the page opens with"
               if molecule_weights.is_molecule_weight(model) else f"unknown model {model!r}")
        print(f"error: {why}; shipped: {', '.join(zoo.list_weights())}", file=sys.stderr)
        return 2
    try:
        check_free(host, port)
    except PortError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    options = {"bind": f"{host}:{port}", "workers": workers or os.cpu_count() or 1,
               "worker_class": "gthread", "threads": 4, "accesslog": None,
               "loglevel": "warning", "timeout": 120, "graceful_timeout": 5}

    class Explainer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app(model)

    print(f"the live explainer: http://{host}:{port}/  ({options['workers']} worker(s); "
          "Ctrl-C stops it)", flush=True)
    try:
        Explainer().run()
    except SystemExit as stop:  # gunicorn's arbiter leaves by sys.exit, on Ctrl-C too
        return stop.code if isinstance(stop.code, int) else 0
    return 0
