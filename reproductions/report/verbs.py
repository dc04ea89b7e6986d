"""The report room's verbs: their command lines (their work: tables.py, time_to_accuracy.py,
xo_lecture.py, audio_flatness.py, record_doc.py).

Each function declares one verb on the suite's parser and names the function that runs it
("module:function", imported only when the verb runs, so that `--help` stays quick);
reproductions/__main__.py lists them in the order of `--help`.
"""

from __future__ import annotations

from reproductions.arguments import data_families, one_name_among, reference_option


def report(sub):
    p = sub.add_parser("report", help="write the results tables of the MLflow store, beside "
                       "it (--reference: the committed reference tables)")
    p.add_argument("dataset", nargs="?", default="mnist", type=one_name_among("data set", data_families))
    reference_option(p, "tables of reproductions/results, from this store")
    p.set_defaults(needs_store=True)  # refused early if the store is bad (__main__)
    return p, "reproductions.report.tables:run"


def time_to_accuracy(sub):
    p = sub.add_parser("time-to-accuracy", help="every MNIST recipe's final test accuracy "
                       "against wall time per seed, from the MLflow runs (results/"
                       "time_to_accuracy.png and .csv)")
    p.add_argument("--out", default=None, help="path without suffix (default: beside the "
                   "store's tables, e.g. mlflow-results/time_to_accuracy)")
    reference_option(p, "reproductions/results/time_to_accuracy.*")
    p.set_defaults(needs_store=True)  # refused early if the store is bad (__main__)
    return p, "reproductions.report.time_to_accuracy:run"


def xo_lecture(sub):
    p = sub.add_parser("xo-lecture", help="the lecture's X/O walk-through, against xo trained "
                       "on generated images (after reproduce --dataset xo)")
    reference_option(p, "reproductions/results/xo_lecture.md")
    p.set_defaults(needs_store=True, keras=True)  # __main__: store checked, Keras quiet
    return p, "reproductions.report.xo_lecture:run"


def audio_flatness(sub):
    p = sub.add_parser("audio-flatness", help="the spectral flatness of FSDD's recordings, tones "
                       "and noise, and audio_conv.fsdd's answer to a tone: the figures of zoo "
                       "predict's speech check (> results/audio_flatness.txt)")
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.report.audio_flatness:run"


def record_errors(sub):
    p = sub.add_parser("record-errors", help="the test images each declared ensemble gets wrong "
                       "(zoo evaluate on each), and how many they all get wrong")
    p.add_argument("--out", default="runs/record-errors", help="folder for the lists and "
                   "pictures (default: runs/record-errors)")
    p.add_argument("--reference", action="store_true", help="write the committed "
                   "reproductions/results/errors and docs/record.md's glance at issue 28 "
                   "(deliberate: the reference) instead of --out")
    p.set_defaults(keras=True)  # __main__: Keras imported quietly
    return p, "reproductions.report.record_doc:errors_run"
