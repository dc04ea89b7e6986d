"""Reproductions: each zoo model trained by its published recipe, over seeds, tracked in MLflow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

