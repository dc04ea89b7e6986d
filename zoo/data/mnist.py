"""MNIST and Fashion-MNIST as uint8 arrays, from verified local files or tensorflow-datasets.

Sources, in order:
  1. a folder given as `data_dir`, else the ZOO_DATA_DIR environment variable (zoo.data.root):
     the four original
     .gz files, either in <folder>/<dataset>/ (e.g. <folder>/mnist/) or in the folder itself, each
     checked against the SHA256 of the original file before it is read;
  2. for Fashion-MNIST, Debian's package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist);
  3. tensorflow-datasets, which downloads on a machine with internet and caches in ~/tensorflow_datasets.
A folder whose files are another known dataset (ZOO_DATA_DIR pointing at MNIST while Fashion-MNIST
is asked for) is passed over; any other mismatch is an error naming expected and actual hashes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from zoo.data.download import check_online, nothing_left_on_failure, tfds_data_dir
from zoo.data.idx import DataError, read_idx, sha256_of
from zoo.data.root import ENV_VAR, data_root

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

# SHA256 of the original files: the same bytes tensorflow-datasets downloads and checks
# (its url_checksums/mnist.txt and fashion_mnist checksums list these values).
SHA256 = {
    "mnist": dict(zip(FILES, (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ))),
    "fashion_mnist": dict(zip(FILES, (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ))),
}
# SHA256 of the uncompressed IDX bytes, for copies compressed anew: Debian's dataset-fashion-mnist
# re-gzips the upstream files (other .gz bytes, the same IDX bytes). MNIST's come from the
# original files; Fashion-MNIST's from Debian's package (0.0~git20200523.55506a9-1), whose sizes
# match the upstream IDX sizes.
PAYLOAD_SHA256 = {
    "mnist": dict(zip(FILES, (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ))),
    "fashion_mnist": dict(zip(FILES, (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ))),
}
DEBIAN_DIRS = {"fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}


def data_sha256(name: str) -> str:
    """One line naming the four files' SHA256, for run tags; whichever source, the bytes agree."""
    return " ".join(f"{f}={h}" for f, h in SHA256[name].items())


def _candidate_dirs(name: str, data_dir):
    root = data_root(data_dir)
    dirs = [root / name, root] if root else []
    dirs += [DEBIAN_DIRS[name]] if name in DEBIAN_DIRS else []
    return [d for d in dirs if any((d / f).exists() for f in FILES)]


def _payload_sha256(path: Path) -> str | None:
    try:
        with gzip.open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        return None


def _verify(name: str, folder: Path) -> bool:
    """True if `folder` holds dataset `name`; False if it holds another known dataset."""
    for f in FILES:
        path = folder / f
        if not path.is_file():
            raise DataError(f"{path}: file not found; {folder} must hold all of {', '.join(FILES)}")
        actual = sha256_of(path)
        if actual == SHA256[name][f]:
            continue
        payload = _payload_sha256(path)  # a re-compressed copy of the same IDX bytes is fine
        if payload == PAYLOAD_SHA256[name][f]:
            continue
        if any(h in (SHA256[other][f], PAYLOAD_SHA256[other][f])
               for other in SHA256 if other != name for h in (actual, payload)):
            return False
        raise DataError(f"{path}: SHA256 mismatch, expected {SHA256[name][f]}, got {actual}; "
                        f"this is not the original {name} file (truncated, corrupt or altered): "
                        "fetch it again")
    return True


def _read_folder(folder: Path):
    x_train, y_train, x_test, y_test = (read_idx(folder / f, 3 if "images" in f else 1)
                                        for f in FILES)
    for x, y, f in ((x_train, y_train, FILES[0]), (x_test, y_test, FILES[2])):
        if len(x) != len(y):
            raise DataError(f"{folder / f}: {len(x)} images but {len(y)} labels")
    return (x_train, y_train), (x_test, y_test)


def _offline_help(name: str) -> str:
    return (f"Offline, point {ENV_VAR} at a folder holding the four original files "
            f"({', '.join(FILES)}) in {name}/ or in the folder itself, e.g. export "
            f"{ENV_VAR}=../shared/data")


def _from_tfds(name: str):
    import tensorflow_datasets as tfds

    builder = {"mnist": tfds.image_classification.MNIST,
               "fashion_mnist": tfds.image_classification.FashionMNIST}[name]
    # prepared by an earlier download: tfds reads it offline; else try the host first, seconds
    # instead of tfds' minutes of retries
    if not tfds.builder(name, data_dir=os.environ.get("TFDS_DATA_DIR")).is_prepared():
        check_online(name, builder.URL, _offline_help(name))
    try:
        with nothing_left_on_failure(tfds_data_dir()):
            # TFDS_DATA_DIR read now, not when tfds was imported
            train, test = tfds.as_numpy(tfds.load(name, split=["train", "test"], batch_size=-1,
                                                  as_supervised=True,
                                                  data_dir=os.environ.get("TFDS_DATA_DIR")))
    except Exception as err:  # tfds raises many kinds when offline; all mean the same to a user
        raise DataError(
            f"could not load {name} through tensorflow-datasets ({type(err).__name__}: {err}). "
            f"{_offline_help(name)}") from err
    return ((train[0][..., 0], train[1].astype(np.uint8)),
            (test[0][..., 0], test[1].astype(np.uint8)))


def source_of(name: str, data_dir=None) -> str:
    """Where `load(name, data_dir)` takes its data from: a folder, or "tensorflow-datasets".

    A data folder that is given (data_dir or ZOO_DATA_DIR) but holds no copy of `name` is an
    error, not a quiet download: the user meant that folder."""
    for folder in _candidate_dirs(name, data_dir):
        if _verify(name, folder):
            return str(folder)
    root = data_root(data_dir)
    if root is not None:
        origin = "data_dir" if data_dir is not None else ENV_VAR
        raise DataError(f"{origin}={root} holds no {name} files (looked for {', '.join(FILES)} "
                        f"in {root / name} and {root}): put them there, or unset {origin} to "
                        "download through tensorflow-datasets")
    return "tensorflow-datasets"


def load_split(data_dir=None, *, name: str):
    """(train, test, source, digest): the arrays, images of shape (n, 28, 28), where they came
    from, and the files' SHA256 (whichever the source, the bytes agree: the folder's files are
    verified against them, tensorflow-datasets checks the same ones)."""
    if name not in SHA256:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(SHA256)}")
    source = source_of(name, data_dir)
    train, test = _from_tfds(name) if source == "tensorflow-datasets" else \
        _read_folder(Path(source))
    return train, test, source, data_sha256(name)
