"""A shipped model for other runtimes: TensorFlow SavedModel, ONNX and LiteRT (TFLite).

    zoo export conv3_bn.mnist --format onnx --out exports/     # -> exports/conv3_bn.mnist.onnx

Everything goes through Keras 3's own export (`keras.export.ExportArchive`, what
`model.export(format="tf_saved_model")` uses, and `model.export(format="onnx" | "litert")`), on
the TensorFlow backend: Keras exports ONNX with tf2onnx there and LiteRT with TensorFlow's
converter. The exported model takes its input as the zoo's model does (MNIST nets: raw uint8
pixels of shape (n, 28, 28), the scaling inside; the audio net: float32 log-mel spectrograms
(n, 64, 61); the X/O nets: float32 (n, 9, 9) in {-1, +1}), with a dynamic batch axis, and
answers the class probabilities (n, classes). The weight's card (name, classes in output order,
input, SHA256 of the .keras file it came from, test accuracy, license) travels with it:

- SavedModel: a second endpoint, `metadata()`, returns the card as a JSON string (the model's
  own endpoint is `serve`, also the `serving_default` signature);
- ONNX: the model's `metadata_props` (keys `classes`, a JSON list, and `zoo_card`), and the
  batch axis is named `batch`;
- LiteRT: a metadata entry `zoo_card` of the flatbuffer (the slot TFLite files keep for such
  data; `read_metadata` reads it back); the signature is `serving_default`.

The export is written whole or not at all (zoo.files): to a temporary file or folder beside
its target, the card added there, then renamed onto the target; a full disk or a folder that
refuses writes leaves the previous export as it was and is a WriteError naming the path.

`runtime(path)` opens an export with its own runtime (tf.saved_model.load, onnxruntime, the
LiteRT interpreter of ai-edge-litert) and returns a function from inputs to probabilities: the
parity test and `python -m reproductions bench-export` use it.
"""

from __future__ import annotations

import errno
import json
import warnings
from pathlib import Path

from zoo import files

FORMATS = ("saved_model", "onnx", "litert")
SUFFIX = {"saved_model": ".saved_model", "onnx": ".onnx", "litert": ".tflite"}
CARD_KEY = "zoo_card"


class ExportError(ValueError):
    """An export that cannot be made or read: unknown format, wrong backend, unreadable file."""


def output_path(name: str, fmt: str, out_dir: str | Path) -> Path:
    """Where `export` writes weight `name` in format `fmt`: <out_dir>/<name><suffix>."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return Path(out_dir) / f"{name}{SUFFIX[fmt]}"


def input_dtype(input_kind: str) -> str:
    """The dtype a zoo model of this input kind takes outside Keras (exports, MLflow
    signatures): MNIST pictures as raw uint8 pixels (the scaling is inside), others float32."""
    return "uint8" if input_kind == "mnist" else "float32"


def input_spec(model, input_kind: str):
    """The keras.InputSpec of a zoo model as it takes its input: its dtype, a free batch axis,
    the model's own input name."""
    import keras

    return keras.InputSpec(shape=(None,) + tuple(model.input_shape[1:]),
                           dtype=input_dtype(input_kind), name=model.inputs[0].name)


def metadata(card, spec) -> dict:
    """What travels inside an export: from the weight's card (zoo.weights.WeightCard), its
    classes in output order, its input as the export takes it."""
    return {
        "name": str(card.name),
        "classes": list(card.classes),
        "input": {"name": spec.name, "dtype": spec.dtype,
                  "shape": [-1] + list(spec.shape[1:]), "description": card.input},
        "output": f"class probabilities (n, {len(card.classes)}), in the order of classes",
        "weights_sha256": card.sha256,
        "test_accuracy": card.test_accuracy,
        "dataset": card.dataset,
        "license": card.license,
    }


