"""`xo_lecture` reproduces the lecture's X/O numbers exactly (REFERENCE.md, section 1)."""

import keras
import numpy as np
import pytest

import zoo
from zoo.models.xo import FEATURES, O_IMAGE, X_IMAGE

# Pooled maps of the X after ReLU, as the slides print them (truncated to 2 decimals).
PRINTED_X_POOLED = {
    "diagonal": [[1, .33, .55, .33], [.33, 1, .33, .55], [.55, .33, 1, .11], [.33, .55, .11, .77]],
    "cross": [[.55, .33, .55, .33], [.33, 1, .55, .11], [.55, .55, .55, .11], [.33, .11, .11, .33]],
    "anti_diagonal": [[.33, .55, 1, .77], [.55, .55, 1, .33], [1, 1, .11, .55],
                      [.77, .33, .55, .33]],
}


def mean_of_products(image, feature):
    """The lecture's convolution, written out: the mean of the 9 products per valid window."""
    return np.array([[np.mean(image[r:r + 3, c:c + 3] * feature) for c in range(7)]
                     for r in range(7)])


def pool_keeping_edges(m):
    return np.array([[m[r:r + 2, c:c + 2].max() for c in range(0, 7, 2)] for r in range(0, 7, 2)])


@pytest.fixture(scope="module")
def stages():
    model = zoo.create_model("xo_lecture")
    names = ("features", "relu", "pool", "vote")
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    outputs = probe.predict(np.stack([X_IMAGE, O_IMAGE]), verbose=0)
    return dict(zip(names, outputs))


@pytest.mark.parametrize("image_index,image", [(0, X_IMAGE), (1, O_IMAGE)])
@pytest.mark.parametrize("f", range(3))
def test_filtered_maps_are_k_over_9(stages, image_index, image, f):
    feature = list(FEATURES.values())[f]
    maps = stages["features"][image_index, :, :, f]
    k = maps * 9
    np.testing.assert_allclose(k, np.round(k), atol=1e-5)  # every value is k/9
    np.testing.assert_allclose(maps, mean_of_products(image, feature), atol=1e-6)
    relu = stages["relu"][image_index, :, :, f]
    np.testing.assert_allclose(relu, np.maximum(maps, 0), atol=1e-6)
    pooled = stages["pool"][image_index, :, :, f]
    np.testing.assert_allclose(pooled, pool_keeping_edges(np.maximum(maps, 0)), atol=1e-6)


def test_x_diagonal_first_row_as_the_slides_give_it(stages):
    np.testing.assert_allclose(stages["features"][0, 0, :, 0] * 9, [7, -1, 1, 3, 5, -1, 3],
                               atol=1e-5)


@pytest.mark.parametrize("f,name", enumerate(FEATURES))
def test_x_pooled_maps_equal_the_printed_ones(stages, f, name):
    pooled = stages["pool"][0, :, :, f]
    truncated = np.floor(pooled * 100 + 1e-4) / 100  # the slides truncate: 5/9 -> 0.55
    np.testing.assert_allclose(truncated, PRINTED_X_POOLED[name], atol=1e-9)


def test_vote_says_x_for_x_and_o_for_o(stages):
    assert stages["vote"].argmax(axis=1).tolist() == [0, 1]
    assert zoo.model_info("xo_lecture")["classes"] == ("X", "O")


# --- the generated X/O set (zoo.data.xo) --------------------------------------------------------

from zoo.data.xo import make_xo  # noqa: E402

NONE = dict(shift=False, shrink=False, rotate=False, deform=False, noise=0.0)


def test_generator_without_transformations_draws_the_lecture_images():
    (x, y), _ = make_xo(20, seed=0, **NONE)
    for image, label in zip(x, y):
        np.testing.assert_array_equal(image, X_IMAGE if label == 0 else O_IMAGE)


def test_generator_is_deterministic_per_seed():
    (a, la), _ = make_xo(50, seed=7)
    (b, lb), _ = make_xo(50, seed=7)
    (c, _), _ = make_xo(50, seed=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("transform,check", [
    ("shift", lambda t: any(t["offset"])),
    ("shrink", lambda t: t["scale"] < 1),
    ("rotate", lambda t: t["angle_deg"] != 0),
    ("deform", lambda t: not np.allclose(t["matrix"], np.eye(2))),
])
def test_each_transformation_changes_the_images(transform, check):
    (x, y), transforms = make_xo(40, seed=1, **{**NONE, transform: True})
    templates = np.where(y[:, None, None] == 0, X_IMAGE, O_IMAGE)
    changed = [not np.array_equal(a, b) for a, b in zip(x, templates)]
    assert np.mean(changed) > 0.3  # small rotations can round to the same pixels on 9x9
    assert all(check(t) for t in transforms)


def test_noise_flips_about_its_fraction_of_pixels():
    (x, y), _ = make_xo(400, seed=2, **{**NONE, "noise": 0.05})
    templates = np.where(y[:, None, None] == 0, X_IMAGE, O_IMAGE)
    assert 0.04 < np.mean(x != templates) < 0.06


def test_generator_draws_on_a_larger_canvas():
    (x, y), _ = make_xo(10, seed=3, size=28)
    assert x.shape == (10, 28, 28) and set(np.unique(x)) <= {-1.0, 1.0}
    assert (x > 0).sum(axis=(1, 2)).min() > 20  # strokes scale with the canvas


def test_generator_refuses_bad_arguments():
    with pytest.raises(ValueError, match="need n > 0, size >= 9"):
        make_xo(10, seed=0, size=5)


def test_xo_learns_the_generated_set_on_a_short_run(mlflow_store, tmp_path):
    from dataclasses import replace

    from reproductions.recipes import RECIPES
    from reproductions.run.train import train_run

    short = replace(RECIPES["xo"], name="xo_short", steps=2400, eval_every=800)
    result = train_run(short, 1, checkpoint_root=tmp_path / "ckpt", log_mlflow_model=False)
    assert result["test_accuracy"] >= 0.99


def test_a_users_walk_through_goes_beside_the_store(mlflow_store, tmp_path, monkeypatch, capsys):
    """xo-lecture writes the committed page only with --reference, from a store that holds the
    xo runs; a user's goes beside the store, saying which store it came from."""
    from reproductions.__main__ import main as suite_main
    from reproductions.report import xo_lecture

    reference = tmp_path / "reference"
    reference.mkdir()
    monkeypatch.setattr(xo_lecture, "RESULTS", reference)
    assert suite_main(["xo-lecture"]) == 0
    mine = tmp_path / "mlflow-results" / "xo_lecture.md"
    assert f"wrote {mine}" in capsys.readouterr().out
    assert "(`python -m reproductions xo-lecture`) from this store" in mine.read_text()
    assert list(reference.iterdir()) == []
    # the committed page from a store without xo runs would lose their line: refused
    assert suite_main(["xo-lecture", "--reference"]) == 2
    assert "no FINISHED run of xo in this store" in capsys.readouterr().err
    assert list(reference.iterdir()) == []
