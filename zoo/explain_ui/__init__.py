"""The live explainer: draw a digit in the browser, watch every layer of a zoo net answer.

    zoo explain --serve                  # http://127.0.0.1:8050/ ; make explain-ui PORT=...
    python -m zoo.explain_ui --bench     # the server-side time of one drawn digit, per weight

- app.py: the Flask app, made and configured (create_app: static folder, upload limit) and
  served (serve);
- routes.py: the request handlers: the page, the JSON API, errors as JSON;
- lab.py: what the server keeps between requests (Lab): loaded nets, data sets, one explanation;
- inputs.py: what a request may ask to explain, checked (a picture's data URL, an FSDD test
  recording), and the errors a request can correct;
- answer.py: an explanation as the page's JSON (maps as quantised bytes);
- __main__.py: `python -m zoo.explain_ui`, and its --bench; static/: the page (HTML, JS, CSS).

A Flask app (Flask comes with MLflow; pinned in requirements.txt) serving plain files from
static/ and one JSON API. The numbers come from zoo.explain.Explainer, the same computation as
the static pages of `zoo explain`; a drawn canvas is converted by zoo.images.to_mnist, as
`zoo predict` converts a picture. Maps travel as bytes (each layer quantised to 0-255 over its
own range, base64) and are drawn on small canvases by the page: one forward pass and a few
kilobytes per answer, where PNGs would cost a matplotlib or Pillow encoding per map.
"""

from zoo.explain_ui.answer import TOP_CONTRIBUTIONS, grid, to_json
from zoo.explain_ui.app import DEFAULT_MODEL, MAX_UPLOAD, STATIC, create_app, serve
from zoo.explain_ui.inputs import (InputError, UnknownWeight, decode_picture, fsdd_file,
                                   fsdd_recordings)
from zoo.explain_ui.lab import Lab

__all__ = ["DEFAULT_MODEL", "MAX_UPLOAD", "STATIC", "TOP_CONTRIBUTIONS", "InputError", "Lab",
           "UnknownWeight", "create_app", "decode_picture", "fsdd_file", "fsdd_recordings",
           "grid", "serve", "to_json"]
