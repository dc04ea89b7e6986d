"""The MLflow UI as a user browses it (issue 19), on a store of short real runs: each run's data as
MLflow datasets, every metric on the training-step axis, a parent run per recipe carrying the
same summary as the results tables, descriptions with the command that reproduces each run; then
the real UI (`mlflow server`) in a real browser (Debian's chromium under Selenium)."""

import json
import os
from pathlib import Path
from types import SimpleNamespace

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from reproductions.report import tables as report
from reproductions.__main__ import build_parser
from reproductions.recipes.notes import command
from reproductions.run.prepare import steps_per_execution
from reproductions.recipes import BUILT_IN, RECIPES, derive, get_recipe, parse_override
from reproductions.run.train import train_run
from tests.browser import chromium
from tests.servers import mlflow_server
from tracking import parents as parents_module
from tracking.curves import StepCurves, points_every
from tracking.parents import KIND, KIND_TAG, parent_run, parents, update_parent
from tracking.summary import t_interval

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "runs" / "mlflow-ui"  # screenshots for a person to look at (git ignores runs/)
# two recipes of seconds each: one evaluating twice, one evaluating once (at its last step)
# chosen recipes (a validation split), so that a run logs all three parts of its data
TINY = derive(RECIPES["conv3"], {"steps": 60, "eval_every": 30, "train_subset": 2000,
                                 "validation_size": 5000})
ONCE = derive(RECIPES["conv3"], {"steps": 60, "eval_every": 60, "train_subset": 1000,
                                 "validation_size": 5000})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui-store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        runs = {(recipe.name, seed): train_run(recipe, seed, checkpoint_root=folder / "ck",
                                               log_mlflow_model=False)
                for recipe, seed in ((TINY, 1), (TINY, 2), (ONCE, 1))}
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name("zoo-mnist").experiment_id
        yield SimpleNamespace(uri=uri, folder=folder, runs=runs, client=client,
                              experiment=experiment)
    mlflow.set_tracking_uri(None)


def _run(store, recipe, seed):
    return store.client.get_run(store.runs[(recipe.name, seed)]["run_id"])


def _steps(store, run, metric):
    return [m.step for m in sorted(store.client.get_metric_history(run.info.run_id, metric),
                                   key=lambda m: m.step)]


def test_every_run_logs_its_training_validation_and_test_data(store):
    seen = {}
    for recipe, seed in ((TINY, 1), (TINY, 2), (ONCE, 1)):
        run = _run(store, recipe, seed)
        inputs = run.inputs.dataset_inputs
        contexts = {t.value for i in inputs for t in i.tags if t.key == "mlflow.data.context"}
        assert len(inputs) == 3 and contexts == {"training", "validation", "test"}
        for i in inputs:
            context = {t.key: t.value for t in i.tags}["mlflow.data.context"]
            assert i.dataset.name == f"mnist-{context}"
            assert {t.key: t.value for t in i.tags}["data_sha256"] == run.data.tags["data_sha256"]
            assert len(i.dataset.digest) == 16 and i.dataset.source_type == "local"
            spec = json.loads(i.dataset.schema)["mlflow_tensorspec"]
            assert json.loads(spec["features"])[0]["tensor-spec"] == {"dtype": "uint8",
                                                                      "shape": [-1, 28, 28]}
            assert json.loads(spec["targets"])[0]["tensor-spec"] == {"dtype": "uint8",
                                                                     "shape": [-1]}
            rows = {"training": recipe.train_subset, "validation": 5000, "test": 10000}[context]
            assert json.loads(i.dataset.profile)["features_shape"] == [rows, 28, 28]
            assert json.loads(i.dataset.source) == {"uri": os.environ["ZOO_DATA_DIR"] + "/mnist"}
            seen.setdefault((recipe.name, context), set()).add(i.dataset.digest)
    # same data, same digest; other rows (a smaller training subset), another digest
    assert all(len(d) == 1 for d in seen.values())
    assert seen[(TINY.name, "test")] == seen[(ONCE.name, "test")]
    assert seen[(TINY.name, "validation")] == seen[(ONCE.name, "validation")]
    assert seen[(TINY.name, "training")] != seen[(ONCE.name, "training")]
    assert len({d for (_, c), ds in seen.items() if c != "training" for d in ds} |
               seen[(TINY.name, "training")]) == 3


