"""Issue 14 without training: the robustness card, ensembles as one Keras model and their spread,
the record net's augmentation (deterministic given seed and batch), its recipes and screening,
and the time-to-accuracy plot from a store of a few runs."""

import csv
import dataclasses
import functools
import itertools
import json
import math
import os

import keras
import mlflow
import numpy as np
import pytest

import zoo
import zoo.weights as weights
from zoo import robustness
from zoo.cli import main as zoo_cli


# ---- robustness -------------------------------------------------------------------------------

def test_shift_moves_pixels_and_brings_in_zeros():
    images = np.arange(1, 26, dtype=np.uint8).reshape(1, 5, 5)
    down = robustness.shift(images, 2, 0)[0]
    assert (down[:2] == 0).all() and (down[2:] == images[0, :3]).all()
    left = robustness.shift(images, 0, -1)[0]
    assert (left[:, -1] == 0).all() and (left[:, :-1] == images[0, :, 1:]).all()
    with pytest.raises(ValueError, match="out of its frame"):
        robustness.shift(images, 5, 0)


def test_rotation_turns_counter_clockwise_and_zero_is_identity():
    image = np.zeros((1, 29, 29), np.uint8)
    image[0, 14, 20:27] = 255  # a bar to the right of the centre
    assert (robustness.rotate(image, 0) == image).all()
    turned = robustness.rotate(image, 90)[0]
    assert turned[2:9, 14].min() > 200 and turned[14, 20:27].max() == 0  # now above the centre


def test_noise_is_fixed_by_its_seed_and_clipped():
    images = np.full((4, 28, 28), 250, np.uint8)
    a, b = robustness.add_noise(images, 64), robustness.add_noise(images, 64)
    assert a.dtype == np.uint8 and (a == b).all() and a.max() == 255
    assert not (robustness.add_noise(images, 64, seed=15) == a).all()
    assert 40 < np.std(robustness.add_noise(np.full((50, 28, 28), 128, np.uint8), 64)) < 70


def test_the_committed_csv_is_what_the_code_measures(mnist):
    """softmax.mnist's row recomputed (the others as they were made: the same code, slower nets)."""
    from reproductions.ship.models_md import CSV, read_csv

    rows = {r["weight"]: r for r in read_csv(CSV)}
    assert set(rows) == set(zoo.list_weights())
    (_, _), (x_test, y_test) = mnist
    result = robustness.robustness(zoo.load("softmax.mnist"), x_test, y_test)
    assert {k: f"{v:.4f}" for k, v in result.items()} == {
        k: rows["softmax.mnist"][k] for k in result}
    assert rows["softmax.mnist"]["convolutional"] == "no"
    assert rows["conv3_bn.mnist"]["convolutional"] == "yes"
    assert rows["audio_conv.fsdd"]["clean"] == "" and "spectrogram" in rows["audio_conv.fsdd"]["note"]
    assert float(rows["softmax.mnist"]["clean"]) == zoo.weight_info("softmax.mnist").test_accuracy


def test_models_md_has_the_robustness_section_from_the_csv():
    text = (weights.WEIGHTS_DIR.parent / "MODELS.md").read_text()
    clean = 100 * zoo.weight_info("conv3_bn.mnist").test_accuracy  # the same test set, clean
    assert "## Robustness" in text and f"| `conv3_bn.mnist` | yes | {clean:.2f}% |" in text
    assert "`xo.generated`: not measured" in text


def test_evaluate_robustness_refuses_a_weight_it_does_not_apply_to(capsys):
    assert zoo_cli(["evaluate", "xo.generated", "--robustness"]) == 2
    err = capsys.readouterr().err
    assert "not measured" in err and "Traceback" not in err


# ---- ensembles --------------------------------------------------------------------------------

def _members():
    keras.utils.set_random_seed(0)
    return {1: zoo.create_model("conv3"), 2: zoo.create_model("conv3"),
            3: zoo.create_model("lenet5_modern")}


def test_an_ensemble_is_one_safe_model_averaging_its_members(tmp_path, mnist_batch):
    from zoo.models.ensemble import ensemble, members_of

    x, _ = mnist_batch
    members = list(_members().values())
    model = ensemble(members, name="conv3_ensemble")
    assert [m.name for m in members_of(model)] == ["member1", "member2", "member3"]
    path = tmp_path / "e.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, atol=1e-6)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in reloaded.layers)
    with pytest.raises(ValueError, match="at least 2 members"):
        ensemble(members[:1])


