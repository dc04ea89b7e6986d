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