def test_every_metric_is_logged_against_the_training_step(store):
    run = _run(store, TINY, 1)  # spe = gcd(30, 100) = 10: a training point every 10 steps
    for metric in ("loss", "accuracy"):
        assert _steps(store, run, metric) == [10, 20, 30, 40, 50, 60]
    for metric in ("val_loss", "val_accuracy"):
        assert _steps(store, run, metric) == [30, 60]
    for metric in ("test_loss", "test_accuracy"):  # a chosen recipe: once, after the last step
        assert _steps(store, run, metric) == [60]
    for metric in ("best_val_accuracy", "wall_s", "images_per_second"):
        assert _steps(store, run, metric) == [60]
    assert _steps(store, run, "peak_test_accuracy") == []  # no test read during training
    # the recipe that evaluates once still has curves of its training loss and accuracy
    once = _run(store, ONCE, 1)
    assert _steps(store, once, "loss") == [20, 40, 60]
    assert _steps(store, once, "test_accuracy") == [60]
    assert once.data.metrics["test_accuracy"] == store.runs[(ONCE.name, 1)]["test_accuracy"]


def test_training_points_are_window_means_of_keras_running_means():
    state = {}
    curves = StepCurves(steps=8, eval_every=4, per_call=2, state=state, enabled=False)
    assert curves.every == 2
    losses, accs = [4.0, 2.0, 1.0, 3.0, 8.0, 6.0, 5.0, 1.0], [0.0, 1.0, 0.5, 0.5, 1, 1, 0, 0]
    for epoch in range(2):
        curves.on_epoch_begin(epoch)
        for i in range(4):
            seen = losses[4 * epoch:4 * epoch + i + 1], accs[4 * epoch:4 * epoch + i + 1]
            # Keras' batch logs: running means since the epoch began
            curves.on_train_batch_end(i, {"loss": sum(seen[0]) / len(seen[0]),
                                          "accuracy": sum(seen[1]) / len(seen[1])})
    loss = [(step, value) for key, step, value in state["curves"] if key == "loss"]
    acc = [(step, value) for key, step, value in state["curves"] if key == "accuracy"]
    assert loss == [(2, 3.0), (4, 2.0), (6, 7.0), (8, 3.0)]
    assert acc == [(2, 0.5), (4, 0.5), (6, 1.0), (8, 0.0)]


@pytest.mark.parametrize("recipe", BUILT_IN, ids=lambda r: r.name)
def test_every_recipe_logs_at_most_200_points_between_its_evaluations(recipe):
    per_call = steps_per_execution(recipe)
    every = points_every(recipe.steps, recipe.eval_every, per_call)
    assert recipe.eval_every % every == 0 and every % per_call == 0
    assert 2 <= recipe.steps // every <= 200  # a curve, not a dot, and not thousands of points


def test_interval_and_verdicts():
    low, high = t_interval([1.0, 2.0, 3.0])  # t(0.975, 2) = 4.302653; std 1; n 3
    assert low == pytest.approx(2 - 4.302653 / 3 ** 0.5) and high == pytest.approx(
        2 + 4.302653 / 3 ** 0.5)
    assert t_interval([0.99]) is None
    # (verdicts: tests/test_verdicts.py, on hand-worked counts of correct answers)


def test_one_parent_per_recipe_with_the_tables_figures(store):
    client = store.client
    [parent] = parents(client, store.experiment, TINY)
    children = client.search_runs([store.experiment], f"tags.`mlflow.parentRunId` = "
                                                      f"'{parent.info.run_id}'")
    assert sorted(r.data.tags["seed"] for r in children) == ["1", "2"]
    assert parent.info.status == "FINISHED" and parent.data.tags[KIND_TAG] == KIND
    # the results table's row and the parent come from one RecipeSummary: they agree
    row = {r["recipe"]: r for r in report.collect("mnist", [TINY, ONCE])}[TINY.name]
    acc = [store.runs[(TINY.name, s)]["test_accuracy"] for s in (1, 2)]
    metrics, tags = parent.data.metrics, parent.data.tags
    assert metrics["n_seeds"] == row["n_seeds"] == 2
    assert metrics["test_accuracy_mean"] == pytest.approx(row["mean_test_acc"]) \
        == pytest.approx(sum(acc) / 2)
    assert metrics["test_accuracy_std"] == pytest.approx(row["std_test_acc"]) \
        == pytest.approx(abs(acc[0] - acc[1]) / 2 ** 0.5)
    half = 12.706205 * abs(acc[0] - acc[1]) / 2  # t(0.975, 1) * std / sqrt(2)
    assert metrics["test_accuracy_ci95_low"] == pytest.approx(row["ci95_low_test_acc"]) \
        == pytest.approx(sum(acc) / 2 - half)
    assert tags["verdict"] == row["verdict"] == "short"  # 90% against Görner's 98.9%
    assert tags["target_acc"] == "0.989" and tags["target_source"] == TINY.target_source
    assert "89." in tags["summary"] or "90." in tags["summary"]
    # the written table carries the same verdict and interval
    report.write("mnist", store.folder / "tables", [TINY, ONCE])
    text = (store.folder / "tables" / "mnist.csv").read_text()
    assert f"{row['ci95_low_test_acc']:.6f}" in text and ",short," in text
    # the recipe that ran one seed: no interval, and its verdict says so
    [once] = parents(client, store.experiment, ONCE)
    assert once.data.tags["verdict"] == "undecided" and \
        "test_accuracy_ci95_low" not in once.data.metrics


