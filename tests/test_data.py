"""The data layer: real MNIST facts, Fashion-MNIST, and a clear error for every bad input."""

import gzip
import shutil

import numpy as np
import pytest

import zoo.data
from tests.conftest import first_idx_bytes
from zoo.data import DataError, read_idx
from zoo.data.mnist import FILES


def test_mnist_facts(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert round(float((x_train / 255).mean()), 4) == 0.1307
    assert round(float((x_train / 255).std()), 4) == 0.3081


def test_mnist_comes_from_the_verified_local_files():
    assert zoo.data.source_of("mnist") != "tensorflow-datasets"


def test_fashion_mnist():
    (x_train, y_train), (x_test, y_test) = zoo.data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # ankle boot, T-shirt, ...


def test_validation_split_is_fixed_and_disjoint(mnist):
    (x, y), _ = mnist
    (xt, yt), (xv, yv) = zoo.data.split_validation(x, y)
    (_, _), (xv2, _) = zoo.data.split_validation(x, y)
    assert len(xv) == 5000 and len(xt) == 55000
    np.testing.assert_array_equal(xv, xv2)
    assert np.sort(np.concatenate([yt, yv])).tolist() == np.sort(y).tolist()


def test_training_stream_resumes_at_the_same_batch(mnist):
    (x, y), _ = mnist
    x, y = x[:1000], y[:1000]
    full = [b.numpy() for b, _ in zoo.data.training_stream(x, y, 100, seed=3).take(25)]
    rest = [b.numpy() for b, _ in zoo.data.training_stream(x, y, 100, seed=3,
                                                           skip_batches=12).take(13)]
    for a, b in zip(full[12:], rest):
        np.testing.assert_array_equal(a, b)
    other = next(iter(zoo.data.training_stream(x, y, 100, seed=4)))[0].numpy()
    assert not np.array_equal(full[0], other)


def test_a_stream_of_single_images_is_the_batched_order_one_by_one_and_resumes(mnist):
    """Batches of one (LeNet-5's SDLM) are gathered a block at a time: the same images in the
    same order as batches of two, read one by one, across passes and a resumption."""
    (x, y), _ = mnist
    x, y = x[:1500], y[:1500]
    for reshuffle in (True, False):
        pairs = [b.numpy() for b, _ in zoo.data.training_stream(x, y, 2, 7, reshuffle).take(1600)]
        ones = [b.numpy() for b, _ in zoo.data.training_stream(x, y, 1, 7, reshuffle).take(3200)]
        np.testing.assert_array_equal(np.concatenate(ones), np.concatenate(pairs))
        later = [b.numpy() for b, _ in zoo.data.training_stream(
            x, y, 1, 7, reshuffle, skip_batches=1700).take(5)]
        np.testing.assert_array_equal(np.concatenate(later), np.concatenate(ones[1700:1705]))


def test_shifted_stream_moves_each_image_by_whole_pixels_and_resumes_exactly(mnist):
    (x, y), _ = mnist
    x, y = x[:1000], y[:1000]
    plain = [b.numpy() for b, _ in zoo.data.training_stream(x, y, 100, seed=3).take(3)]
    shifted = [b.numpy() for b, _ in zoo.data.training_stream(x, y, 100, seed=3,
                                                              shift=2).take(3)]
    moves = set()
    for before, after in zip(np.concatenate(plain), np.concatenate(shifted)):
        padded = np.pad(before, 2)
        # the shifted image is one of the 25 windows of the zero-padded original
        found = [(dy, dx) for dy in range(5) for dx in range(5)
                 if np.array_equal(padded[dy:dy + 28, dx:dx + 28], after)]
        assert found, "a shifted image is not a whole-pixel move of its original"
        moves.update(found)
    assert len(moves) == 25  # 300 images draw every move in [-2, 2] x [-2, 2]
    rest = next(iter(zoo.data.training_stream(x, y, 100, seed=3, shift=2, skip_batches=2)))
    np.testing.assert_array_equal(rest[0].numpy(), shifted[2])


def test_pipelines_run_without_tf_data_autotuning(mnist):
    """Autotuning made fit() wait up to 60 s after its last step (see zoo/data/pipeline.py)."""
    (x, y), _ = mnist
    for dataset in (zoo.data.training_stream(x[:200], y[:200], 100, seed=1),
                    zoo.data.eval_dataset(x[:200], y[:200])):
        assert dataset.options().autotune.enabled is False


@pytest.fixture()
def mnist_copy(tmp_path):
    """A private copy of the four MNIST files, to damage."""
    source = zoo.data.source_of("mnist")
    for f in FILES:
        shutil.copy(f"{source}/{f}", tmp_path / f)
    return tmp_path


def test_wrong_magic_is_refused(tmp_path):
    path = tmp_path / "images.gz"
    data = bytearray(first_idx_bytes(np.zeros((2, 3, 3))))
    data[2] = 0x09  # signed bytes, not unsigned
    path.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(DataError, match=r"images\.gz: bad magic number 0x00000903"):
        read_idx(path, 3)


def test_length_mismatch_is_refused(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(first_idx_bytes(np.zeros((2, 3, 3)))[:-1])
    with pytest.raises(DataError, match=r"images: length mismatch.*\(2, 3, 3\)"):
        read_idx(path, 3)


def test_truncated_train_images_names_the_file(mnist_copy):
    path = mnist_copy / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5_000_000])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: SHA256 mismatch"):
        zoo.data.load_mnist(mnist_copy)
    # the reader alone (no checksum) also refuses it, and names the file
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: not a complete gzip"):
        read_idx(path, 3)


