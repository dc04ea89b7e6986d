"""What the test processes of one session share. pytest-xdist (`make test`'s `-n 2`) runs the
session- and module-scoped fixtures in each of its processes, so work that several tests only
read (a weight exported in a format, Keras' answers on a whole test set) would be done once a
process. Here it is done once a session: by the first process that asks for it, under a file
lock, and read back from disk by the others (pytest-xdist's documented recipe, with fcntl's
lock for the filelock package).

Keras' answers are test_results.py's independent reader's: the manifest read as JSON, each file
loaded by Keras itself (safe mode), MNIST's test set read from the original IDX files with
numpy; nothing of zoo.weights or zoo.data, the code that wrote the cards."""

import fcntl
import gzip
import json
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "zoo" / "weights"


def session_folder(tmp_path_factory, name: str) -> Path:
    """A folder of this test session that all its processes see: under pytest-xdist, beside the
    workers' own temporary folders (their parent is the session's); else in this process's."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def alone(path: Path):
    """Holds the lock named after `path`; another process asking for it waits. The kernel lets
    it go when the file is closed, also when its holder dies."""
    with open(f"{path}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def write_once(path: Path, write) -> Path:
    """`path`, made by `write(temporary path)` unless a process of this session made it already;
    the temporary file is renamed onto `path` only once written."""
    with alone(path):
        if not path.exists():
            temp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
            write(temp)
            os.replace(temp, path)
    return path


def idx(path: Path) -> np.ndarray:
    """An IDX file read with numpy alone (not zoo.data): images (n, 28, 28) or labels (n,)."""
    raw = gzip.decompress(path.read_bytes())
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist_test_set() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test digits (uint8) and labels, from the original IDX files."""
    folder = Path(os.environ["ZOO_DATA_DIR"]) / "mnist"
    return idx(folder / "t10k-images-idx3-ubyte.gz"), idx(folder / "t10k-labels-idx1-ubyte.gz")


def keras_probabilities(file: Path, x: np.ndarray) -> np.ndarray:
    """The model in `file` loaded by Keras itself (safe mode), called on `x` in batches of
    1,000: its class probabilities."""
    import keras

    import zoo.layers  # noqa: F401  (registers the zoo's own layers with Keras)
    import zoo.models.ensemble  # noqa: F401

    model = keras.saving.load_model(file, safe_mode=True)
    return np.concatenate([np.asarray(model(x[i:i + 1000].astype("float32"), training=False))
                           for i in range(0, len(x), 1000)])


class KerasAnswers:
    """answers(weight) -> (its whole test set x, y, Keras' probabilities on x), computed once a
    session (keras_probabilities) and kept in memory by each process that reads them."""

    def __init__(self, folder: Path):
        self.folder, self.kept, self.test_sets = folder, {}, {}
        manifest = json.loads((WEIGHTS / "manifest.json").read_text())
        self.cards = {card["name"]: card for card in manifest}

    def test_set(self, dataset: str):
        if dataset not in self.test_sets:
            if dataset == "mnist":
                self.test_sets[dataset] = mnist_test_set()
            else:  # X/O and FSDD have no reader of their own (their cards: test_pretrained.py)
                import zoo.data

                self.test_sets[dataset] = zoo.data.load(dataset)[1]
        return self.test_sets[dataset]

    def __call__(self, name: str):
        if name not in self.kept:
            card = self.cards[name]
            x, y = self.test_set(card["dataset"])

            def write(temp):
                with open(temp, "wb") as f:
                    np.save(f, keras_probabilities(WEIGHTS / card["file"], x))

            self.kept[name] = x, y, np.load(write_once(self.folder / f"{name}.npy", write))
        return self.kept[name]