def test_descriptions_say_what_each_run_is_and_the_command_that_reproduces_it(store):
    run = _run(store, TINY, 2)
    note = run.data.tags["mlflow.note.content"]
    line = ("python -m reproductions reproduce --recipes conv3 --set steps=60 --set "
            "eval_every=30 --set train_subset=2000 --set validation_size=5000 --seeds 2")
    assert f"`{line}`" in note and TINY.target_source in note and TINY.hash() in note
    # the command trains this very recipe: same hash through the suite's own parser
    args = build_parser().parse_args(line.split()[3:])
    assert args.recipes in ("conv3", ["conv3"])
    assert derive(get_recipe("conv3"), dict(parse_override(t) for t in args.set)).hash() \
        == TINY.hash()
    [parent] = parents(store.client, store.experiment, TINY)
    assert "seeds (1 2)" in parent.data.tags["mlflow.note.content"]
    assert "--set validation_size=5000`" in parent.data.tags["mlflow.note.content"]
    experiment = store.client.get_experiment(store.experiment)
    assert "make reproduce-mnist" in experiment.tags["mlflow.note.content"]
    assert command(get_recipe("conv3"), 1) == "make reproduce-mnist RECIPES=conv3 SEEDS=1"
    assert command(get_recipe("audio_conv_loso_theo")) == \
        "make reproduce-fsdd RECIPES=audio_conv_loso_theo"
    assert command(get_recipe("conv3_tuned"), 2) == \
        "make reproduce-mnist RECIPES=conv3_tuned SEEDS=2"
    screened = derive(get_recipe("conv3_bn"), {"steps": 2000}, name="handmade")
    assert command(screened).startswith("none:")  # a name no command makes
    from reproductions.recipes import load_screening
    variant = next(iter(load_screening("conv3_bn_fast").variants.values()))
    assert command(variant).startswith("python -m reproductions screen conv3_bn_fast")
    # a run trained with a thread count of its own (a worker's) says it: the same seed trained
    # with another count ends some test images apart
    from reproductions.recipes.notes import run_note
    assert "`make reproduce-mnist RECIPES=conv3 SEEDS=1 THREADS=1`" in run_note(
        get_recipe("conv3"), 1, threads=1)
    assert f"`{line} --threads 1`" in run_note(TINY, 2, threads=1)
    # only reproduce takes --threads: a screened variant's command is left as it is
    assert run_note(variant, 8, threads=1).count("--threads") == 0


def test_parents_created_concurrently_end_as_one(mlflow_store, monkeypatch):
    client = MlflowClient(mlflow_store)
    experiment = client.create_experiment("zoo-mnist")
    tags = {"recipe": TINY.name, "recipe_hash": TINY.hash(), KIND_TAG: KIND}
    theirs = client.create_run(experiment, tags=tags, start_time=1000).info.run_id
    # our lookup misses theirs (they created it between our search and our create)
    real = parents_module.parents
    calls = []
    monkeypatch.setattr(parents_module, "parents", lambda *a: calls.append(1) or (
        [] if len(calls) == 1 else real(*a)))
    assert parent_run(experiment, TINY) == theirs  # ours was created, then given up
    monkeypatch.setattr(parents_module, "parents", real)
    assert [p.info.run_id for p in parents(client, experiment, TINY)] == [theirs]
    # both kept one (neither saw the other): the next update keeps the first, moves the seeds
    later = client.create_run(experiment, tags=tags, start_time=2000).info.run_id
    child = client.create_run(experiment, tags={**tags, KIND_TAG: "", "seed": "1",
                                                "mlflow.parentRunId": later}).info.run_id
    update_parent(experiment, TINY)
    assert [p.info.run_id for p in parents(client, experiment, TINY)] == [theirs]
    assert client.get_run(child).data.tags["mlflow.parentRunId"] == theirs
    assert client.get_run(later).info.lifecycle_stage == "deleted"


# ---- the real UI in a real browser --------------------------------------------------------

