"""Issue 28's test-time views: the ensemble reading each picture moved by whole pixels, as one
safe Keras model; its candidates declared and chosen blind on validation; the choice shipped."""

import csv
import json
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo
from zoo import robustness

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "reproductions" / "results"


def _nets():
    keras.utils.set_random_seed(0)
    return [zoo.create_model("conv3"), zoo.create_model("lenet5_modern")]


def test_an_ensemble_with_views_averages_every_member_on_every_moved_picture(tmp_path,
                                                                              mnist_batch):
    """The oracle: zoo.robustness.shift (numpy slicing), each member's predict on each moved
    batch, their plain mean; the model: Keras padding and cropping layers, saved and loaded."""
    from zoo.models.ensemble import ensemble

    x, _ = mnist_batch
    nets = _nets()
    shifts = ((0, 0), (-1, 0), (0, 1), (2, -1))
    model = ensemble(nets, name="views", shifts=shifts)
    model.save(tmp_path / "v.keras")
    loaded = keras.saving.load_model(tmp_path / "v.keras", safe_mode=True)
    expected = np.mean([net.predict(robustness.shift(x, dy, dx), verbose=0)
                        for net in nets for dy, dx in shifts], axis=0)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    assert sum(w.size for w in loaded.get_weights()) == sum(
        w.size for net in nets for w in net.get_weights())  # views add no weights
    one = ensemble(nets[:1], shifts=shifts)  # one net read through its views
    np.testing.assert_allclose(one.predict(x, verbose=0), np.mean(
        [nets[0].predict(robustness.shift(x, *s), verbose=0) for s in shifts], axis=0), atol=1e-6)


def test_a_members_probabilities_read_its_views_and_the_picture_alone_is_the_net(mnist_batch):
    from reproductions.run.members import member_probabilities

    x, _ = mnist_batch
    net = _nets()[0]
    np.testing.assert_array_equal(member_probabilities(net, [[0, 0]], x), net.predict(x, verbose=0))
    np.testing.assert_allclose(member_probabilities(net, [[1, 0]], x),
                               net.predict(robustness.shift(x, 1, 0), verbose=0), atol=1e-6)


@pytest.mark.parametrize("members, shifts, message", [
    (1, ((0, 0),), "at least 2 members"), (2, ((0, 0), (0, 0)), "distinct moves"),
    (2, ((0, 0), (28, 0)), "inside the picture"), (2, (), "distinct moves")])
def test_an_ensemble_refuses_what_is_not_one(members, shifts, message):
    from zoo.models.ensemble import ensemble

    with pytest.raises(ValueError, match=message):
        ensemble(_nets()[:members], shifts=shifts)


def test_the_rule_takes_fewest_errors_then_lowest_loss_then_fewest_views():
    from reproductions.search.views import choose

    def row(name, errors, loss, views):
        return {"candidate": name, "val_errors": str(errors), "val_loss": str(loss),
                "views": str(views)}

    assert choose([row("v1", 12, 0.01, 1), row("v5", 11, 0.02, 5)]) == "v5"
    assert choose([row("v1", 12, 0.02, 1), row("v5", 12, 0.01, 5)]) == "v5"
    assert choose([row("v1", 12, 0.01, 1), row("v5", 12, 0.01, 5)]) == "v1"


def test_figures_count_errors_and_the_true_class_loss():
    from reproductions.search.views import figures

    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]])
    errors, loss = figures(probs, np.array([0, 0, 1]))
    assert errors == 2  # the tie reads class 0, argmax's first
    assert loss == pytest.approx(-(np.log(0.9) + np.log(0.4) + np.log(0.5)) / 3)


