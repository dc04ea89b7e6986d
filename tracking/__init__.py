"""MLflow tracking for the zoo: where runs go, what each run is tagged with, and the checks that
make a bad store fail before training rather than after it."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from tracking.store import (REPO_ROOT, TrackingError, check_store, default_tracking_uri,
                            experiment_id, tracking_uri)
from tracking.tags import run_tags

__all__ = ["REPO_ROOT", "TrackingError", "check_store", "default_tracking_uri",
           "experiment_id", "tracking_uri", "run_tags"]
