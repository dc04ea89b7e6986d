"""A run's data as MLflow datasets (mlflow.log_input): the UI's Dataset column, its dataset
filter and its run comparison show what each run trained, validated and was tested on.

Each part (context "training", "validation", "test") is a NumpyDataset named
"<data set>-<context>" (mnist-training), its source where the data was read from (a folder, or
tensorflow-datasets, or how generated data was drawn), its schema (dtype and shape of images and
labels) and its profile (rows). Its digest is not recomputed from the arrays (MLflow would hash
them again): it derives from the identity the run is already tagged with, `data_sha256` (the
files' SHA256, see zoo.data), which the input also carries verbatim as its tag. MLflow keeps at
most 36 characters of a digest, so the digest is the first 16 hex digits of SHA256 over that
identity, the context and the number of rows: two runs show the same digest exactly when they
saw the same part of the same files.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from pathlib import Path

import mlflow
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.numpy_dataset import NumpyDataset

CONTEXTS = ("training", "validation", "test")


def part_digest(identity: str, context: str, rows: int) -> str:
    return hashlib.sha256(f"{identity}\n{context}\n{rows}".encode()).hexdigest()[:16]


def _source(text: str):
    if Path(text).exists():
        from mlflow.data.dataset_source_registry import resolve_dataset_source

        with warnings.catch_warnings():
            # MLflow 3.17 registers its local-file source twice, then warns that a path "can be
            # interpreted in multiple ways" (both are LocalArtifactDatasetSource)
            warnings.filterwarnings("ignore", "The specified dataset source can be interpreted")
            return resolve_dataset_source(text)
    return CodeDatasetSource(tags={"source": text})  # not a path: where it came from, in words


def datasets(dataset: str, source: str, identity: str, parts: dict) -> list[tuple]:
    """[(NumpyDataset, context)] for `parts` ({context: (x, y) or None}); empty parts (no
    validation split) are left out."""
    out = []
    for context in CONTEXTS:
        part = parts.get(context)
        if part is None or len(part[0]) == 0:
            continue
        x, y = part
        out.append((NumpyDataset(x, _source(source), targets=y, name=f"{dataset}-{context}",
                                 digest=part_digest(identity, context, len(x))), context))
    return out


def log_datasets(provenance, parts: dict) -> float:
    """Log the parts of data with `provenance` (zoo.data.Provenance) as the active run's inputs,
    each tagged with the full data identity; returns the seconds it took (bench-logging)."""
    t0 = time.perf_counter()
    identity = provenance.digest
    found = datasets(provenance.dataset, provenance.source, identity, parts)
    mlflow.log_inputs([d for d, _ in found], contexts=[c for _, c in found],
                      tags_list=[{"data_sha256": identity}] * len(found))
    return time.perf_counter() - t0
