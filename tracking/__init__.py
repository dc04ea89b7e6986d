"""MLflow tracking for the zoo: where runs go, what each run is tagged with, and the checks that
make a bad store fail before training rather than after it."""

# zoo first: it records whether the user set TF_CPP_MIN_LOG_LEVEL (then they want
# TensorFlow's log) before setting it itself against the C++ start-up chatter
import zoo  # noqa: E402,F401

from tracking.store import (REPO_ROOT, TrackingError, check_store, default_tracking_uri,
                            experiment_id, tracking_uri)
from tracking.tags import run_tags

__all__ = ["REPO_ROOT", "TrackingError", "check_store", "default_tracking_uri",
           "experiment_id", "tracking_uri", "run_tags"]
