"""Data for the zoo: verified MNIST and Fashion-MNIST, the validation split, tf.data pipelines."""

from zoo.data.idx import DataError, read_idx, sha256_of
from zoo.data.mnist import data_sha256, load, load_fashion_mnist, load_mnist, source_of
from zoo.data.pipeline import (VALIDATION_SIZE, eval_dataset, split_validation,
                               training_stream)

__all__ = ["DataError", "read_idx", "sha256_of", "data_sha256", "load", "load_mnist",
           "load_fashion_mnist", "source_of", "VALIDATION_SIZE", "eval_dataset",
           "split_validation", "training_stream"]