def export(name: str, fmt: str, out_dir: str | Path) -> Path:
    """Export shipped weight `name` ("conv3_bn.mnist") in format `fmt` into `out_dir`;
    returns the path written (a folder for saved_model, a file otherwise), replacing an earlier
    export only once the new one is complete; WriteError (zoo.files) if it cannot be written."""
    import keras

    import zoo

    card = zoo.weight_info(name)  # WeightsError for an unknown name, before anything is done
    path = output_path(str(card.name), fmt, out_dir)
    if keras.backend.backend() != "tensorflow":
        raise ExportError(f"export runs on Keras' TensorFlow backend (KERAS_BACKEND is "
                          f"{keras.backend.backend()!r}): Keras exports LiteRT and ONNX through "
                          "TensorFlow; run it in the zoo's main venv (requirements.txt)")
    files.make_folder(path.parent)  # an --out that is a file: refused before the model loads
    model = zoo.load(str(card.name))
    spec = input_spec(model, card.input_kind)
    meta = metadata(card, spec)
    text = json.dumps(meta)
    # the whole export, the card included, on the temporary path: the target changes only once
    # it is complete
    with files.atomic_path(path, folder=fmt == "saved_model") as temp:
        if fmt == "saved_model":
            _saved_model(model, spec, text, temp, path)
        elif fmt == "onnx":
            with warnings.catch_warnings():
                # Keras' numpy-2 patch of tf2onnx probes np.object, which numpy warns about
                warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
                model.export(str(temp), format="onnx", input_signature=[spec], verbose=False)
            _onnx_metadata(temp, meta, text)
        else:
            model.export(str(temp), format="litert", input_signature=[spec], verbose=False)
            _litert_metadata(temp, text)
    return path


def _saved_model(model, spec, text, folder, target):
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    # "serve" first: the first endpoint is also the SavedModel's serving_default signature
    archive.track_and_add_endpoint("serve", model, [spec])
    archive.add_endpoint("metadata", lambda: tf.constant(text), input_signature=[])
    try:
        archive.write_out(str(folder), verbose=False)
    except (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError) as err:
        # TensorFlow writes through its own file layer, which turns ENOSPC and EACCES into
        # these instead of an OSError
        cause = errno.ENOSPC if isinstance(err, tf.errors.ResourceExhaustedError) else errno.EACCES
        raise files.WriteError(target, OSError(cause, err.message)) from err


def _onnx_metadata(path, meta, text):
    import onnx

    proto = onnx.load(str(path))
    # tf2onnx names the free batch axis "unk__N": give it a name a reader understands
    for value in list(proto.graph.input) + list(proto.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        if not dim.HasField("dim_value"):
            dim.dim_param = "batch"
    onnx.helper.set_model_props(proto, {"classes": json.dumps(meta["classes"]), CARD_KEY: text})
    proto.doc_string = f"ConvNet Zoo {meta['name']}: {meta['output']}"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def _litert_metadata(path, text):
    import numpy as np
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    buffer = flatbuffer_utils.schema_fb.BufferT()
    buffer.data = np.frombuffer(text.encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = flatbuffer_utils.schema_fb.MetadataT()
    entry.name, entry.buffer = CARD_KEY, len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [entry]
    flatbuffer_utils.write_model(model, str(path))


def format_of(path: str | Path) -> str:
    path = Path(path)
    for fmt, suffix in SUFFIX.items():
        if path.name.endswith(suffix):
            return fmt
    raise ExportError(f"{path}: not a zoo export (expected a name ending in "
                      f"{', '.join(SUFFIX.values())})")


def read_metadata(path: str | Path) -> dict:
    """The card stored inside an export, read with the format's own tools."""
    path, fmt = Path(path), format_of(path)
    if fmt == "saved_model":
        import tensorflow as tf

        return json.loads(tf.saved_model.load(str(path)).metadata().numpy().decode())
    if fmt == "onnx":
        import onnx

        props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        return json.loads(props[CARD_KEY])
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    for entry in model.metadata or []:
        name = entry.name.decode() if isinstance(entry.name, bytes) else entry.name
        if name == CARD_KEY:
            return json.loads(bytes(model.buffers[entry.buffer].data).decode())
    raise ExportError(f"{path}: no {CARD_KEY} metadata")


def runtime(path: str | Path):
    """predict(x) -> probabilities, running the export at `path` with its format's own runtime
    (no Keras): tf.saved_model.load, onnxruntime, or ai-edge-litert's interpreter."""
    path, fmt = Path(path), format_of(path)
    if fmt == "saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        return lambda x: loaded.serve(x).numpy()
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name
        return lambda x: session.run(None, {input_name: x})[0]
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from zoo.quiet import later_chatter_filtered

    interpreter = Interpreter(model_path=str(path))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    shape = [None]

    def predict(x):
        if shape[0] != x.shape:  # the batch axis is free: resize only when it changes
            interpreter.resize_tensor_input(inp["index"], list(x.shape))
            # the process's first allocation prints LiteRT's XNNPACK line from C++: dropped in
            # a command (zoo/quiet.py), left alone for a library's caller
            with later_chatter_filtered():
                interpreter.allocate_tensors()
            shape[0] = x.shape
        interpreter.set_tensor(inp["index"], np.ascontiguousarray(x, dtype=inp["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(out["index"]).copy()

    return predict