@pytest.mark.slow  # 25 s or more: `make test-slow`, which CI runs
def test_the_mlflow_ui_shows_datasets_parents_with_summaries_and_step_curves(store):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(parents=True, exist_ok=True)
    artifacts = store.folder / "served-artifacts"
    artifacts.mkdir(exist_ok=True)
    [parent] = parents(store.client, store.experiment, TINY)
    child = store.runs[(TINY.name, 1)]["run_id"]
    base = f"#/experiments/{store.experiment}"
    ml = "workflowType=machine_learning"  # MLflow 3's "Model training" view of the experiment
    with mlflow_server(store.uri, str(artifacts)) as url, chromium(2600, 900) as driver:
        wait = WebDriverWait(driver, 60)

        def shot(name):
            driver.save_screenshot(str(SHOTS / f"{name}.png"))
            (SHOTS / f"{name}.html").write_text(driver.page_source)

        def text_present(text):
            return wait.until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)

        # the experiment's runs, at the address `make mlflow-ui` prints (a fresh browser profile
        # starts on MLflow's GenAI view; the address switches it to model training)
        from tracking.ui import zoo_addresses

        printed = zoo_addresses(url, store.uri)
        assert f"zoo-mnist: {url}/{base}/runs?{ml}&viewStateShareKey=zoo-summary" in printed
        driver.get(printed[0].split(": ", 1)[1])
        text_present(f"{TINY.name} (all seeds)")
        for close in driver.find_elements(By.CSS_SELECTOR, 'button[aria-label="Close"]'):
            if close.is_displayed():  # the "MLflow Assistant" side panel: room for the runs
                close.click()
        # the zoo's shared view: each parent's verdict, mean, spread and interval as columns,
        # chosen by the experiment (tracking/ui.py), not by this browser (ag-grid draws only
        # the columns in sight: their ids are read from the grid's header, all of it)
        shot("experiment-runs-view")
        wanted = ("verdict", "test_accuracy_mean", "test_accuracy_std", "test_accuracy_ci95_low",
                  "test_accuracy_ci95_high", "target_acc")
        shown = wait.until(lambda d: {c.get_attribute("col-id") for c in d.find_elements(
            By.CSS_SELECTOR, ".ag-header-cell[col-id]")} or None)
        assert {"tags.`verdict`"} | {f"metrics.`{m}`" for m in wanted[1:]} <= shown, shown
        assert "short" in driver.find_element(By.TAG_NAME, "body").text  # TINY's verdict
        for button in driver.find_elements(By.CSS_SELECTOR,
                                           'button[data-component-id$="runnamecellrenderer.tsx_46"]'):
            button.click()  # the "+" beside a parent: show its nested runs
        text_present(f"{TINY.name}-seed2")
        text_present("mnist-training")  # the Dataset column
        assert "The ConvNet Zoo's reproductions on mnist" in driver.page_source
        shot("experiment-runs")

        # the parent run: its summary as tags and metrics, its seeds as child runs
        driver.get(f"{url}/{base}/runs/{parent.info.run_id}?{ml}")
        text_present("recipe-summary")
        for metric in ("test_accuracy_mean", "test_accuracy_std", "test_accuracy_ci95_low",
                       "test_accuracy_ci95_high", "n_seeds"):
            text_present(metric)  # the overview's metrics table
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "verdict" in body and "short" in body and "Child runs" in body
        assert body.count(f"{TINY.name}-seed") >= 2
        shot("parent-run")

        # a seed's run: its datasets, and its loss as a curve of several points
        driver.get(f"{url}/{base}/runs/{child}?{ml}")
        digest = {i.dataset.name: i.dataset.digest
                  for i in store.client.get_run(child).inputs.dataset_inputs}["mnist-training"]
        text_present(f"mnist-training ({digest})")  # and "+2": validation, test
        text_present("Parent run")
        shot("seed-run")
        driver.get(f"{url}/{base}/runs/{child}/model-metrics?{ml}")
        def loss_points(d):
            for card in d.find_elements(By.CSS_SELECTOR,
                                        '[data-testid="experiment-view-compare-runs-card"]'):
                if card.find_elements(By.CSS_SELECTOR, 'h4[title="loss"]'):
                    return len(card.find_elements(By.CSS_SELECTOR, "path.point"))
            return 0

        wait.until(lambda d: loss_points(d) >= 6)  # steps 10, 20, ..., 60: one marker each
        shot("seed-run-curves")


@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--recipe", "no_such_recipe"],
                                  ["--set", "steps=7"]])
def test_bench_logging_refuses_bad_input_before_training(argv, capsys):
    from reproductions.__main__ import main
    with pytest.raises(SystemExit) as exit_:
        main(["bench-logging", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("repeats" in err or "recipe" in err)


def test_a_parent_that_cannot_be_updated_warns_with_the_repair_and_spares_the_run(
        monkeypatch, capsys):
    from mlflow.exceptions import MlflowException

    def broken(*args):
        raise MlflowException("the store went away")

    monkeypatch.setattr(parents_module, "_update", broken)
    assert update_parent("0", TINY, repair="python -m reproductions report mnist") is None
    err = capsys.readouterr().err
    assert "the store went away" in err and "`python -m reproductions report mnist`" in err
    with pytest.raises(MlflowException):  # without a repair command, the caller decides
        update_parent("0", TINY)
