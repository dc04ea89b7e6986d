"""A shipped picture weight answered by ONNX Runtime, from an export cached per user: what makes
`zoo predict digit.png` answer in a fraction of a second instead of the seconds TensorFlow
takes to import (reproductions/results/bench_cli.md).

    predict = onnx_predictor(zoo.weight_info("conv3_bn.mnist"))   # builds the export once
    probabilities = predict(pixels[None])                           # uint8 (n, 28, 28)

The first use of a weight exports it with Keras (`zoo.export`, ONNX through tf2onnx: TensorFlow
is imported that once: a few seconds, `make bench-cli`) into the cache folder: $ZOO_CACHE_DIR, else
$XDG_CACHE_HOME/convnet-zoo, else ~/.cache/convnet-zoo. Later calls import only numpy, Pillow
and onnxruntime. A cached file is named after the SHA256 of the .keras file it came from (a new
weight never meets an old export), is written whole or not at all (a temporary file, then an
atomic rename: two processes building at once each leave a complete file), and is used only if
its own SHA256 matches the one recorded beside it when it was built and the card inside it names
the same weight file; otherwise it is built again from the verified .keras file.

`zoo predict` keeps recordings on the Keras path: their spectrogram is TensorFlow's (zoo.audio),
so a WAV needs TensorFlow whatever runs the net. The model server (tracking/pyfunc.py) runs every
shipped weight from its export, spectrograms included: there the input arrives as an array.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

CACHE_ENV = "ZOO_CACHE_DIR"
FAST_KINDS = ("mnist",)  # input kinds whose preprocessing needs no TensorFlow (zoo.images)


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "convnet-zoo"


def cached_path(card) -> Path:
    """Where weight `card`'s ONNX export lives: its name and the first 16 hex digits of the
    SHA256 of the .keras file it is exported from."""
    return cache_dir() / "onnx" / f"{card.name}-{card.sha256[:16]}.onnx"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _session(path: Path, card, threads: int | None = None):
    """An InferenceSession on `path` if the file is whole and exported from `card`'s weight;
    else None (the caller rebuilds it). `threads`: ONNX Runtime's intra-op threads (None: its
    default, one per core)."""
    import onnxruntime

    from zoo.export import CARD_KEY

    stamp = path.with_suffix(".sha256")
    if not (path.is_file() and stamp.is_file()):
        return None
    if stamp.read_text().strip() != _sha256(path):
        return None  # damaged or changed since it was built
    try:
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = options.inter_op_num_threads = threads
        session = onnxruntime.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])
        meta = json.loads(session.get_modelmeta().custom_metadata_map[CARD_KEY])
    except Exception:  # noqa: BLE001 - any unreadable file is rebuilt, never trusted
        return None
    if meta.get("weights_sha256") != card.sha256 or meta.get("name") != str(card.name):
        return None
    return session


def build(card) -> Path:
    """Export `card`'s weight to ONNX into the cache, atomically; returns the cached path.
    The .keras file is verified against the card's SHA256 on the way (zoo.load)."""
    from zoo.export import export
    from zoo.quiet import import_keras_quietly

    import_keras_quietly()
    target = cached_path(card)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as tmp:
        written = export(str(card.name), "onnx", tmp)
        stamp = Path(tmp) / "stamp"
        stamp.write_text(_sha256(written) + "\n")
        # the stamp first: a reader that finds the new file and the old stamp rebuilds, never
        # trusts a file whose stamp it has not checked
        os.replace(stamp, target.with_suffix(".sha256"))
        os.replace(written, target)
    return target


def onnx_predictor(card, on_build=None, threads: int | None = None):
    """predict(x) -> class probabilities for weight `card` (a zoo.weights.WeightCard), its input
    as the export takes it (zoo.export), run by ONNX Runtime from the cached export;
    `on_build(card)` is called before an export has to be built (the caller says why this call is
    slow); `threads`: ONNX Runtime's threads (the model server runs one per worker)."""
    path = cached_path(card)
    session = _session(path, card, threads)
    if session is None:
        if on_build is not None:
            on_build(card)
        session = _session(build(card), card, threads)
        if session is None:  # built just now, and still not readable: say so, do not loop
            from zoo.export import ExportError

            raise ExportError(f"{path}: the ONNX export just built does not load; run "
                              "`zoo predict --keras` meanwhile, and report it")
    input_name = session.get_inputs()[0].name
    return lambda x: session.run(None, {input_name: x})[0]
