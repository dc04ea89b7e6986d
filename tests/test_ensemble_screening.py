"""Issue 28's ensemble screenings: an ensemble whose members also read each picture moved by
whole pixels (test-time views), as one safe Keras model; candidate ensembles (their members,
their views) declared, chosen blind on validation, and the choice shipped."""

import csv
import json
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo
import zoo.data
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


def test_the_rule_takes_fewest_errors_then_lowest_loss_then_fewest_readings():
    from reproductions.search.ensemble_screen import choose

    def row(name, errors, loss, views, members="a:1 a:2"):
        return {"candidate": name, "val_errors": str(errors), "val_loss": str(loss),
                "views": str(views), "members": members}

    assert choose([row("v1", 12, 0.01, 1), row("v5", 11, 0.02, 5)]) == "v5"
    assert choose([row("v1", 12, 0.02, 1), row("v5", 12, 0.01, 5)]) == "v5"
    assert choose([row("v1", 12, 0.01, 1), row("v5", 12, 0.01, 5)]) == "v1"
    assert choose([row("m3", 12, 0.01, 1, "a:1 a:2 b:1"), row("m2", 12, 0.01, 1)]) == "m2"


def test_figures_count_errors_and_the_true_class_loss():
    from reproductions.search.ensemble_screen import figures

    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]])
    errors, loss = figures(probs, np.array([0, 0, 1]))
    assert errors == 2  # the tie reads class 0, argmax's first
    assert loss == pytest.approx(-(np.log(0.9) + np.log(0.4) + np.log(0.5)) / 3)


def test_each_declaration_starts_from_the_shipped_ensemble_and_names_one_of_its_weights():
    from reproductions.recipes import ENSEMBLES
    from reproductions.recipes.ensemble_screening import (PICTURE, ensemble_screening_names,
                                                          load_ensemble_screening)
    from zoo.weights import WeightName

    names = ensemble_screening_names()
    assert {"conv7_bn_views", "conv7_bn_mixed"} <= set(names)
    for name in names:
        screening = load_ensemble_screening(name)
        first = next(iter(screening.candidates.values()))
        assert first.shifts == PICTURE and first.members == tuple(
            (screening.ensemble, s) for s in ENSEMBLES[screening.ensemble])
        assert screening.rule["objective"] == "val_acc"
        assert WeightName.parse(screening.weight).arch == "conv7_bn_ensemble"
    from zoo.models import ensemble as zoo_ensemble

    assert PICTURE == zoo_ensemble.PICTURE  # the recipes' copy, kept free of Keras
    mixed = load_ensemble_screening("conv7_bn_mixed").candidates["mixed_8"]
    assert mixed.recipes == ("conv7_bn_cosine", "conv7_bn_swa") and len(mixed.members) == 8
    assert mixed.members[:4] == (("conv7_bn_cosine", 1), ("conv7_bn_swa", 1),
                                 ("conv7_bn_cosine", 2), ("conv7_bn_swa", 2))  # halves mix both


def test_a_bad_declaration_is_refused(tmp_path):
    from reproductions.recipes.ensemble_screening import load_ensemble_screening

    data = json.loads((REPO / "reproductions/recipes/ensembles/conv7_bn_views.json").read_text())
    first = data["candidates"][0]
    for change, message in (
            ({"chosen": "v7"}, "not among its candidates"),
            ({"candidates": [first, {"name": "a", "shifts": [[1, 0]]}]},
             "must read the picture itself first"),
            ({"candidates": [{"name": "a", "members": {"conv7_bn_cosine": [1, 2]}}]},
             "the first candidate must be the shipped ensemble"),
            ({"candidates": [first, {"name": "b", "members": {"conv7_bn_cosine": [1, 1]}}]},
             "each member once"),
            ({"candidates": [first, {"name": "c", "members": {"conv7_bm": [1, 2]}}]},
             "conv7_bm"),
            ({"ensemble": "conv3"}, "declares no ensemble")):
        (tmp_path / "x.json").write_text(json.dumps(data | change))
        with pytest.raises(ValueError, match=message):
            load_ensemble_screening("x", tmp_path)
    with pytest.raises(ValueError, match="no ensemble screening 'y'"):
        load_ensemble_screening("y", tmp_path)