def test_wrong_sha256_names_expected_and_actual(mnist_copy):
    path = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: SHA256 mismatch, expected "
                                        r"f7ae60f9\w+, got [0-9a-f]{64}"):
        zoo.data.load_mnist(mnist_copy)


def test_missing_file_is_named(mnist_copy):
    (mnist_copy / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: file not found"):
        zoo.data.load_mnist(mnist_copy)


def test_data_dir_that_is_not_a_folder(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        zoo.data.load_mnist(tmp_path / "nowhere")


def test_folder_of_another_dataset_is_passed_over(mnist_copy, monkeypatch):
    """ZOO_DATA_DIR pointing at MNIST does not break Fashion-MNIST: the folder is skipped."""
    monkeypatch.setenv("ZOO_DATA_DIR", str(mnist_copy))
    assert zoo.data.source_of("fashion_mnist") != str(mnist_copy)


def test_loading_returns_the_arrays_with_their_provenance():
    loaded = zoo.data.load_dataset("mnist")
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (60_000, 28, 28) and len(y_test) == 10_000
    assert loaded.provenance.source == zoo.data.source_of("mnist") != "tensorflow-datasets"
    assert loaded.provenance.digest.startswith("train-images-idx3-ubyte.gz=440fcabf")


def test_generated_data_carries_the_digest_its_weights_were_trained_on():
    import zoo.weights

    loaded = zoo.data.load_dataset("xo")
    assert loaded.provenance.digest == zoo.weights.cards()["xo.generated"].data_sha256
    assert "seed=9002" in loaded.provenance.source


def test_data_sets_are_registered_facts():
    spec = zoo.data.get_dataset("fsdd/loso-theo")
    assert (spec.family, spec.holdout, spec.is_fold, spec.input_kind) == \
        ("fsdd", "theo", True, "audio")
    assert zoo.data.get_dataset("fashion_mnist").classes[9] == "Ankle boot"
    assert set(zoo.data.get_dataset("fsdd").folds) == {
        n for n in zoo.data.list_datasets() if zoo.data.get_dataset(n).is_fold}
    with pytest.raises(DataError, match=r"unknown dataset 'fsdd/loso-alice'.*Known:"):
        zoo.data.get_dataset("fsdd/loso-alice")


def test_one_resolver_for_zoo_data_dir(tmp_path, monkeypatch):
    from zoo.data.fsdd import _folder

    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "missing"))
    for look in (lambda: zoo.data.source_of("mnist"), lambda: _folder(None)):
        with pytest.raises(DataError, match=r"ZOO_DATA_DIR=.*missing is not a folder"):
            look()
    monkeypatch.delenv("ZOO_DATA_DIR")
    assert zoo.data.data_root() is None
    assert zoo.data.data_root(tmp_path) == tmp_path
