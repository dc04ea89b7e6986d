"""Knowledge distillation (issue 28): the targets a teacher gives, the loss that takes them or a
label, the pinned teacher, and a short distilled run end to end."""

import dataclasses

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from reproductions.recipes import Recipe
from reproductions.run import distill

TEACHER = "conv7_bn_ensemble.mnist"


def _teacher_sha():
    import zoo
    return zoo.weight_info(TEACHER).sha256[:12]


def test_targets_mix_the_softened_teacher_with_the_label():
    p = np.array([[0.9, 0.09, 0.01], [0.2, 0.7, 0.1]])
    t = distill.targets(p, [0, 2], alpha=0.5, temperature=1.0)
    # T = 1 leaves p as it is; half of it, half the one-hot label (worked by hand)
    np.testing.assert_allclose(t, [[0.95, 0.045, 0.005], [0.1, 0.35, 0.55]], rtol=1e-6)
    soft = distill.targets(p, [0, 2], alpha=1.0, temperature=2.0)
    # T = 2: probabilities proportional to sqrt(p)
    root = np.sqrt(p[0]) / np.sqrt(p[0]).sum()
    np.testing.assert_allclose(soft[0], root, rtol=1e-6)
    assert t.dtype == np.float32 and np.allclose(t.sum(axis=1), 1)


def test_the_loss_and_accuracy_take_target_rows_or_class_numbers():
    pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], dtype=np.float32)
    rows = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    by_rows = np.asarray(distill.soft_cross_entropy(rows, pred))
    by_labels = np.asarray(distill.soft_cross_entropy(np.array([0, 1]), pred))
    np.testing.assert_allclose(by_rows, -np.log([0.7, 0.3]), rtol=1e-5)
    np.testing.assert_allclose(by_labels, by_rows, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(distill.accuracy(np.array([[0], [2]]), pred)), [1, 1])
    np.testing.assert_array_equal(np.asarray(distill.accuracy(rows, pred)), [1, 0])


