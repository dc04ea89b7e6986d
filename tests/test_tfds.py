"""The path a user with internet takes: no local files, so zoo.data loads MNIST through
tensorflow-datasets, which downloads and prepares it. Here tfds downloads from a local HTTP server
holding the same original files (CI has no internet): everything else is the real tfds path."""

import contextlib
import functools
import http.server
import threading
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

import zoo.data
from zoo.data.fsdd import _folder as fsdd_folder


@pytest.fixture()
def mnist_over_http(monkeypatch, tmp_path):
    folder = zoo.data.source_of("mnist")  # the verified local copy, served as the internet would
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(tfds.image_classification.mnist.MNIST, "URL",
                        f"http://127.0.0.1:{server.server_port}/")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)  # no local copy: a set one must hold it
    yield server
    server.shutdown()


def test_without_local_files_mnist_comes_through_tensorflow_datasets(mnist_over_http, mnist):
    assert zoo.data.source_of("mnist") == "tensorflow-datasets"
    (x_train, y_train), (x_test, y_test) = zoo.data.load_mnist()
    mnist_over_http.shutdown()  # offline now: what tfds prepared loads without the network
    mnist_over_http.server_close()
    again = zoo.data.load_mnist()
    assert all(np.array_equal(a, b) for a, b in zip((*again[0], *again[1]),
                                                    (x_train, y_train, x_test, y_test)))
    (x_ref, y_ref), (xt_ref, yt_ref) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    # tfds may store the examples in another order: compare the (image, label) pairs as multisets
    assert pairs(x_train, y_train) == pairs(x_ref, y_ref)
    assert pairs(x_test, y_test) == pairs(xt_ref, yt_ref)
    # ... and a run tells the two apart when the order differs (its data_digest tag)
    from reproductions.run.prepare import arrays_digest
    same_order = np.array_equal(x_train, x_ref) and np.array_equal(y_train, y_ref)
    assert (arrays_digest((x_train, y_train)) == arrays_digest((x_ref, y_ref))) == same_order


def pairs(x, y):
    """Each (image, label) as one hashable digest, counted: equal iff the same examples."""
    import collections
    import hashlib

    assert len(x) == len(y)
    return collections.Counter(hashlib.sha256(img.tobytes() + bytes([int(lab)])).hexdigest()
                               for img, lab in zip(x, y, strict=True))


def test_pairs_tells_a_relabelled_image_apart():
    x = np.arange(2 * 4, dtype=np.uint8).reshape(2, 2, 2)
    assert pairs(x, np.array([0, 1])) == pairs(x[::-1], np.array([1, 0]))
    assert pairs(x, np.array([0, 1])) != pairs(x, np.array([1, 0]))


def test_offline_without_local_files_fails_in_seconds_saying_what_to_do(monkeypatch, tmp_path):
    # no internet: the download host cannot be reached (tfds itself would retry for minutes)
    monkeypatch.setattr(tfds.image_classification.mnist.MNIST, "URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                  "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    t0 = time.monotonic()
    with pytest.raises(zoo.data.DataError, match=r"no local copy of mnist and no internet to "
                                                 r"download it: 127\.0\.0\.1:9 cannot be reached"
                                                 r".*point ZOO_DATA_DIR at a folder holding"):
        zoo.data.load_mnist()
    assert time.monotonic() - t0 < 10
    assert not (tmp_path / "tfds").exists()  # nothing left behind


def test_a_failed_download_leaves_nothing_behind(monkeypatch, tmp_path):
    # the host answers but has no files (404): tfds creates its folders, then fails
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from tensorflow_datasets.core.download import downloader

    monkeypatch.setattr(downloader, "MAX_RETRIES", 0)
    monkeypatch.setattr(tfds.image_classification.mnist.MNIST, "URL",
                        f"http://127.0.0.1:{server.server_port}/nothing/")
    tfds_dir = tmp_path / "tfds"
    (tfds_dir / "other_dataset").mkdir(parents=True)  # a user's other data: kept
    monkeypatch.setenv("TFDS_DATA_DIR", str(tfds_dir))
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    try:
        with pytest.raises(zoo.data.DataError, match=r"could not load mnist through "
                                                     r"tensorflow-datasets"):
            zoo.data.load_mnist()
    finally:
        server.shutdown()
    assert sorted(p.name for p in tfds_dir.iterdir()) == ["other_dataset"]


def test_a_data_folder_that_holds_nothing_usable_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    with pytest.raises(zoo.data.DataError, match=rf"ZOO_DATA_DIR={tmp_path} holds no mnist files "
                                                 r".*or unset ZOO_DATA_DIR to download"):
        zoo.data.load_mnist()
    with pytest.raises(zoo.data.DataError, match=rf"ZOO_DATA_DIR={tmp_path} holds no FSDD "
                                                 r"recordings"):
        fsdd_folder(None)
    assert not (tmp_path / "tfds").exists() and not any(tmp_path.iterdir())


@contextlib.contextmanager
def serve_release(monkeypatch, tmp_path, speakers=None):
    """FSDD's release archive at a local address, as GitHub serves it, built from the verified
    local recordings (of `speakers` only, where given); zoo.data.fsdd downloads from there while
    the block runs. The server stops and the loader forgets what it read, on the way out."""
    import tarfile

    from zoo.data import fsdd

    archive = tmp_path / "www" / f"v{fsdd.RELEASE}.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for wav in sorted(fsdd._folder(None).glob("*.wav")):
            if speakers is None or wav.name.split("_")[1] in speakers:
                tar.add(wav, arcname=f"free-spoken-digit-dataset-{fsdd.RELEASE}/recordings/"
                                     f"{wav.name}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(archive.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(fsdd, "URL", f"http://127.0.0.1:{server.server_port}/{archive.name}")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)  # no local copy: a set one must hold it
    fsdd._records.cache_clear()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        fsdd._records.cache_clear()


@pytest.fixture()
def fsdd_over_http(monkeypatch, tmp_path):
    with serve_release(monkeypatch, tmp_path) as server:
        yield server


def test_without_local_files_fsdd_comes_through_tensorflow_datasets(fsdd, fsdd_over_http):
    """Release 1.0.10 (the 3,000 recordings zoo/data/fsdd_sha256.txt lists), downloaded and
    unpacked by tfds' download manager, gives the arrays of the local copy; once unpacked, it
    loads offline."""
    from zoo.data.fsdd import _records, load_fsdd

    assert zoo.data.source_of("fsdd") == "tensorflow-datasets"
    (x_train, y_train), (x_test, y_test) = load_fsdd()
    (x_ref, y_ref), (xt_ref, yt_ref) = fsdd
    for got, expected in ((x_train, x_ref), (y_train, y_ref), (x_test, xt_ref), (y_test, yt_ref)):
        np.testing.assert_array_equal(got, expected)
    fsdd_over_http.shutdown()
    fsdd_over_http.server_close()
    _records.cache_clear()
    np.testing.assert_array_equal(load_fsdd()[1][0], xt_ref)


def test_a_release_without_every_recording_is_refused(monkeypatch, tmp_path):
    """tfds' own spoken_digit is release 1.0.9: 2,500 recordings, lucas's missing. An archive
    like it is an error naming what is missing, never a smaller data set."""
    from zoo.data.fsdd import load_fsdd

    with serve_release(monkeypatch, tmp_path, speakers={"george", "jackson", "nicolas", "theo",
                                                         "yweweler"}):
        with pytest.raises(zoo.data.DataError, match="500 FSDD recordings missing, e.g. "
                                                     "0_lucas_0.wav"):
            load_fsdd()