def test_a_shipped_ensemble_has_a_card_the_weight_checks_accept(tmp_path, monkeypatch, mnist):
    from reproductions.ship import ensemble as ens
    from reproductions.ship import models_md
    from reproductions.recipes import RECIPES

    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)  # where the suite writes the file
    monkeypatch.setattr(weights.card, "WEIGHTS_DIR", tmp_path)  # where card.path looks
    (_, _), (x_test, y_test) = mnist
    x_test, y_test = x_test[:500], y_test[:500]
    facts = {"data_sha256": "d" * 64, "keras_version": keras.__version__,
             "tensorflow_version": "2.21.0", "git_commit": None}
    card = ens.ship(_members(), RECIPES["conv7_bn"], x_test, y_test, facts)
    assert str(card.name) == "conv7_bn_ensemble.mnist" and card.path == tmp_path / card.file
    assert weights.WeightCard.from_manifest(card.to_manifest()) == card
    model = weights.load_file(card.path, card.sha256)  # hash-checked, safe_mode
    assert weights.accuracy(model, x_test, y_test) == card.test_accuracy
    assert card.params == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert card.recipe_seeds == 3 and "seeds 1, 2, 3" in card.chosen
    monkeypatch.setattr(models_md, "MODELS_MD", tmp_path / "MODELS.md")
    models_md.write_models_md([card])
    assert "`conv7_bn_ensemble.mnist`" in (tmp_path / "MODELS.md").read_text()


def test_sub_ensemble_spread_on_synthetic_probabilities():
    from reproductions.ship.ensemble import disjoint, spread_rows, sub_ensembles

    y = np.array([0, 1, 1, 0])
    # each member right on some images; averaged pairs vote by confidence
    probs = {1: np.array([[.9, .1], [.6, .4], [.2, .8], [.4, .6]]),   # 2 of 4 right
             2: np.array([[.4, .6], [.1, .9], [.3, .7], [.8, .2]]),   # 3 of 4
             3: np.array([[.7, .3], [.7, .3], [.45, .55], [.6, .4]]),  # 3 of 4
             4: np.array([[.8, .2], [.2, .8], [.1, .9], [.9, .1]])}   # 4 of 4
    singles = sub_ensembles(probs, y, 1)
    assert singles.accuracies == (0.5, 0.75, 0.75, 1.0)
    pairs = sub_ensembles(probs, y, 2)
    assert len(pairs.groups) == math.comb(4, 2) and pairs.groups[0] == (1, 2)
    # members 1+2: [.65,.35] right, [.35,.65] right, [.25,.75] right, [.6,.4] right
    assert pairs.accuracies[0] == 1.0
    # members 1+3: [.8,.2] right, [.65,.35] wrong, [.325,.675] right, [.5,.5] argmax 0 right
    assert pairs.accuracies[1] == 0.75
    assert disjoint(probs, y, 2).groups == ((1, 2), (3, 4))
    assert disjoint(probs, y, 3).groups == ((1, 2, 3),)
    rows = spread_rows(probs, y)
    assert [(r["k"], r["kind"]) for r in rows] == [
        (1, "every sub-ensemble"), (2, "every sub-ensemble"),
        (2, "disjoint groups"), (3, "every sub-ensemble"), (4, "every sub-ensemble")]
    assert rows[0]["mean_test_acc"] == "0.75000" and rows[-1]["count"] == 1
    # each group's training time is the sum of its members' (mean and max over groups)
    timed = spread_rows(probs, y, {1: 100.0, 2: 200.0, 3: 300.0, 4: 400.0})
    assert [(r["members_wall_s_mean"], r["members_wall_s_max"]) for r in timed] == [
        ("250.0", "400.0"), ("500.0", "700.0"), ("500.0", "700.0"), ("750.0", "900.0"),
        ("1000.0", "1000.0")]
    # and, given, the same on the reference kind, in columns of their own
    scaled = spread_rows(probs, y, {1: 100.0, 2: 200.0, 3: 300.0, 4: 400.0},
                         {1: 50.0, 2: 100.0, 3: 150.0, 4: 200.0})
    assert [(r["members_wall_s_mean_reference_kind"], r["members_wall_s_max_reference_kind"])
            for r in scaled] == [("125.0", "200.0"), ("250.0", "350.0"), ("250.0", "350.0"),
                                 ("375.0", "450.0"), ("500.0", "500.0")]
    assert "members_wall_s_mean_reference_kind" not in timed[0]
    with pytest.raises(ValueError, match="k must be between 1 and the 4 members"):
        sub_ensembles(probs, y, 5)
    with pytest.raises(ValueError, match="one row for each of the 3 labels"):
        sub_ensembles(probs, y[:3], 2)


# ---- the record net's augmentation and recipes -------------------------------------------------

def _batches(stream, n):
    return [(x.numpy(), y.numpy()) for x, y in itertools.islice(stream, n)]


