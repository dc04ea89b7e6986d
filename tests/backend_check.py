"""Run by tests/test_backends.py inside .venv-backends (keras with JAX or PyTorch, and no
TensorFlow installed), with KERAS_BACKEND set: what a JAX or PyTorch user of the zoo does.

Loads every shipped weight with zoo's own loader (SHA256-checked, safe_mode) and counts its
correct answers on its test set: MNIST through zoo's IDX reader (ZOO_DATA_DIR), X/O from
zoo.data.xo (numpy), FSDD from the spectrograms in --fsdd (zoo computes them with TensorFlow's
signal ops, which this venv lacks, so the test computes them in the main venv and hands them
over). Also checks that FusedBatchNormalization, which uses a TensorFlow kernel when it can,
trains through Keras' own path here. Prints one JSON line.
"""

import argparse
import importlib.util
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fsdd", required=True, help=".npz with x, y: FSDD's test spectrograms")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("tensorflow") is not None:
        print("error: TensorFlow is installed in this venv; the check needs a venv without it",
              file=sys.stderr)
        return 2

    import keras
    import numpy as np

    import zoo
    import zoo.data
    from zoo.layers import FusedBatchNormalization

    (_, _), mnist_test = zoo.data.load_mnist()
    with np.load(args.fsdd) as fsdd:
        tests = {"mnist": mnist_test, "xo": zoo.data.load_xo()[1], "fsdd": (fsdd["x"], fsdd["y"])}
    weights = {}
    for name in zoo.list_weights():
        x, y = tests[zoo.weight_info(name).dataset]
        pred = zoo.load(name).predict(x, batch_size=1000, verbose=0).argmax(axis=1)
        weights[name] = {"correct": int(np.sum(pred == y)), "n": int(len(y))}

    # FusedBatchNormalization without TensorFlow: Keras' path, the same numbers as Keras' layer
    batch = np.random.default_rng(0).normal(2.0, 3.0, size=(16, 5, 5, 4)).astype("float32")
    fused = FusedBatchNormalization(momentum=0.9)
    plain = keras.layers.BatchNormalization(momentum=0.9)
    out_fused, out_plain = fused(batch, training=True), plain(batch, training=True)
    to_numpy = keras.ops.convert_to_numpy
    bn_diff = max(float(np.max(np.abs(to_numpy(a) - to_numpy(b))))
                  for a, b in ((out_fused, out_plain), (fused.moving_mean, plain.moving_mean),
                               (fused.moving_variance, plain.moving_variance)))
    # and a training step of the net that uses it
    model = zoo.create_model("conv3_bn_small")
    model.compile("adam", "sparse_categorical_crossentropy")
    loss = float(model.train_on_batch(mnist_test[0][:64].astype("float32"), mnist_test[1][:64]))

    print(json.dumps({"backend": keras.backend.backend(), "weights": weights,
                      "fused_bn_max_diff": bn_diff, "train_loss": loss,
                      "tensorflow_imported": "tensorflow" in sys.modules}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
