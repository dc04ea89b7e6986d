"""Data for the zoo: verified MNIST and Fashion-MNIST, the generated X/O set, spoken digits
(FSDD) as spectrograms, the validation split, tf.data pipelines.

    loaded = load_dataset("mnist")            # arrays and where they came from, in one pass
    (x_train, y_train), (x_test, y_test) = loaded
    loaded.provenance.source, loaded.provenance.digest
    get_dataset("fsdd/loso-theo")              # the registered facts: classes, input kind, license

The data sets are the specs of zoo.data.specs ("mnist", "fashion_mnist", "xo", "fsdd" and its
folds "fsdd/loso-<speaker>"). The tf.data pipelines (split_validation, training_stream,
eval_dataset) live in zoo.data.pipeline and are imported from here only when asked for, so that
`import zoo.data` needs no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.data.idx import DataError, read_idx, sha256_of
from zoo.data.root import ENV_VAR, data_root
from zoo.data.specs import DATASETS, DatasetSpec, get_dataset, list_datasets
from zoo.dotted import resolve


@dataclass(frozen=True)
class Provenance:
    """Where a data set was read from, and its identity (the run tag `data_sha256`)."""

    dataset: str
    source: str  # a folder, "tensorflow-datasets", or how generated data was drawn
    digest: str  # the files' SHA256 (or the checksum list's, or the generated arrays')


@dataclass(frozen=True)
class LoadedData:
    """A data set's arrays and their provenance; unpacks like keras.datasets' load_data()."""

    train: tuple
    test: tuple
    provenance: Provenance

    def __iter__(self):
        return iter((self.train, self.test))


def load_dataset(name: str, data_dir=None) -> LoadedData:
    """The arrays of registered data set `name` with their provenance, read once."""
    spec = get_dataset(name)
    train, test, source, digest = resolve(spec.loader)(data_dir=data_dir, **dict(spec.options))
    return LoadedData(train, test, Provenance(name, source, digest))


def load(name: str, data_dir=None):
    """((x_train, y_train), (x_test, y_test)) of data set `name`."""
    loaded = load_dataset(name, data_dir)
    return loaded.train, loaded.test


def load_mnist(data_dir=None):
    """MNIST like keras.datasets.mnist.load_data(): ((x_train, y_train), (x_test, y_test))."""
    return load("mnist", data_dir)


def load_fashion_mnist(data_dir=None):
    """Fashion-MNIST like keras.datasets.fashion_mnist.load_data()."""
    return load("fashion_mnist", data_dir)


def source_of(name: str, data_dir=None) -> str:
    """Where `load(name)` would take its data from, without reading it all (for a look before
    loading; a run takes the source from load_dataset's provenance)."""
    spec = get_dataset(name)
    module = spec.loader.partition(":")[0]
    return resolve(f"{module}:source_of")(data_dir=data_dir, **dict(spec.options))


# Heavy names, imported on first use: tf.data pipelines need TensorFlow, the X/O generator numpy.
_LAZY = {"VALIDATION_SIZE": "zoo.data.pipeline", "eval_dataset": "zoo.data.pipeline",
         "split_validation": "zoo.data.pipeline", "training_stream": "zoo.data.pipeline",
         "load_xo": "zoo.data.xo", "make_xo": "zoo.data.xo", "load_fsdd": "zoo.data.fsdd"}


def __getattr__(name):
    if name in _LAZY:
        return resolve(f"{_LAZY[name]}:{name}")
    raise AttributeError(f"module 'zoo.data' has no attribute {name!r}")


__all__ = ["DATASETS", "DataError", "DatasetSpec", "ENV_VAR", "LoadedData", "Provenance",
           "data_root", "get_dataset", "list_datasets", "load", "load_dataset",
           "load_fashion_mnist", "load_mnist", "read_idx", "sha256_of", "source_of",
           *_LAZY]