@pytest.mark.parametrize("name", ["conv7_bn_views", "conv7_bn_mixed"])
def test_the_committed_choice_is_the_rules_on_the_committed_validation_figures(name):
    from reproductions.recipes.ensemble_screening import load_ensemble_screening
    from reproductions.search.ensemble_screen import choose

    screening = load_ensemble_screening(name)
    with open(RESULTS / f"{name}_ensemble_screening.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["candidate"] for r in rows] == list(screening.candidates)
    for r in rows:
        candidate = screening.candidates[r["candidate"]]
        assert r["members"] == " ".join(f"{recipe}:{seed}" for recipe, seed in candidate.members)
        assert r["shifts"] == " ".join(f"{dy},{dx}" for dy, dx in candidate.shifts)
        assert int(r["val_images"]) == 5000 and not any("test" in k for k in r)
        assert float(r["val_acc"]) == pytest.approx(1 - int(r["val_errors"]) / 5000)
    assert screening.chosen == choose(rows) == next(r["candidate"] for r in rows if r["chosen"])


def test_the_screening_verb_reads_validation_only(mlflow_store, monkeypatch, tmp_path):
    """The verb's process never holds the test set: load_data is asked for none, and the CSV and
    the table are written from what the members, of two recipes, read on validation."""
    import reproductions.run.members as members
    import reproductions.run.prepare as prepare
    import reproductions.search.ensemble_screen as screen
    from reproductions.__main__ import main as suite_main

    nets = _nets()
    asked = []
    real = prepare.load_data

    def load_data(recipe, data_dir=None, *, with_test=True):
        asked.append((recipe.name, with_test))
        data = real(recipe, data_dir, with_test=with_test)
        return prepare.RunData(data.train, (data.val[0][:200], data.val[1][:200]), data.test,
                               data.provenance)

    def trained(recipe, seeds):
        return {}, {s: nets[(s + len(recipe.name)) % 2] for s in seeds}

    monkeypatch.setattr(prepare, "load_data", load_data)
    monkeypatch.setattr(members, "trained_members", trained)
    reference = tmp_path / "reference"
    reference.mkdir()
    monkeypatch.setattr(screen, "RESULTS", reference)
    assert suite_main(["ensemble-screen", "conv7_bn_mixed"]) == 0
    assert sorted(asked) == [("conv7_bn_cosine", False), ("conv7_bn_swa", False)]
    # a user's screening goes beside the store; the committed table only with --reference
    for folder in (tmp_path / "mlflow-results", reference):
        if folder == reference:
            assert list(reference.iterdir()) == []
            assert suite_main(["ensemble-screen", "conv7_bn_mixed", "--reference"]) == 0
        with open(folder / "conv7_bn_mixed_ensemble_screening.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r["candidate"] for r in rows] == ["cosine_8", "mixed_8"]
        assert "conv7_bn_swa:4" in rows[1]["members"]
        assert sum(bool(r["chosen"]) for r in rows) == 1
        assert "chosen" in (folder / "conv7_bn_mixed_ensemble_screening.md").read_text()


def _declare(folder, recipe, chosen):
    (folder / "s.json").write_text(json.dumps({
        "ensemble": recipe, "rule": {"objective": "val_acc", "why": "as declared"},
        "candidates": [{"name": "v1", "shifts": [[0, 0]]},
                       {"name": "v5", "shifts": [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]]},
                       {"name": "mixed", "members": {recipe: [5, 6], "conv7_bn_cosine": [5]}},
                       {"name": "alien", "members": {recipe: [5], "conv3_tuned": [5]}}],
        "chosen": chosen, "weight": "conv7_bn_ensemble.views"}))


def test_a_screenings_choice_ships_as_one_model_with_its_spread(mlflow_store, tmp_path,
                                                                monkeypatch, mnist, capsys):
    """Three fresh conv7_bn nets logged as runs, two of conv7_bn and one of conv7_bn_cosine, and
    a declaration whose rule chose v5: `ensemble conv7_bn --screening s` ships
    conv7_bn_ensemble.views, whose file reads every member on every moved picture (the numpy
    oracle), with its spread and card. Chosen "mixed", the nets of both recipes ship, named
    recipe:seed. Without a choice, with the shipped ensemble chosen, or with another net's
    members, it refuses."""
    import dataclasses

    import mlflow

    import reproductions
    import reproductions.recipes.ensemble_screening as declared
    import zoo.weights as weights
    from reproductions.__main__ import main as suite_main
    from reproductions.recipes import RECIPES
    from reproductions.report import record_doc
    from reproductions.ship import models_md
    from tracking.runs import experiment_for

    monkeypatch.setitem(RECIPES, "conv7_bn", dataclasses.replace(RECIPES["conv7_bn"],
                                                                  seeds=(5, 6)))
    keras.utils.set_random_seed(0)
    nets = {}
    for name, seed in (("conv7_bn", 5), ("conv7_bn", 6), ("conv7_bn_cosine", 5)):
        recipe = RECIPES[name]
        path = tmp_path / f"{name}{seed}" / "conv7_bn.keras"
        path.parent.mkdir()
        nets[name, seed] = zoo.create_model("conv7_bn")
        nets[name, seed].save(path)
        with mlflow.start_run(experiment_id=experiment_for(recipe), tags={
                "recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": str(seed),
                "data_sha256": "d" * 64, "version.keras": keras.__version__,
                "version.tensorflow": "2.21.0", "git_commit": "abc",
                # conv7_bn's two trained as workers of --jobs 2, the other with the default
                "tf_threads": f"intra {1 if name == 'conv7_bn' else 'default'}, inter 1"}):
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
    monkeypatch.setattr(declared, "ENSEMBLE_SCREENING", tmp_path)
    read = zoo.data.load  # the verb reads 500 test images here, not 10,000: the same code, faster

    def first_500(name, *args, **kwargs):
        train, (x_test, y_test) = read(name, *args, **kwargs)
        return train, (x_test[:500], y_test[:500])

    monkeypatch.setattr(zoo.data, "load", first_500)
    for chosen, args, message in (
            (None, (), "no choice yet"), ("v1", (), "nothing new to ship"),
            ("alien", (), "conv3_tuned are not conv7_bn nets"),
            ("v5", ("--seeds", "5,6"), "exclude each other")):
        _declare(tmp_path, "conv7_bn", chosen)
        with pytest.raises(SystemExit) as stopped:
            suite_main(["ensemble", "conv7_bn", "--screening", "s", *args])
        assert stopped.value.code == 2
        assert message in capsys.readouterr().err

    def ship(chosen):
        """The verb run on the screening `s` whose rule chose `chosen`: the card it wrote."""
        _declare(tmp_path, "conv7_bn", chosen)
        try:
            assert suite_main(["ensemble", "conv7_bn", "--screening", "s"]) == 0
            return weights.WeightCard.from_manifest(next(
                e for e in json.loads((shipped / "manifest.json").read_text())
                if e["name"] == "conv7_bn_ensemble.views"))
        finally:
            weights.cards.cache_clear()  # the real manifest again for the other tests

    card = ship("v5")
    assert "each reading 5 view(s)" in card.chosen and "--screening s" in card.command
    model = weights.load_file(shipped / card.file, card.sha256)
    x = mnist[1][0][:64]
    shifts = declared.load_ensemble_screening("s").candidates["v5"].shifts
    expected = np.mean([nets["conv7_bn", s].predict(robustness.shift(x, *m), verbose=0)
                        for s in (5, 6) for m in shifts], axis=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert card.params == 2 * 326_410
    with open(tmp_path / "s_ensemble.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["k"], r["count"]) for r in rows] == [("1", "2"), ("2", "1")]
    assert float(rows[-1]["mean_test_acc"]) == pytest.approx(card.test_accuracy, abs=1e-4)
    block = record_doc.render_screened("s", tmp_path)
    assert "`conv7_bn_ensemble.views`" in block and "each reading 5 view(s)" in block
    card = ship("mixed")
    assert "conv7_bn:5, conv7_bn_cosine:5, conv7_bn:6 (recipe:seed)" in card.chosen
    assert "RECIPES=conv7_bn SEEDS=5,6 THREADS=1 && " in card.command
    assert "RECIPES=conv7_bn_cosine SEEDS=5 && " in card.command
    model = weights.load_file(shipped / card.file, card.sha256)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.mean(
        [net.predict(x, verbose=0) for net in nets.values()], axis=0), atol=1e-5)
    with open(tmp_path / "s_ensemble.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[-1]["groups"] == "conv7_bn:5+conv7_bn_cosine:5+conv7_bn:6"
    assert "the nets conv7_bn:5, conv7_bn_cosine:5, conv7_bn:6 (recipe:seed)" in \
        record_doc.render_screened("s", tmp_path)


def test_reading_members_from_the_store_leaves_no_copy_behind(mlflow_store, tmp_path,
                                                               monkeypatch):
    """MLflow's download_artifacts, given no folder, copies into a temporary folder nobody
    removes: every screening once left its members' files in /tmp. Read through
    tracking.runs.artifact_file, the members load and the temporary folder stays empty."""
    import tempfile

    import mlflow

    from reproductions.recipes import RECIPES
    from reproductions.run.members import trained_members
    from tracking.runs import experiment_for

    recipe = RECIPES["conv3"]
    keras.utils.set_random_seed(0)
    net = zoo.create_model(recipe.model)
    path = tmp_path / "net" / f"{recipe.model}.keras"
    path.parent.mkdir()
    net.save(path)
    with mlflow.start_run(experiment_id=experiment_for(recipe), tags={
            "recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": "3"}):
        mlflow.log_artifact(str(path), "model")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    _, models = trained_members(recipe, (3,))
    assert [w.shape for w in models[3].get_weights()] == [w.shape for w in net.get_weights()]
    for got, want in zip(models[3].get_weights(), net.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert list(scratch.iterdir()) == []


def test_a_refits_nets_cannot_be_screened(tmp_path, monkeypatch):
    """The refit's nets learned the 5,000 validation images an ensemble screening reads: a
    declaration naming them, as members or as its ensemble, is refused when it loads."""
    import reproductions.recipes.ensemble_screening as declared

    monkeypatch.setattr(declared, "ENSEMBLE_SCREENING", tmp_path)
    _declare(tmp_path, "conv7_bn_cosine", None)
    data = json.loads((tmp_path / "s.json").read_text())
    data["candidates"] = data["candidates"][:1] + [
        {"name": "refit", "members": {"conv7_bn_cosine_refit": [1, 2]}}]
    (tmp_path / "s.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="conv7_bn_cosine_refit trains on every training image"):
        declared.load_ensemble_screening("s")
    _declare(tmp_path, "conv7_bn_cosine_refit", None)
    with pytest.raises(ValueError, match="its nets cannot be screened"):
        declared.load_ensemble_screening("s")
