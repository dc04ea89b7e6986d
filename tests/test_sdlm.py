"""LeNet-5 as the 1998 paper trained it (issue 31): its RBF output and MAP loss, the SDLM step
and its Gauss-Newton curvature, checked against the paper's formulas written out here in NumPy,
and a short SDLM run that learns and repeats itself exactly."""

from dataclasses import replace

import keras
import numpy as np
import pytest

import zoo
from zoo.models.lenet import BITMAPS, PROTOTYPES, RUBBISH_PENALTY


def slope(a):
    """d/da of 1.7159 tanh(2a/3)."""
    return 1.7159 * 2 / 3 * (1 - np.tanh(2 * a / 3) ** 2)


def outputs(model, names, x):
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    found = probe.predict(x, verbose=0)
    return [np.asarray(o, dtype="float64") for o in (found if len(names) > 1 else [found])]


def test_the_prototypes_are_ten_7x12_bitmaps_of_plus_and_minus_one():
    assert all(len(rows) == 12 and all(len(r) == 7 for r in rows) for rows in BITMAPS.values())
    assert PROTOTYPES.shape == (10, 84) and set(np.unique(PROTOTYPES)) == {-1.0, 1.0}
    assert len({p.tobytes() for p in PROTOTYPES}) == 10


def test_the_output_is_the_papers_rbf_and_its_loss_the_papers_map_criterion(mnist_batch):
    from reproductions.run.sdlm import map_loss

    model = zoo.create_model("lenet5_rbf", map_training=True)
    x, y = mnist_batch
    x, y = x[:8], y[:8]
    (f6,) = outputs(model, ["F6_tanh"], x)
    penalties = ((f6[:, None, :] - PROTOTYPES[None].astype("float64")) ** 2).sum(-1)  # eq. 7
    j = RUBBISH_PENALTY
    paper = penalties[np.arange(8), y] + np.log(np.exp(-j) + np.exp(-penalties).sum(1))  # eq. 9
    log_p = model(x, training=True)  # log-probabilities while training, with map_training
    np.testing.assert_allclose(np.asarray(map_loss(y, log_p)), paper, rtol=1e-5)
    p = model.predict(x, verbose=0)
    assert (p.argmax(1) == penalties.argmin(1)).all()  # predicting: the ten classes' softmax
    np.testing.assert_allclose(p, np.exp(-penalties) / np.exp(-penalties).sum(1, keepdims=True),
                               rtol=1e-4, atol=1e-30)
    # the prototypes are fixed: not among the trained weights, and saved with the model
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 60_000


def test_the_curvature_of_f6_and_c5_is_the_papers_diagonal_backpropagation(mnist_batch):
    """Appendix C by hand for the two top layers: at F6's outputs d2E/dx^2 = 2 (the correct
    class's penalty), then d2E/da^2 = f'(a)^2 d2E/dx^2, d2E/dw_ij^2 = x_j^2 d2E/da_i^2, and
    d2E/dx_j^2 = sum_i w_ij^2 d2E/da_i^2 one layer down; means over the patterns."""
    from reproductions.run.sdlm import gauss_newton_diagonal

    keras.utils.set_random_seed(3)
    model = zoo.create_model("lenet5_rbf")
    x = mnist_batch[0][:16]
    x4, a5, x5, a6 = outputs(model, ["S4_tanh", "C5", "flatten", "F6"], x)
    w6 = np.asarray(model.get_layer("F6").kernel, dtype="float64")
    h_a6 = slope(a6) ** 2 * 2.0
    h_a5 = slope(a5.reshape(16, 120)) ** 2 * (h_a6 @ (w6 ** 2).T)
    found = dict(zip([v.path for v in model.trainable_variables],
                     gauss_newton_diagonal(model, x)))
    np.testing.assert_allclose(found["F6/kernel"], (x5 ** 2).T @ h_a6 / 16, rtol=1e-4)
    np.testing.assert_allclose(found["F6/bias"], h_a6.mean(0), rtol=1e-4)
    c5 = np.einsum("prcm,pi->rcmi", x4 ** 2, h_a5) / 16
    np.testing.assert_allclose(found["C5/kernel"], c5, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(found["C5/bias"], h_a5.mean(0), rtol=1e-4)
    assert all((h >= 0).all() for h in found.values())  # Gauss-Newton: never negative


def test_the_sdlm_step_is_eta_over_mu_plus_h():
    from reproductions.run.sdlm import SDLM

    w = keras.Variable(np.array([1.0, 2.0, 3.0], dtype="float32"))
    optimizer = SDLM(0.001, mu=0.02)
    optimizer.build([w])
    optimizer.set_curvatures([w], [np.array([0.0, 0.08, 1.98], dtype="float32")])
    optimizer.apply([np.array([1.0, 1.0, -2.0], dtype="float32")], [w])
    # steps 0.001 / 0.02, / 0.1, / 2.0
    np.testing.assert_allclose(np.asarray(w), [1 - 0.05, 2 - 0.01, 3 + 0.001], rtol=1e-6)


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_a_short_sdlm_run_learns_one_pattern_at_a_time_and_repeats_itself(mlflow_store, tmp_path):
    from reproductions.recipes import RECIPES, Step
    from reproductions.run.train import train_run

    short = replace(RECIPES["lenet5_rbf"], name="lenet5_rbf_short", steps=3000,
                    eval_every=1500, sdlm_patterns=100, train_subset=3000,
                    schedule=Step(boundaries=(1500,), values=(0.0005, 0.0002)))
    first = train_run(short, seed=1, checkpoint_root=tmp_path, log_mlflow_model=False)
    again = train_run(replace(short, name="lenet5_rbf_short_again"), seed=1,
                      checkpoint_root=tmp_path, log_mlflow_model=False)
    assert first["test_accuracy"] > 0.7  # 3,000 updates of one pattern each (chance: 0.1)
    assert again["test_accuracy"] == first["test_accuracy"]  # XLA, no op determinism: exact
    assert again["test_loss"] == first["test_loss"]
