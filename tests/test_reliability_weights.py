"""Issue 17, item 10: the manifest cannot point outside the weights folder, sizes are checked
before hashing, a damaged manifest is a clear error, and what is loaded is what was hashed."""

import json
import shutil

import pytest

import zoo
from zoo import weights


def _manifest(tmp_path, change):
    entries = json.loads(weights.MANIFEST.read_text())
    change(entries[0])
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(entries))
    weights.cards.cache_clear()
    return path


@pytest.fixture(autouse=True)
def fresh_cards():
    weights.cards.cache_clear()
    yield
    weights.cards.cache_clear()


@pytest.mark.parametrize("file", ["../../x.keras", "/etc/shadow", "sub/softmax.keras", "..",
                                  "a\\b.keras", ""])
def test_a_file_outside_the_weights_folder_is_refused(tmp_path, file):
    path = _manifest(tmp_path, lambda e: e.update(file=file))
    with pytest.raises(zoo.WeightsError, match=r"file .* is not a plain file name inside "
                                               r".*zoo/weights; refused"):
        weights.cards(path)


@pytest.mark.parametrize("key, value, message", [
    ("size", "12", r"size '12' is not a positive number of bytes"),
    ("size", 0, r"size 0 is not a positive number"),
    ("sha256", "abc", r"sha256 'abc' is not a SHA256 digest"),
])
def test_malformed_fields_are_refused(tmp_path, key, value, message):
    path = _manifest(tmp_path, lambda e: e.update({key: value}))
    with pytest.raises(zoo.WeightsError, match=message):
        weights.cards(path)


def test_missing_field_is_named(tmp_path):
    path = _manifest(tmp_path, lambda e: e.pop("sha256"))
    with pytest.raises(zoo.WeightsError, match=r"lacks sha256; the manifest is damaged"):
        weights.cards(path)


def test_truncated_manifest_is_a_clear_error(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(weights.MANIFEST.read_text()[:500])
    with pytest.raises(zoo.WeightsError, match=r"manifest.json: not valid JSON .*truncated or "
                                               r"damaged: reinstall"):
        weights.cards(path)
    path.write_text('{"name": "x"}')
    with pytest.raises(zoo.WeightsError, match=r"expected a list of weight entries, found dict"):
        weights.cards(path)


def test_size_is_checked_before_hashing(tmp_path, monkeypatch):
    card = zoo.weight_info("softmax.mnist")
    copy = tmp_path / card.file
    shutil.copy(card.path, copy)
    with open(copy, "ab") as f:
        f.write(b"extra")

    def no_hashing(*args):
        raise AssertionError("hashed a file whose size is wrong")

    monkeypatch.setattr(weights.loading.hashlib, "sha256", no_hashing)
    with pytest.raises(zoo.WeightsError, match=rf"{card.size + 5} bytes where the manifest says "
                                               rf"{card.size}.*not loaded"):
        weights.load_file(copy, card.sha256, card.size)


def test_what_is_loaded_is_what_was_hashed(tmp_path, monkeypatch):
    # the file is swapped for another (valid) model right after its hash was checked: the load
    # must still give the checked model, not the swapped-in one
    card, other = zoo.weight_info("softmax.mnist"), zoo.weight_info("mlp5.mnist")
    copy = tmp_path / card.file
    shutil.copy(card.path, copy)
    real_check = weights.read_verified

    def check_then_swap(path, sha256, size=None):
        raw = real_check(path, sha256, size)
        shutil.copy(other.path, path)
        return raw

    monkeypatch.setattr(weights.loading, "read_verified", check_then_swap)  # load_file's
    model = weights.load_file(copy, card.sha256, card.size)
    assert model.count_params() == card.params  # softmax's 7,850, not mlp5's


def test_shipped_weights_still_load():
    assert zoo.load("softmax.mnist").count_params() == zoo.weight_info("softmax.mnist").params
