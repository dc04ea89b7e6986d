"""MLflow tracking for the zoo: where runs go, what each run is tagged with, and the checks that
make a bad store fail before training rather than after it."""

# zoo first: it sets TensorFlow's default log level before anything here imports Keras, and
# records whether the user had set one (then they want TensorFlow's log: zoo/quiet.py)
import zoo  # noqa: F401

from tracking.store import (REPO_ROOT, TrackingError, check_store, default_tracking_uri,
                            experiment_id, tracking_uri)
from tracking.tags import run_tags

__all__ = ["REPO_ROOT", "TrackingError", "check_store", "default_tracking_uri",
           "experiment_id", "tracking_uri", "run_tags"]