def test_the_declaration_reads_the_picture_first_and_names_a_weight_of_the_ensemble():
    from reproductions.recipes import ENSEMBLES
    from reproductions.recipes.viewing import load_views
    from zoo.weights import WeightName

    views = load_views("conv7_bn_cosine")
    assert views.ensemble in ENSEMBLES and views.rule["objective"] == "val_acc"
    assert all(s[0] == (0, 0) for s in views.candidates.values())
    assert next(iter(views.candidates.values())) == ((0, 0),)  # the shipped ensemble itself
    assert WeightName.parse(views.weight).arch == "conv7_bn_ensemble"


def test_a_bad_declaration_is_refused(tmp_path):
    from reproductions.recipes.viewing import load_views

    data = json.loads((REPO / "reproductions/recipes/views/conv7_bn_cosine.json").read_text())
    for change, message in (({"chosen": "v7"}, "not among its candidates"),
                            ({"candidates": [{"name": "a", "shifts": [[1, 0]]}]},
                             "must read the picture itself first"),
                            ({"ensemble": "conv3"}, "declares no ensemble")):
        (tmp_path / "x.json").write_text(json.dumps(data | change))
        with pytest.raises(ValueError, match=message):
            load_views("x", tmp_path)
    with pytest.raises(ValueError, match="no views declared for 'y'"):
        load_views("y", tmp_path)


