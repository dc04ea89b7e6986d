"""Reproductions: each zoo model trained by its published recipe, over seeds, tracked in MLflow.

The suite's one command is `python -m reproductions <verb>` (reproductions/__main__.py). Its rooms
(docs/architecture.md): recipes/ (recipes as data), run/ (training a recipe's seeds), report/
(tables and plots from the store), search/ (choices on validation), ship/ (weights for the zoo),
bench/ (speed and cost). Imports run one way: reproductions -> tracking -> zoo, and inside the
suite bench, ship, search -> run -> report -> recipes (pyproject.toml's import contracts).
"""

from pathlib import Path

# zoo first: it sets TensorFlow's default log level before anything here imports Keras, and
# records whether the user had set one (then they want TensorFlow's log: zoo/quiet.py)
import zoo  # noqa: F401

# The committed results files (reference tables, benches, screenings' tables): one folder, named
# once, whatever room writes to it.
RESULTS = Path(__file__).resolve().parent / "results"