def test_through_keras_the_loss_on_labels_is_sparse_cross_entropy():
    """Compiled and evaluated by Keras (its loss and metric wrappers reshape labels), the
    distillation loss and accuracy on class numbers are Keras' own sparse ones."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    y = np.random.default_rng(1).integers(0, 4, size=64)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    plain = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    model.compile(loss=distill.soft_cross_entropy, metrics=[distill.accuracy])
    ours = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert ours["loss"] == pytest.approx(plain["loss"], rel=1e-6)
    assert ours["accuracy"] == pytest.approx(plain["accuracy"])
    # one-hot rows give the same figures as the labels they encode
    rows = np.eye(4, dtype="float32")[y]
    assert model.evaluate(x, rows, batch_size=16, verbose=0, return_dict=True)["loss"] == \
        pytest.approx(plain["loss"], rel=1e-6)


def test_a_recipe_pins_its_teacher():
    with pytest.raises(ValueError, match="distill is"):
        Recipe("bad", "conv3", None, "test", distill=(TEACHER, "xyz", 0.5, 2.0))
    with pytest.raises(ValueError, match="validation split"):
        Recipe("bad", "conv3", None, "test", validation_size=0,
               distill=(TEACHER, _teacher_sha(), 0.5, 2.0))
    plain = Recipe("plain", "conv3", None, "test")
    image = np.zeros((1, 28, 28, 1))
    with pytest.raises(distill.TeacherError, match="re-shipped"):
        distill.teacher_probabilities(plain, TEACHER, "000000000000", image)
    with pytest.raises(distill.TeacherError, match="not a shipped weight"):
        distill.teacher_probabilities(plain, "nosuch.mnist", "000000000000", image)
    # a student whose validation split the teacher may have learned from is refused
    other_split = dataclasses.replace(plain, validation_size=1000)
    with pytest.raises(distill.TeacherError, match="validation split of 1,000"):
        distill.teacher_probabilities(other_split, TEACHER, _teacher_sha(), image)
    assert distill.teacher_probabilities(plain, TEACHER, _teacher_sha(), image).shape == (1, 10)
    assert dataclasses.replace(plain, name="d", distill=(TEACHER, _teacher_sha(), 0.5, 2.0)
                               ).hash() != plain.hash()
    assert "distill" not in plain.training_config()  # older recipes keep their hashes


def test_a_distilled_run_trains_on_the_teachers_targets(mlflow_store, tmp_path):
    from reproductions.run.prepare import load_data
    from reproductions.run.train import train_run

    recipe = Recipe("quick_distilled", "conv3", None, "a test recipe", pixel_scale=1 / 256,
                    steps=40, eval_every=20, train_subset=1000, seeds=(1,),
                    distill=(TEACHER, _teacher_sha(), 0.7, 3.0))
    data = load_data(recipe, with_test=False)
    assert data.train[1].shape == (1000, 10) and data.val[1].ndim == 1  # labels for validation
    assert data.teacher_s > 0  # counted in the run's wall
    # the data identity is the images and labels, not the teacher's targets (last bits vary)
    plain = load_data(dataclasses.replace(recipe, distill=None), with_test=False)
    assert data.digest == plain.digest
    # the ensemble is right on nearly every training image: the targets' argmax is the label
    assert np.mean(data.train[1].argmax(axis=1) == plain.train[1]) > 0.99
    result = train_run(recipe, 1, checkpoint_root=tmp_path / "ckpt", log_mlflow_model=False)
    run = MlflowClient().get_run(result["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["distill"].startswith(f"['{TEACHER}'")
    assert 0 <= run.data.metrics["test_accuracy"] <= 1 and run.data.metrics["val_loss"] > 0


def test_reproduce_refuses_a_re_shipped_teacher_with_a_message(mlflow_store, capfd):
    from reproductions.__main__ import main as suite_main

    code = suite_main(["reproduce", "--recipes", "conv7_bn_cosine", "--seeds", "1", "--set",
                       f'distill=["{TEACHER}","000000000000",0.5,2]'])
    err = capfd.readouterr().err
    assert code == 2
    assert "re-shipped" in err and "Traceback" not in err


def test_label_smoothing_targets_by_hand():
    """(1 - e) * one_hot + e / K: for e = 0.1 and K = 4, 0.925 on the label, 0.025 elsewhere."""
    t = distill.smoothed(np.array([2, 0]), 0.1, 4)
    np.testing.assert_allclose(t, [[0.025, 0.025, 0.925, 0.025], [0.925, 0.025, 0.025, 0.025]],
                               rtol=1e-6)
    assert t.dtype == np.float32


def test_a_recipe_smooths_labels_or_distils_not_both():
    plain = Recipe("plain", "conv3", None, "test")
    for bad in (0, 1, 1.5, "0.1"):
        with pytest.raises(ValueError, match="label_smoothing is a fraction"):
            dataclasses.replace(plain, label_smoothing=bad)
    with pytest.raises(ValueError, match="not both"):
        dataclasses.replace(plain, label_smoothing=0.1,
                            distill=(TEACHER, _teacher_sha(), 0.5, 2.0))
    assert "label_smoothing" not in plain.training_config()  # older recipes keep their hashes
    assert dataclasses.replace(plain, label_smoothing=0.1).hash() != plain.hash()


def test_a_label_smoothed_run_trains_on_smoothed_rows(mlflow_store, tmp_path):
    """Training targets are smoothed rows; validation keeps the labels, so its loss is the plain
    cross-entropy any other recipe reports; the data identity is the images and labels."""
    import keras

    from reproductions.run.prepare import build_model, compile_model, load_data
    from reproductions.run.train import train_run

    recipe = Recipe("quick_smoothed", "conv3", None, "a test recipe", pixel_scale=1 / 256,
                    steps=40, eval_every=20, train_subset=1000, seeds=(1,),
                    label_smoothing=0.2)
    data = load_data(recipe, with_test=False)
    plain = load_data(dataclasses.replace(recipe, label_smoothing=None), with_test=False)
    assert data.train[1].shape == (1000, 10) and data.val[1].ndim == 1
    np.testing.assert_array_equal(data.train[1].argmax(axis=1), plain.train[1])
    np.testing.assert_allclose(np.unique(data.train[1]), [0.02, 0.82], rtol=1e-6)
    assert data.digest == plain.digest and data.teacher_s == 0
    model = compile_model(recipe, build_model(recipe))
    x, y = data.val[0][:200], data.val[1][:200]
    probabilities = model.predict(x, verbose=0)
    expected = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities)))
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] == \
        pytest.approx(expected, rel=1e-5)
    result = train_run(recipe, 1, checkpoint_root=tmp_path / "ckpt", log_mlflow_model=False)
    run = MlflowClient().get_run(result["run_id"])
    assert run.info.status == "FINISHED" and run.data.params["label_smoothing"] == "0.2"