def test_the_committed_choice_is_the_rules_on_the_committed_validation_figures():
    from reproductions.recipes import ENSEMBLES
    from reproductions.recipes.viewing import load_views
    from reproductions.search.views import choose

    views = load_views("conv7_bn_cosine")
    with open(RESULTS / "conv7_bn_cosine_views.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["candidate"] for r in rows] == list(views.candidates)
    for r in rows:
        assert r["members"] == " ".join(map(str, ENSEMBLES["conv7_bn_cosine"]))
        assert r["shifts"] == " ".join(f"{dy},{dx}" for dy, dx in views.shifts(r["candidate"]))
        assert int(r["val_images"]) == 5000 and "test" not in r
        assert float(r["val_acc"]) == pytest.approx(1 - int(r["val_errors"]) / 5000)
    assert views.chosen == choose(rows) == next(r["candidate"] for r in rows if r["chosen"])


def test_the_views_verb_reads_validation_only(mlflow_store, monkeypatch, tmp_path):
    """The verb's process never holds the test set: load_data is asked for none, and the CSV and
    the table are written from what the members read on validation."""
    import reproductions.run.members as members
    import reproductions.run.prepare as prepare
    import reproductions.search.views as views_module
    from reproductions.__main__ import main as suite_main

    nets = dict(zip((1, 2, 3, 4, 5, 6, 7, 10), _nets() * 4))
    asked = {}
    real = prepare.load_data

    def load_data(recipe, data_dir=None, *, with_test=True):
        asked["with_test"] = with_test
        data = real(recipe, data_dir, with_test=with_test)
        return prepare.RunData(data.train, (data.val[0][:200], data.val[1][:200]), data.test,
                               data.provenance)

    monkeypatch.setattr(prepare, "load_data", load_data)
    monkeypatch.setattr(members, "trained_members", lambda recipe, seeds: ({}, nets))
    monkeypatch.setattr(views_module, "RESULTS", tmp_path)
    assert suite_main(["views", "conv7_bn_cosine"]) == 0
    assert asked == {"with_test": False}
    with open(tmp_path / "conv7_bn_cosine_views.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["views"] for r in rows] == ["1", "5", "9"]
    assert sum(bool(r["chosen"]) for r in rows) == 1
    assert "chosen" in (tmp_path / "conv7_bn_cosine_views.md").read_text()


def _declare(folder, recipe, chosen):
    (folder / f"{recipe}.json").write_text(json.dumps({
        "ensemble": recipe, "rule": {"objective": "val_acc", "why": "as declared"},
        "candidates": [{"name": "v1", "shifts": [[0, 0]]},
                       {"name": "v5", "shifts": [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]]}],
        "chosen": chosen, "weight": "conv7_bn_ensemble.views"}))


def test_the_chosen_views_ship_as_one_model_with_their_spread(mlflow_store, tmp_path,
                                                               monkeypatch, mnist):
    """Two fresh conv7_bn nets logged as runs of conv7_bn, a declaration whose rule chose v5:
    `ensemble conv7_bn --views` ships conv7_bn_ensemble.views, whose file reads every member on
    every moved picture (the numpy oracle), with its spread and card; without a choice, or with
    the picture alone chosen, it refuses."""
    import dataclasses

    import mlflow

    import reproductions
    import reproductions.recipes.viewing as viewing
    import zoo.weights as weights
    from reproductions.__main__ import main as suite_main
    from reproductions.recipes import RECIPES
    from reproductions.report import record_doc
    from reproductions.ship import models_md
    from tracking.runs import experiment_for

    monkeypatch.setitem(RECIPES, "conv7_bn", dataclasses.replace(RECIPES["conv7_bn"],
                                                                  seeds=(5, 6)))
    recipe = RECIPES["conv7_bn"]
    keras.utils.set_random_seed(0)
    nets = {}
    for seed in (5, 6):
        path = tmp_path / f"{seed}" / "conv7_bn.keras"
        path.parent.mkdir()
        nets[seed] = zoo.create_model("conv7_bn")
        nets[seed].save(path)
        with mlflow.start_run(experiment_id=experiment_for(recipe), tags={
                "recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": str(seed),
                "data_sha256": "d" * 64, "version.keras": keras.__version__,
                "version.tensorflow": "2.21.0", "git_commit": "abc"}):
            mlflow.log_metrics({"test_accuracy": 0.1, "wall_s": 100.0 * seed,
                                "test_examples": 10_000})
            mlflow.log_artifact(str(path), "model")
    shipped = tmp_path / "weights"
    shipped.mkdir()
    monkeypatch.setattr(weights, "WEIGHTS_DIR", shipped)
    monkeypatch.setattr(weights.card, "WEIGHTS_DIR", shipped)
    monkeypatch.setattr(weights, "MANIFEST", shipped / "manifest.json")
    monkeypatch.setattr(models_md, "MODELS_MD", tmp_path / "MODELS.md")
    monkeypatch.setattr(reproductions, "RESULTS", tmp_path)
    monkeypatch.setitem(reproductions.recipes.ENSEMBLES, "conv7_bn", (5, 6))
    monkeypatch.setattr(viewing, "VIEWS", tmp_path)
    for chosen, message in ((None, "not chosen yet"), ("v1", "ships without --views")):
        _declare(tmp_path, "conv7_bn", chosen)
        with pytest.raises(SystemExit) as stopped:
            suite_main(["ensemble", "conv7_bn", "--views"])
        assert stopped.value.code == 2
    _declare(tmp_path, "conv7_bn", "v5")
    try:
        assert suite_main(["ensemble", "conv7_bn", "--views"]) == 0
        card = weights.WeightCard.from_manifest(next(
            e for e in json.loads((shipped / "manifest.json").read_text())
            if e["name"] == "conv7_bn_ensemble.views"))
    finally:
        weights.cards.cache_clear()  # the real manifest again for the other tests
    assert "each reading 5 views" in card.chosen and "--views" in card.command
    model = weights.load_file(shipped / card.file, card.sha256)
    x = mnist[1][0][:64]
    shifts = viewing.load_views("conv7_bn").shifts("v5")
    expected = np.mean([nets[s].predict(robustness.shift(x, *m), verbose=0)
                        for s in (5, 6) for m in shifts], axis=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert card.params == 2 * 326_410
    with open(tmp_path / "conv7_bn_views_ensemble.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["k"], r["count"]) for r in rows] == [("1", "2"), ("2", "1")]
    assert float(rows[-1]["mean_test_acc"]) == pytest.approx(card.test_accuracy, abs=1e-4)
    block = record_doc.render_views(tmp_path, "conv7_bn")
    assert "`conv7_bn_ensemble.views`" in block and "each reading 5 views" in block