def test_affine_stream_resumed_at_batch_k_equals_the_uninterrupted_one(mnist):
    from zoo.data.pipeline import training_stream

    (x, y), _ = mnist
    x, y = x[:600], y[:600]
    whole = _batches(training_stream(x, y, 100, seed=3, affine=(10, 0.1, 0.1)), 9)
    resumed = _batches(training_stream(x, y, 100, seed=3, affine=(10, 0.1, 0.1),
                                       skip_batches=7), 2)
    for (a, la), (b, lb) in zip(whole[7:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    other = _batches(training_stream(x, y, 100, seed=4, affine=(10, 0.1, 0.1)), 1)[0][0]
    assert not np.array_equal(other, whole[0][0])
    plain = _batches(training_stream(x, y, 100, seed=3), 1)[0]
    np.testing.assert_array_equal(plain[1], whole[0][1])  # the same images, transformed
    assert not np.array_equal(plain[0].astype(np.float32), whole[0][0])
    with pytest.raises(ValueError, match="shift or affine, not both"):
        training_stream(x, y, 100, seed=3, shift=1, affine=(10, 0.1, 0.1))


def test_elastic_stream_is_resumable_and_bends_the_affine_images_by_its_own_draw(mnist):
    import tensorflow as tf

    from zoo.data.pipeline import random_elastic, training_stream

    (x, y), _ = mnist
    x, y = x[:600], y[:600]
    both = dict(affine=(10, 0.1, 0.1), elastic=(34, 4))
    whole = _batches(training_stream(x, y, 100, seed=3, **both), 9)
    resumed = _batches(training_stream(x, y, 100, seed=3, skip_batches=7, **both), 2)
    for (a, la), (b, lb) in zip(whole[7:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    affine = _batches(training_stream(x, y, 100, seed=3, affine=(10, 0.1, 0.1)), 1)[0]
    np.testing.assert_array_equal(affine[1], whole[0][1])  # the same labels: the same images
    assert not np.allclose(affine[0], whole[0][0])  # bent further
    # the field is drawn from the batch's key folded with 1, not from the key the affine used
    key = tf.constant([3, 0], tf.int64)
    folded = random_elastic(affine[0], 34, 4, tf.random.experimental.stateless_fold_in(key, 1))
    np.testing.assert_allclose(whole[0][0], folded.numpy(), atol=1e-3)
    assert not np.allclose(whole[0][0], random_elastic(affine[0], 34, 4, key).numpy())
    # elastic alone: the plain images, bent (float32 out of uint8 in), the batch order unchanged
    alone = _batches(training_stream(x, y, 100, seed=3, elastic=(34, 4)), 1)[0]
    plain = _batches(training_stream(x, y, 100, seed=3), 1)[0]
    np.testing.assert_array_equal(alone[1], plain[1])
    assert alone[0].dtype == np.float32 and not np.allclose(alone[0], plain[0])


def test_elastic_parts_agree_with_scipy():
    """The smoothing and the bilinear reading against scipy.ndimage, an independent oracle."""
    import tensorflow as tf
    from scipy import ndimage

    from zoo.data.pipeline import bilinear, gaussian_smooth

    rng = np.random.default_rng(0)
    fields = rng.uniform(-1, 1, (2, 28, 28, 2)).astype(np.float32)
    for sigma in (4, 2.1):  # 2.1: scipy rounds 3 sigma to the nearest whole radius
        ours = gaussian_smooth(tf.constant(fields), sigma).numpy()
        for i, c in itertools.product(range(2), range(2)):
            theirs = ndimage.gaussian_filter(fields[i, ..., c], sigma, mode="constant",
                                             truncate=3.0)
            np.testing.assert_allclose(ours[i, ..., c], theirs, atol=1e-6)
    images = rng.uniform(0, 255, (2, 28, 28)).astype(np.float32)
    rows, cols = rng.uniform(-3, 31, (2, 2, 28, 28)).astype(np.float32)  # some points outside
    ours = bilinear(tf.constant(images), tf.constant(rows), tf.constant(cols)).numpy()
    for i in range(2):
        theirs = ndimage.map_coordinates(images[i], [rows[i], cols[i]], order=1,
                                         mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(ours[i], theirs, atol=1e-3)


def test_random_elastic_is_simards_distortion_as_scipy_computes_it(mnist):
    """The whole distortion, its field drawn as random_elastic draws it, then smoothed, scaled
    and read by scipy.ndimage (Simard et al. 2003's recipe, as commonly written with scipy)."""
    import tensorflow as tf
    from scipy import ndimage

    from zoo.data.pipeline import random_elastic

    (_, _), (x, _) = mnist
    batch, key = x[:4].astype(np.float32), tf.constant([5, 6], tf.int64)
    field = tf.random.stateless_uniform((4, 28, 28, 2), key, -1.0, 1.0).numpy()
    ours = random_elastic(batch, 34, 4, key).numpy()
    grid = np.mgrid[0:28, 0:28].astype(np.float32)
    for i in range(4):
        moved = [34 * ndimage.gaussian_filter(field[i, ..., c], 4, mode="constant", truncate=3.0)
                 for c in range(2)]
        theirs = ndimage.map_coordinates(batch[i], [grid[0] + moved[0], grid[1] + moved[1]],
                                         order=1, mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(ours[i], theirs, atol=0.05)


def test_random_elastic_keeps_the_ink_and_draws_by_its_seed(mnist):
    import tensorflow as tf

    from zoo.data.pipeline import random_elastic

    (_, _), (x, _) = mnist
    batch = x[:64].astype(np.float32)
    bent = random_elastic(batch, 34, 4, tf.constant([1, 2], tf.int64)).numpy()
    assert bent.dtype == np.float32 and bent.min() >= 0 and bent.max() <= 255
    # a smooth field of about 1.3 pixels (alpha 34 x the std of uniform noise smoothed by a
    # Gaussian of 4: 34 x 0.577 / (2 sqrt(pi) x 4)) thickens some strokes and thins others
    # (its stretch varies across the image), but adds or removes no ink on the whole
    ratio = bent.sum(axis=(1, 2)) / batch.sum(axis=(1, 2))
    assert abs(ratio.mean() - 1) < 0.1 and ratio.std() > 0.05
    assert not np.allclose(bent, batch)
    other = random_elastic(batch, 34, 4, tf.constant([1, 3], tf.int64)).numpy()
    assert not np.allclose(other, bent)


def test_random_affine_with_nothing_to_do_is_the_identity_and_moves_as_told(mnist):
    import tensorflow as tf

    from zoo.data.pipeline import random_affine

    (_, _), (x, _) = mnist
    batch = x[:16]
    same = random_affine(batch, 0, 0, 0, tf.constant([1, 2], tf.int64)).numpy()
    np.testing.assert_allclose(same, batch, atol=1e-4)
    moved = random_affine(batch, 0, 0, 0.25, tf.constant([1, 2], tf.int64)).numpy()
    assert not np.allclose(moved, batch) and moved.dtype == np.float32
    # a move (bilinear: it spreads ink, it does not make any) shifts the centre of the ink by at
    # most a quarter of the image each way
    assert (moved.sum(axis=(1, 2)) <= batch.sum(axis=(1, 2)) + 0.5).all()
    rows = np.arange(28)[None, :, None]
    centre = lambda im: (im * rows).sum(axis=(1, 2)) / im.sum(axis=(1, 2))  # noqa: E731
    shift = centre(moved) - centre(batch.astype(np.float32))
    assert np.abs(shift).max() <= 7 + 0.5 and np.abs(shift).max() > 1


def test_the_record_recipe_and_its_screening_are_ready_to_run():
    from reproductions.recipes import ENSEMBLES, EpochExponential, RECIPES, load_screening
    from reproductions.run.schedule import keras_schedule

    recipe = RECIPES["conv7_bn"]
    assert recipe.model == "conv7_bn" and recipe.augment_affine == (10, 0.1, 0.1)
    assert zoo.model_info("conv7_bn")["params"] == 326_410
    schedule = keras_schedule(recipe.schedule, recipe.steps)
    assert float(schedule(549)) == pytest.approx(1e-3)
    assert float(schedule(550)) == pytest.approx(1e-3 * 0.95)
    assert float(schedule(5 * 550 + 3)) == pytest.approx(1e-3 * 0.95 ** 5)
    screening = load_screening("conv7_bn")
    assert set(screening.variants) == {"d_a", "d_b"}
    # the variant chosen on validation is the recipe trained: the same training, hash for hash
    assert screening.chosen == "d_b" and screening.recipe == "conv7_bn_cosine"
    assert RECIPES["conv7_bn_cosine"].hash() == screening.variants["d_b"].hash()
    assert RECIPES["conv7_bn"].hash() == screening.variants["d_a"].hash()
    members = ENSEMBLES["conv7_bn_cosine"]  # screening seeds are never reported or ensembled
    assert all(set(v.seeds).isdisjoint(RECIPES[name].seeds + members)
               for v in screening.variants.values() for name in ("conv7_bn", "conv7_bn_cosine"))
    with pytest.raises(ValueError, match="not both"):
        dataclass_replace(recipe, augment_shift=1)
    with pytest.raises(ValueError, match="augment_affine is"):
        dataclass_replace(recipe, augment_affine=(90, 0.1, 0.1))
    for bad in ((34,), (34, 0.5), (0, 4), (34, "4"), 34):
        with pytest.raises(ValueError, match="augment_elastic is"):
            dataclass_replace(recipe, augment_elastic=bad)
    assert dataclass_replace(recipe, augment_elastic=(34, 4)).hash() != recipe.hash()
    with pytest.raises(ValueError, match="epoch_exponential schedule needs"):
        dataclass_replace(recipe, schedule=EpochExponential(0.001, 1.5, 550))


def dataclass_replace(recipe, **changes):
    import dataclasses

    return dataclasses.replace(recipe, **changes)


# ---- time to accuracy -------------------------------------------------------------------------

def _log_run(experiment, recipe, seed, acc, wall):
    with mlflow.start_run(experiment_id=experiment, tags={
            "recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": str(seed)}):
        mlflow.log_metrics({"test_accuracy": acc, "wall_s": wall})


def test_time_to_accuracy_from_a_store_of_a_few_runs(mlflow_store, tmp_path, monkeypatch):
    from reproductions.report import time_to_accuracy
    from reproductions.recipes import RECIPES
    from tracking.runs import experiment_for

    experiment = experiment_for(RECIPES["softmax"])
    for seed, acc, wall in ((1, 0.92, 8.0), (2, 0.93, 7.0)):
        _log_run(experiment, RECIPES["softmax"], seed, acc, wall)
    for seed, acc, wall in ((1, 0.995, 100.0), (2, 0.996, 96.0)):
        _log_run(experiment, RECIPES["conv3_bn_fast"], seed, acc, wall)
    _log_run(experiment, RECIPES["conv3_bn"], 1, 0.994, 740.0)  # slower and worse: dominated
    with mlflow.start_run(experiment_id=experiment, tags={  # an old version of a recipe: ignored
            "recipe": "conv3", "recipe_hash": "000000000000", "seed": "1"}):
        mlflow.log_metrics({"test_accuracy": 0.99, "wall_s": 20.0})
    from reproductions.report.tables import store_rows

    found = {p["recipe"]: p for p in time_to_accuracy.points(store_rows("mnist"))}
    assert set(found) == {"softmax", "conv3_bn_fast", "conv3_bn"}
    assert found["softmax"]["mean_test_acc"] == pytest.approx(0.925)
    assert (found["softmax"]["min_wall_s"], found["softmax"]["max_wall_s"]) == (7.0, 8.0)
    assert found["softmax"]["pareto"] and found["conv3_bn_fast"]["pareto"]
    assert not found["conv3_bn"]["pareto"]
    png, table = time_to_accuracy.write(list(found.values()), tmp_path / "tta")
    assert png.stat().st_size > 10_000
    with open(table) as f:
        assert [r["recipe"] for r in csv.DictReader(f)] == ["softmax", "conv3_bn_fast", "conv3_bn"]
    # the verb writes beside the store's tables; only --reference touches the committed ones
    import argparse

    reference = tmp_path / "reference"
    reference.mkdir()
    monkeypatch.setattr(time_to_accuracy, "RESULTS", reference)
    assert time_to_accuracy.run(argparse.Namespace(out=None, reference=False)) == 0
    assert (tmp_path / "mlflow-results" / "time_to_accuracy.png").is_file()
    assert list(reference.iterdir()) == []
    assert time_to_accuracy.run(argparse.Namespace(out=None, reference=True)) == 0
    assert sorted(p.name for p in reference.iterdir()) == \
        ["time_to_accuracy.csv", "time_to_accuracy.png"]


def test_time_to_accuracy_puts_an_ensemble_at_its_members_time_on_the_reference_kind(tmp_path):
    from reproductions.report.time_to_accuracy import ensemble_points, pareto

    head = "k,kind,count,mean_test_acc,std_test_acc,min_test_acc,max_test_acc,groups,"
    (tmp_path / "conv7_bn_cosine_ensemble.csv").write_text(
        head + "members_wall_s_mean,members_wall_s_max,members_wall_s_mean_reference_kind,"
        "members_wall_s_max_reference_kind\n"
        "1,every sub-ensemble,2,0.99600,0.00100,0.99500,0.99700,1 2,900.0,1000.0,300.0,310.0\n"
        "2,every sub-ensemble,1,0.99750,0.00000,0.99750,0.99750,1+2,1900.0,1900.0,610.0,610.0\n")
    (tmp_path / "conv7_bn_ensemble.csv").write_text(  # timed where it trained: left out
        head + "members_wall_s_mean,members_wall_s_max\n"
        "2,every sub-ensemble,1,0.99590,0.00000,0.99590,0.99590,1+2,800.0,800.0\n")
    [point] = ensemble_points(tmp_path)
    assert (point["recipe"], point["seeds"], point["mean_test_acc"], point["mean_wall_s"]) == \
        ("conv7_bn_cosine x2, averaged", 2, 0.9975, 610.0)
    single = {"recipe": "conv7_bn_cosine", "mean_test_acc": 0.9966, "mean_wall_s": 372.0}
    assert [p["pareto"] for p in pareto([single, point])] == [True, True]


def test_time_to_accuracy_puts_a_paced_single_net_on_the_reference_kind():
    """A recipe given a reference pace is shown at its walls times its pace over that one (by
    hand: 900 s at 1,000 images/s against 2,000 there, 450 s; 1,000 s at 800: 400 s); others as
    run."""
    from reproductions.recipes import RECIPES
    from reproductions.report.time_to_accuracy import PACED, points

    def seed_row(name, seed, acc, wall, ips):
        return {"recipe": name, "recipe_hash": RECIPES[name].hash(), "seed": str(seed),
                "final_test_acc": str(acc), "wall_s": str(wall), "images_per_second": str(ips)}

    rows = [seed_row("conv7_bn_distilled", 1, 0.997, 900, 1000),
            seed_row("conv7_bn_distilled", 2, 0.996, 1000, 800),
            *(seed_row("conv7_bn_cosine", seed, 0.996, 380, 2000) for seed in (1, 2, 3))]
    found = {p["recipe"]: p for p in points(rows, paced={"conv7_bn_distilled": 2000.0})}
    assert (found["conv7_bn_distilled"]["min_wall_s"], found["conv7_bn_distilled"]["max_wall_s"],
            found["conv7_bn_distilled"]["wall"]) == (400.0, 450.0, PACED)
    assert found["conv7_bn_cosine"]["mean_wall_s"] == 380.0
    assert found["conv7_bn_cosine"]["wall"] == "as run"


def test_suite_verbs_of_issue_14_refuse_bad_input(mlflow_store):
    import subprocess
    import sys

    from tests.test_recipes import REPO

    for args, message in ((("ensemble", "conv7_bn", "--seeds", "1"), "at least 2 member seeds"),
                          (("ensemble", "conv7_bm"), "unknown recipe 'conv7_bm'"),
                          (("ensemble", "conv7_bn_cosine"), "no FINISHED run of conv7_bn_cosine"),
                          (("ensemble", "conv7_bn"), "declares its member seeds before training"),
                          (("robustness", "--weights", "conv9.mnist"), "no shipped weight"),
                          (("time-to-accuracy",), "no FINISHED MNIST runs")):
        done = subprocess.run([sys.executable, "-m", "reproductions", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr[-2000:])
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]


def test_the_ensemble_verbs_argument_errors_come_before_keras_and_the_store(tmp_path):
    """The verb's `check` (reproductions.ship.ensemble.asked) runs before the store is opened and
    Keras imported: a process that is refused has imported neither, even with a store that does
    not exist."""
    import subprocess
    import sys

    from tests.test_recipes import REPO

    code = ("import sys\nfrom reproductions.__main__ import main\n"
            "try:\n    main(['ensemble', 'conv7_bn_cosine', '--seeds', '1,2'])\n"
            "except SystemExit as stop:\n"
            "    print(stop.code, 'keras' in sys.modules, 'mlflow' in sys.modules)\n")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/none/store.db"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.stdout.split() == ["2", "False", "False"], done.stdout + done.stderr[-2000:]
    assert "declares its member seeds before training" in done.stderr
    assert not (tmp_path / "none").exists()


def test_predict_defaults_to_the_record_ensemble_once_it_ships(monkeypatch):
    from zoo import cli

    assert cli.weight_for_kind("picture") == (
        "conv7_bn_ensemble.mnist" if "conv7_bn_ensemble.mnist" in zoo.list_weights()
        else "conv3_bn.mnist")
    monkeypatch.setattr(zoo, "list_weights", lambda: ["conv3_bn.mnist", "conv7_bn_ensemble.mnist"])
    assert cli.weight_for_kind("picture") == "conv7_bn_ensemble.mnist"
    monkeypatch.setattr(zoo, "list_weights", lambda: ["audio_conv.fsdd", "conv3_bn.mnist"])
    assert cli.weight_for_kind("audio") == "audio_conv.fsdd"
    assert cli.weight_for_kind("picture") == "conv3_bn.mnist"


@pytest.mark.slow  # 25 s or more: `make test-slow`, which CI runs
def test_the_ensemble_verb_ships_members_from_the_store(mlflow_store, tmp_path, monkeypatch,
                                                        capsys):
    """Two members logged as runs of conv7_bn (fresh nets: no training), shipped by the verb
    into a temporary weights folder, manifest, MODELS.md and results folder."""
    import reproductions
    from reproductions.__main__ import main as suite_main
    from reproductions.report import pace
    from reproductions.report import tables as report
    from reproductions.ship import export_weights, models_md
    from reproductions.recipes import RECIPES
    from tracking.runs import experiment_for

    # seeds 5 and 6 declared here (as the reported seeds of this store's recipes): a table row
    # and a shipped weight only ever come from declared seeds
    monkeypatch.setitem(RECIPES, "conv7_bn", dataclasses.replace(RECIPES["conv7_bn"], seeds=(5, 6)))
    monkeypatch.setitem(RECIPES, "conv3_bn_bf16",
                        dataclasses.replace(RECIPES["conv3_bn_bf16"], seeds=(5,)))
    recipe = RECIPES["conv7_bn"]
    experiment = experiment_for(recipe)
    keras.utils.set_random_seed(0)
    for seed in (5, 6):
        path = tmp_path / f"{seed}" / "conv7_bn.keras"
        path.parent.mkdir()
        zoo.create_model("conv7_bn").save(path)
        with mlflow.start_run(experiment_id=experiment, tags={
                "recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": str(seed),
                "data_sha256": "d" * 64, "version.keras": keras.__version__,
                "version.tensorflow": "2.21.0", "git_commit": "abc",
                "tf_threads": "intra 1, inter 1"}):  # as a worker of --jobs 2 trains
            mlflow.log_metrics({"test_accuracy": 0.1, "wall_s": 100.0 * seed,
                                "images_per_second": 500.0, "test_examples": 10_000})
            mlflow.log_artifact(str(path), "model")
    bf16 = RECIPES["conv3_bn_bf16"]  # a bfloat16 recipe's run: measured, never shipped
    with mlflow.start_run(experiment_id=experiment_for(bf16), tags={
            "recipe": bf16.name, "recipe_hash": bf16.hash(), "seed": "5",
            "data_sha256": "d" * 64, "git_commit": "abc"}):
        mlflow.log_metrics({"test_accuracy": 0.1, "wall_s": 1.0, "test_examples": 10_000})
    shipped = tmp_path / "weights"
    shipped.mkdir()
    monkeypatch.setattr(weights, "WEIGHTS_DIR", shipped)
    monkeypatch.setattr(weights.card, "WEIGHTS_DIR", shipped)  # card.path reads it there
    monkeypatch.setattr(weights, "MANIFEST", shipped / "manifest.json")
    monkeypatch.setattr(models_md, "MODELS_MD", tmp_path / "MODELS.md")
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    monkeypatch.setattr(reproductions, "RESULTS", tmp_path)  # the ensemble's spread CSV
    # conv7_bn stands in for the recipe whose ensemble ships: the verb refuses to ship over
    # another recipe's, so the shipped cards it starts from leave conv7_bn_cosine's out
    real_cards = weights.cards

    def cards_but_the_ensemble(*args):
        cards = real_cards(*args)
        if args:  # the manifest this test writes
            return cards
        return {n: c for n, c in cards.items() if n != "conv7_bn_ensemble.mnist"}

    cards_but_the_ensemble.cache_clear = real_cards.cache_clear
    monkeypatch.setattr(weights, "cards", cards_but_the_ensemble)
    monkeypatch.setitem(reproductions.recipes.ENSEMBLES, "conv7_bn", (5, 6))  # declared here
    monkeypatch.setattr(export_weights, "shipped_seed", lambda recipe: 5)
    monkeypatch.setattr(export_weights, "WEIGHTS_DIR", shipped)  # never the shipped folder
    monkeypatch.setattr(export_weights, "MANIFEST", shipped / "manifest.json")
    # the reference kind trained conv7_bn at 1,000 images a second: twice these members' pace
    # (its per-seed file in a folder of its own: this store's tables are written to tmp_path)
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "mnist_seeds.csv").write_text(
        "recipe,recipe_hash,seed,declared,images_per_second\n"
        f"conv7_bn,{recipe.hash()},5,yes,1000\n")
    monkeypatch.setattr(pace, "reference_pace", functools.partial(
        pace.reference_pace, results=tmp_path / "reference"))
    try:
        assert suite_main(["ensemble", "conv7_bn", "--seeds", "5,6", "--pace-of", "conv7_bn"]) == 0
        entries = json.loads((shipped / "manifest.json").read_text())
        # re-exporting the data set's weights afterwards keeps the ensemble (its own command's)
        weights.cards.cache_clear()
        # a data set without runs in this store keeps its shipped weights, files and cards
        before = (shipped / "manifest.json").read_bytes()
        assert {str(c.name) for c in export_weights.export("fsdd")} >= {"audio_conv.fsdd"}
        assert (shipped / "manifest.json").read_bytes() == before
        kept = export_weights.export("mnist")
        kept_entries = json.loads((shipped / "manifest.json").read_text())
        assert {"conv7_bn.mnist", "conv7_bn_ensemble.mnist"} <= {str(c.name) for c in kept}
        assert not any("bf16" in str(c.name) for c in kept)
        assert "conv3_bn_bf16: trained in mixed_bfloat16" in capsys.readouterr().out
        files = {p.name for p in shipped.glob("*.keras")}
        assert files == {"conv7_bn.mnist.keras", "conv7_bn_ensemble.mnist.keras"}
        # recipes without runs in this store keep their shipped cards (re-ship only what you
        # retrained)
        assert {"conv3_bn.mnist", "softmax.mnist"} <= {str(c.name) for c in kept}
    finally:
        weights.cards.cache_clear()  # the real manifest again for the other tests
    card = weights.WeightCard.from_manifest(
        next(e for e in entries if e["name"] == "conv7_bn_ensemble.mnist"))
    # the shipped cards kept, the ensemble's added (or replaced, once one ships)
    assert sorted(e["name"] for e in entries) == \
        sorted(set(zoo.list_weights()) | {"conv7_bn_ensemble.mnist"})
    model = weights.load_file(shipped / card.file, card.sha256)
    assert card.recipe == "conv7_bn" and card.recipe_hash == recipe.hash()
    assert card.data_sha256 == "d" * 64 and card.git_commit == "abc"
    # the commands that make the file again: the members' threads, the pace that scaled them
    assert card.command == ("make reproduce-mnist RECIPES=conv7_bn SEEDS=5,6 THREADS=1 && "
                            "python -m reproductions ensemble conv7_bn --seeds 5,6 "
                            "--pace-of conv7_bn")
    single = next(e for e in kept_entries if e["name"] == "conv7_bn.mnist")
    assert single["command"] == ("make reproduce-mnist RECIPES=conv7_bn SEEDS=5 THREADS=1 && "
                                 "make zoo-weights")
    assert card.params == 2 * 326_410 and len(model.layers) == 4  # input, 2 members, average
    with open(tmp_path / "conv7_bn_ensemble.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["k"], r["count"]) for r in rows] == [("1", "2"), ("2", "1")]
    # members of 500 s and 600 s here; at twice the pace, 250 s and 300 s on the reference kind
    assert (rows[-1]["members_wall_s_mean"], rows[-1]["members_wall_s_mean_reference_kind"]) == \
        ("1100.0", "550.0")
    assert float(rows[-1]["mean_test_acc"]) == pytest.approx(card.test_accuracy, abs=1e-5)
    written = (tmp_path / "MODELS.md").read_text()
    assert "`conv7_bn_ensemble.mnist`" in written
    assert "| one model of 2 members |" in written  # no made-up spread over seeds


def test_the_robustness_section_gives_each_figure_and_its_change_against_clean():
    from reproductions.ship import models_md as verb

    rows = verb.read_csv()
    lines = verb.markdown(rows)
    measured = [r for r in rows if r.get("clean")]
    table = [line for line in lines if line.startswith("| `")]
    assert measured and len(table) == len(measured)
    for line in table:
        cells = [c.strip() for c in line.strip("|").split("|")]
        clean = float(cells[2].rstrip("%"))
        for cell in cells[3:]:  # "98.32% (-0.62)"
            value, change = cell.split(" (")
            assert float(change.rstrip(")")) == pytest.approx(float(value.rstrip("%")) - clean,
                                                              abs=0.011)


def test_the_registrys_ensemble_has_the_declared_number_of_members():
    """zoo cannot read reproductions' ENSEMBLES (imports run one way): its conv7_bn_ensemble
    is built with as many members as conv7_bn_cosine's ensemble declares."""
    import zoo
    from reproductions.recipes import ENSEMBLES

    n = len(ENSEMBLES["conv7_bn_cosine"])
    assert zoo.registry.get_spec("conv7_bn_ensemble").params == n * \
        zoo.registry.get_spec("conv7_bn").params
    assert f"{n} conv7_bn" in zoo.registry.get_spec("conv7_bn_ensemble").summary


@pytest.mark.parametrize("name, verdict, ships", [
    ("conv7_bn_distilled", "above", True),          # a study whose whole interval clears
    ("conv7_bn_distilled", "within noise", False),  # issue 28: it ships only if it clears
    ("conv7_bn_distilled", "short", False),
    ("conv3_bn_bf16", "above", False),              # bfloat16: the zoo ships float32 weights
    ("conv7_bn_cosine", "within noise", True)])     # a recipe of the default ships its seed
def test_a_study_ships_only_above_its_bar(name, verdict, ships):
    from reproductions.recipes import RECIPES
    from reproductions.ship.export_weights import why_not_shipped

    assert (why_not_shipped(RECIPES[name], verdict) is None) == ships


def test_record_errors_lists_each_declared_ensembles_errors_and_those_they_share(
        tmp_path, monkeypatch, capsys, keras_answers):
    """`record-errors` runs `zoo evaluate` on each declared ensemble's weight into --out and
    counts the test images all of them get wrong (two small weights stand in for the ensembles
    here; Keras' own answers, computed apart, are the oracle); without --reference it writes
    nothing of the committed results or docs. `make record-errors` is its --reference run."""
    import subprocess

    from reproductions.__main__ import main as suite_main
    from reproductions.report import record_doc
    from tests.shared import REPO

    assert record_doc.declared_weights() == [
        record_doc.shipped_ensemble(r) for r in record_doc.ENSEMBLES]
    monkeypatch.setattr(record_doc, "declared_weights", lambda: ["softmax.mnist", "mlp5.mnist"])
    committed = {p: p.stat().st_mtime_ns for p in [record_doc.DOC, *(
        REPO / "reproductions" / "results" / "errors").iterdir()]}
    assert suite_main(["record-errors", "--out", str(tmp_path)]) == 0
    wrong = []
    for weight in ("softmax.mnist", "mlp5.mnist"):
        _, y, probabilities = keras_answers(weight)
        wrong.append(set(np.flatnonzero(probabilities.argmax(-1) != y)))
        with open(tmp_path / f"{weight}-errors.csv", newline="") as f:
            assert {int(r["test_index"]) for r in csv.DictReader(f)} == wrong[-1]
    shared = len(wrong[0] & wrong[1])
    assert 0 < shared < min(map(len, wrong))
    assert f"{shared} test images are wrong in every one of the 2 declared ensembles" in \
        capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in committed} == committed
    shown = subprocess.run(["make", "-n", "record-errors"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout
    assert "-m reproductions record-errors --reference" in shown
