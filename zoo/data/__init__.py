"""Data for the zoo: verified MNIST and Fashion-MNIST, the generated X/O set, spoken digits
(FSDD) as spectrograms, the validation split, tf.data pipelines. `load(name)` takes "mnist",
"fashion_mnist", "xo", "fsdd" (official split) or "fsdd/loso-<speaker>" (that speaker held out)."""

import hashlib

from zoo.data import fsdd as _fsdd
from zoo.data import mnist as _mnist
from zoo.data import xo as _xo
from zoo.data.idx import DataError, read_idx, sha256_of
from zoo.data.mnist import load_fashion_mnist, load_mnist
from zoo.data.pipeline import (VALIDATION_SIZE, eval_dataset, split_validation,
                               training_stream)
from zoo.data.xo import load_xo, make_xo


def load(name: str, data_dir=None):
    """((x_train, y_train), (x_test, y_test)) of data set `name`."""
    if name == "xo":
        return _xo.load_xo()
    if name == "fsdd" or name.startswith("fsdd/loso-"):
        return _fsdd.load_fsdd(data_dir, holdout=name.partition("/loso-")[2] or None)
    return _mnist.load(name, data_dir)


def source_of(name: str, data_dir=None) -> str:
    """Where `load(name)` takes its data from."""
    if name == "xo":
        return _xo.description()
    if name.startswith("fsdd"):
        folder = _fsdd._folder(data_dir)
        return str(folder) if folder else "tensorflow-datasets"
    return _mnist.source_of(name, data_dir)


def data_sha256(name: str) -> str:
    """The data's identity for run tags: the files' SHA256, or the generated arrays' hash."""
    if name.startswith("fsdd"):
        return f"fsdd_sha256.txt={sha256_of(_fsdd.CHECKSUMS)}"
    if name != "xo":
        return _mnist.data_sha256(name)
    digest = hashlib.sha256()
    for part in _xo.load_xo():
        for array in part:
            digest.update(array.tobytes())
    return f"generated={digest.hexdigest()}"


__all__ = ["DataError", "read_idx", "sha256_of", "data_sha256", "load", "load_mnist",
           "load_fashion_mnist", "load_xo", "make_xo", "source_of", "VALIDATION_SIZE",
           "eval_dataset", "split_validation", "training_stream"]
