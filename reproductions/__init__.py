"""Reproductions: each zoo model trained by its published recipe, over seeds, tracked in MLflow.

The suite's one command is `python -m reproductions <verb>` (reproductions/__main__.py).
Imports run one way: reproductions -> tracking -> zoo."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

