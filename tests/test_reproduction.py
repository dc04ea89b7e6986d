"""The reproduction machinery on short real runs: what a run logs, the results table, resume
after kill -9, determinism, and failing fast on a bad tracking store."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
import scipy.stats
from mlflow.tracking import MlflowClient

from reproductions.report import tables as report
from reproductions.recipes import RECIPES, Constant, CosineWarmup, ExponentialFloored, Recipe
from reproductions.run.train import train_run
from tracking import TrackingError, check_store
from tracking.summary import binomial_se, t_interval
import zoo.data

REPO = Path(__file__).resolve().parents[1]
# conv3_dropout: dropout makes the RNG state part of what a resume must restore
QUICK = Recipe("quick", "conv3_dropout", 0.5, "a test recipe", pixel_scale=1 / 256,
               steps=40, eval_every=20, train_subset=2000)


def final_weights(run_id, model="conv3_dropout"):
    from tracking.runs import artifact_file

    with artifact_file(run_id, f"model/{model}.keras") as path:
        return keras.saving.load_model(path, safe_mode=True).get_weights()


# the published protocol: no validation split, the test set at every evaluation
PUBLISHED = replace(QUICK, name="quick_published", validation_size=0)


def same(a, b):
    """Two weight lists, equal array by array (an empty or shorter list is not the same)."""
    assert a and b, "no weights to compare"
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_same_refuses_lists_of_other_lengths():
    w = [np.zeros(2), np.ones(3)]
    assert same(w, [x.copy() for x in w]) and not same(w, w[:1])
    with pytest.raises(AssertionError):
        same([], [])


@pytest.fixture()
def ckpt(tmp_path):
    return tmp_path / "checkpoints"


def test_run_logs_params_metrics_tags_and_artifacts(mlflow_store, ckpt, tmp_path):
    result = train_run(QUICK, seed=1, checkpoint_root=ckpt)
    client = MlflowClient()
    run = client.get_run(result["run_id"])
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["model"] == "conv3_dropout" and params["steps"] == "40" and params["seed"] == "1"
    assert params["lr_max"] == "0.003" and params["batch_size"] == "100"
    metrics = run.data.metrics
    for key in ("test_accuracy", "test_loss", "best_val_accuracy", "final_val_accuracy",
                "wall_s", "images_per_second"):
        assert key in metrics
    assert 0.5 < metrics["test_accuracy"] <= 1
    # a chosen recipe's reported seed: validation every evaluation, the test set once, at the end
    assert "peak_test_accuracy" not in metrics and "test_accuracy_at_best_val" not in metrics
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        history = client.get_metric_history(run.info.run_id, key)
        assert sorted(m.step for m in history) == [20, 40]  # the training step
    # the one test read, after the last step
    assert [m.step for m in client.get_metric_history(run.info.run_id, "test_accuracy")] == [40]
    tags = run.data.tags
    assert tags["recipe"] == "quick" and tags["recipe_hash"] == QUICK.hash()
    assert tags["protocol"] == "chosen" and tags["test_set"] == "once, after the last step"
    assert tags["data_sha256"].startswith("train-images-idx3-ubyte.gz=440fcabf")
    assert len(tags["data_digest"]) == 64 and tags["data_source"]
    assert "cores" in tags["machine"] and tags["version.keras"] == keras.__version__
    assert len(tags["git_commit"]) >= 7
    artifacts = {f.path for d in ("plots", "model") for f in client.list_artifacts(run.info.run_id, d)}
    assert {"plots/training_curves.png", "plots/confusion_matrix.png", "plots/misclassified.png",
            "model/conv3_dropout.keras"} <= artifacts
    model = mlflow.keras.load_model(f"runs:/{run.info.run_id}/mlflow_model",
                                    dst_path=tmp_path)
    assert model.count_params() == 244_076
    # the logged model has a signature and an input example: the raw test digits, as a request
    # sends them (float32 whole numbers 0-255: tracking/signatures.py)
    local = mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/mlflow_model",
                                                dst_path=tmp_path)
    logged = mlflow.models.Model.load(local)
    [spec] = logged.signature.inputs.inputs
    assert (spec.type, spec.shape) == (np.dtype("float32"), (-1, 28, 28))
    assert logged.signature.outputs.inputs[0].shape == (-1, 10)
    (_, _), (x_test, _) = zoo.data.load_mnist()
    np.testing.assert_array_equal(logged.load_input_example(local), x_test[:2])
    # a second call finds the FINISHED run and trains nothing
    again = train_run(QUICK, seed=1, checkpoint_root=ckpt)
    assert again["skipped"]
    # one seed's run, and its recipe's parent run (tracking/parents.py)
    assert len(client.search_runs([run.info.experiment_id], "tags.seed = '1'")) == 1
    assert len(client.search_runs([run.info.experiment_id])) == 2
    # ... but not for other data: same recipe and seed, the arrays in another order
    from tracking.runs import finished_run
    assert finished_run(QUICK, 1, run.info.experiment_id, tags["data_digest"]).info.run_id == \
        run.info.run_id
    assert finished_run(QUICK, 1, run.info.experiment_id, "f" * 64) is None


def test_a_published_recipe_trains_on_all_images_and_reads_the_test_set_each_evaluation(
        mlflow_store, ckpt):
    from reproductions.run.prepare import load_data

    data = load_data(replace(PUBLISHED, train_subset=None))
    assert data.val is None and len(data.train[0]) == 60_000 and len(data.test[0]) == 10_000
    result = train_run(PUBLISHED, seed=1, checkpoint_root=ckpt, log_mlflow_model=False)
    client = MlflowClient()
    run = client.get_run(result["run_id"])
    history = client.get_metric_history(run.info.run_id, "test_accuracy")
    assert sorted(m.step for m in history) == [20, 40]  # the training step
    assert run.data.metrics["test_accuracy"] == history[-1].value == result["test_accuracy"]
    assert run.data.metrics["peak_test_accuracy"] == max(m.value for m in history)
    assert not any(k.startswith("val_") or "best_val" in k for k in run.data.metrics)
    assert run.data.tags["protocol"] == "published"
    assert run.data.tags["test_set"] == "every evaluation"


def test_a_refit_trains_on_every_image_and_reads_the_test_set_once(mlflow_store, ckpt,
                                                                    monkeypatch):
    """A refit (issue 28) learns from the validation images too, yet stays a chosen recipe: no
    test reading during training, one after the last step; a blind run of it is refused."""
    from reproductions.run import prepare, train

    refit = replace(QUICK, name="quick_refit", validation_size=0, refit_of="quick",
                    train_subset=None)
    held = []

    def spy(recipe, data_dir=None, **kw):
        held.append(prepare.load_data(recipe, data_dir, **kw))
        return held[-1]

    monkeypatch.setattr(train, "load_data", spy)
    small = replace(refit, train_subset=2000)
    result = train_run(small, seed=1, checkpoint_root=ckpt, log_mlflow_model=False)
    assert not refit.published and held[0].val is None
    assert len(prepare.load_data(refit).train[0]) == 60_000
    run = MlflowClient().get_run(result["run_id"])
    history = MlflowClient().get_metric_history(run.info.run_id, "test_accuracy")
    assert [m.step for m in history] == [40]  # once, after the last step
    assert run.data.tags["protocol"] == "chosen"
    assert run.data.tags["test_set"] == "once, after the last step"
    assert not any(k.startswith("val_") or k == "peak_test_accuracy" for k in run.data.metrics)
    with pytest.raises(ValueError, match="no validation split"):
        train_run(small, seed=2, checkpoint_root=ckpt, blind=True)


def test_a_published_recipe_on_its_sources_cadence_tests_at_each_of_its_steps(mlflow_store, ckpt):
    """Görner's cadence (issue 31): the untrained net, every early_test_every steps before the
    first test_every, then every test_every; the max is over all of them, their time apart."""
    cadenced = replace(PUBLISHED, name="quick_cadence", test_every=10, early_test_every=5)
    result = train_run(cadenced, seed=1, checkpoint_root=ckpt, log_mlflow_model=False)
    client = MlflowClient()
    run = client.get_run(result["run_id"])
    history = sorted(client.get_metric_history(run.info.run_id, "test_accuracy"),
                     key=lambda m: m.step)
    assert [m.step for m in history] == [0, 5, 10, 20, 30, 40]  # each once
    assert history[0].value < 0.3  # the untrained net
    assert run.data.metrics["test_accuracy"] == history[-1].value
    assert run.data.metrics["peak_test_accuracy"] == max(m.value for m in history)
    assert run.data.metrics["test_evaluations"] == 6
    assert 0 < run.data.metrics["test_eval_s"]
    assert run.data.tags["test_set"] == "its source's cadence (6 tests)"


def test_a_blind_run_holds_no_test_set_and_logs_no_test_metric(mlflow_store, ckpt, monkeypatch):
    from reproductions.run import prepare
    from reproductions.run import train

    held = []
    real = prepare.load_data

    def spy(recipe, data_dir=None, **kw):
        data = real(recipe, data_dir, **kw)
        held.append(data)
        return data

    monkeypatch.setattr(train, "load_data", spy)
    result = train_run(QUICK, seed=4, checkpoint_root=ckpt, log_mlflow_model=False, blind=True)
    assert [d.test for d in held] == [None]
    run = MlflowClient().get_run(result["run_id"])
    assert not [k for k in run.data.metrics if "test" in k]
    assert run.data.metrics["final_val_accuracy"] > 0.5
    assert run.data.tags["test_set"] == "never (blind run)"
    with pytest.raises(ValueError, match="needs one to be judged on"):
        train_run(PUBLISHED, seed=4, checkpoint_root=ckpt, blind=True)


def test_screening_trains_blind(mlflow_store, monkeypatch, tmp_path):
    """`screen` runs every variant blind: no screening run can log a test metric."""
    import argparse

    from reproductions.search import screen

    calls = []
    monkeypatch.setattr(screen, "train_run", lambda r, s, **kw: calls.append((r.name, s, kw)))
    monkeypatch.setattr(screen, "RESULTS", tmp_path)
    monkeypatch.setattr(screen, "run_rows", lambda s: [{"variant": "s_c9"}])  # nothing trained
    table = screen.table
    monkeypatch.setattr(screen, "table", lambda s, rows: table(s, []))
    monkeypatch.setattr(screen, "choose", lambda *a: "s_c9")
    screen.run(argparse.Namespace(name="conv3_bn_fast", report=False, reference=True,
                                  verb_parser=None))
    assert len(calls) == sum(len(r.seeds) for r in
                             screen.load_screening("conv3_bn_fast").variants.values())
    assert all(kw.get("blind") is True for _, _, kw in calls)
    assert {s for _, s, _ in calls} == {8, 9}  # seeds no reported run uses
    text = (tmp_path / "conv3_bn_fast_screening.md").read_text()
    assert "Reported seeds of conv3_bn_fast: 1, 2, 3, 6, 7; screening seeds are never " \
           "reported seeds." in text
    assert "Rule: the recipe's goal" in text


@pytest.mark.slow  # 25 s or more: `make test-slow`, which CI runs
def test_a_batchnorm_net_trains_fused_and_the_same_seed_gives_the_same_weights(mlflow_store,
                                                                               ckpt):
    """The suite trains BatchNorm through TensorFlow's fused kernel (prepare.training_kernels):
    deterministic as Keras' ops were, and each run says which kernel it had."""
    quick_bn = replace(QUICK, name="quick_bn", model="conv3_bn")
    a = train_run(quick_bn, 1, checkpoint_root=ckpt, log_mlflow_model=False)
    b = train_run(replace(quick_bn, name="quick_bn_again"), 1, checkpoint_root=ckpt,
                  log_mlflow_model=False)
    assert same(final_weights(a["run_id"], "conv3_bn"), final_weights(b["run_id"], "conv3_bn"))
    tags = MlflowClient().get_run(a["run_id"]).data.tags
    assert tags["batchnorm_kernel"] == "fused+keras"  # its dense BatchNorm stays Keras'
    # a net without BatchNorm says "none": test_same_seed_same_weights_other_seed_other_weights


def test_recipes_train_batchnorm_fused_unless_they_say_otherwise():
    from reproductions.run.prepare import batchnorm_kernel, build_model

    assert batchnorm_kernel(build_model(RECIPES["conv7_bn_cosine"])) == "fused"
    assert batchnorm_kernel(build_model(RECIPES["conv3_bn_fast"])) == "keras"  # as screened
    assert batchnorm_kernel(build_model(RECIPES["lenet5"])) == "none"


def test_same_seed_same_weights_other_seed_other_weights(mlflow_store, ckpt):
    a = train_run(QUICK, 1, checkpoint_root=ckpt, log_mlflow_model=False)
    b = train_run(replace(QUICK, name="quick_again"), 1, checkpoint_root=ckpt,
                  log_mlflow_model=False)
    c = train_run(QUICK, 2, checkpoint_root=ckpt, log_mlflow_model=False)
    assert same(final_weights(a["run_id"]), final_weights(b["run_id"]))
    assert not same(final_weights(a["run_id"]), final_weights(c["run_id"]))
    assert MlflowClient().get_run(a["run_id"]).data.tags["batchnorm_kernel"] == "none"

    [row] = report.collect("mnist", [QUICK])
    acc = [a["test_accuracy"], c["test_accuracy"]]
    assert row["n_seeds"] == 2 and row["seeds"] == "1 2"
    assert row["mean_test_acc"] == pytest.approx(np.mean(acc))
    assert row["std_test_acc"] == pytest.approx(np.std(acc, ddof=1))
    assert row["min_test_acc"] == min(acc) and row["max_test_acc"] == max(acc)
    # the verdict, recomputed with scipy's own interval on counts of correct answers
    n_test = row["summary"].n_test  # the test examples the runs logged
    counts = [round(a * n_test) for a in acc]
    low, high = scipy.stats.t.interval(0.95, len(counts) - 1, loc=np.mean(counts),
                                       scale=scipy.stats.sem(counts))
    bar = QUICK.target_acc * n_test
    assert row["verdict"] == ("above" if low >= bar else "short" if high < bar else
                              "within noise")

    # the per-seed CSV holds every run, with the columns the issue names
    folder = ckpt.parent / "results"
    csv_path, md_path, seeds_path = report.write("mnist", folder, [QUICK])
    import csv
    seeds = list(csv.DictReader(seeds_path.open()))
    assert [(r["recipe"], r["seed"], r["run_id"]) for r in seeds] == \
        [("quick", "1", a["run_id"]), ("quick", "2", c["run_id"])]
    assert {r["recipe_hash"] for r in seeds} == {QUICK.hash()}
    assert [float(r["final_test_acc"]) for r in seeds] == pytest.approx(acc, abs=5e-5)
    assert all(float(r["final_val_acc"]) > 0.5 and float(r["wall_s"]) > 0 for r in seeds)
    [summary] = list(csv.DictReader(csv_path.open()))
    assert float(summary["ci95_low_test_acc"]) <= float(summary["mean_test_acc"]) <= \
        float(summary["ci95_high_test_acc"])
    assert float(summary["binomial_se"]) == pytest.approx(
        (np.mean(acc) * (1 - np.mean(acc)) / 10_000) ** 0.5, abs=1e-6)
    assert "read once, after the last step" in md_path.read_text()

    # seeds trained on other data (another order of the same examples) are never merged
    MlflowClient().set_tag(c["run_id"], "data_digest", "0" * 64)
    with pytest.raises(ValueError, match="trained on different data"):
        report.collect("mnist", [QUICK])


KILLABLE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from reproductions.run.train import train_run
    from tests.test_reproduction import QUICK
    class HangAfterFirstEpoch:
        def epoch_done(self, recipe, seed, epoch, logs):
            print("checkpointed", flush=True)
            time.sleep(600)
    train_run(QUICK, 1, checkpoint_root=Path(sys.argv[1]), progress=HangAfterFirstEpoch(),
              log_mlflow_model=False)
""")


@pytest.mark.slow  # 25 s or more: `make test-slow`, which CI runs
def test_kill_9_then_resume_gives_the_uninterrupted_weights(mlflow_store, ckpt):
    child = subprocess.Popen([sys.executable, "-c", KILLABLE, str(ckpt)], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "checkpointed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    client = MlflowClient()
    [killed] = client.search_runs([client.get_experiment_by_name("zoo-mnist").experiment_id],
                                  "tags.seed = '1'")
    assert killed.info.status == "RUNNING"  # kill -9 left it so; the re-run must close it

    resumed = train_run(QUICK, 1, checkpoint_root=ckpt, log_mlflow_model=False)
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    run = client.get_run(resumed["run_id"])
    assert run.info.status == "FINISHED" and run.data.tags["resumed_from_epoch"] == "1"
    # the points logged before the kill (step 20) are logged again in the resumed run
    for key in ("val_accuracy", "loss", "accuracy"):
        assert sorted(m.step for m in client.get_metric_history(run.info.run_id, key)) \
            == [20, 40]
    # a chosen recipe reads the test set once, after the last step
    assert [m.step for m in client.get_metric_history(run.info.run_id, "test_loss")] == [40]
    assert not ckpt.exists() or not any(ckpt.iterdir())

    reference = train_run(replace(QUICK, name="quick_reference"), 1, checkpoint_root=ckpt,
                          log_mlflow_model=False)
    assert same(final_weights(resumed["run_id"]), final_weights(reference["run_id"]))


def test_unreachable_tracking_server_fails_fast(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens on port 9
    start = time.monotonic()
    with pytest.raises(TrackingError, match=r"cannot use the MLflow tracking store "
                                             r"http://127\.0\.0\.1:9.*make mlflow-server"
                                             r".*nothing was done"):
        check_store("zoo-mnist")
    assert time.monotonic() - start < 60


def test_experiment_created_by_another_process_meanwhile_is_used(mlflow_store, monkeypatch):
    # A tuning chief and its workers start together: each looks the experiment up, finds
    # nothing, and creates it; all but the first create fail. CI once lost a run to this.
    from tracking import store
    client = MlflowClient(mlflow_store)
    theirs = client.create_experiment("zoo-race")
    real_lookup = MlflowClient.get_experiment_by_name
    calls = []

    def lookup_missing_once(self, name):
        calls.append(name)
        return None if len(calls) == 1 else real_lookup(self, name)

    monkeypatch.setattr(MlflowClient, "get_experiment_by_name", lookup_missing_once)
    assert store.experiment_id("zoo-race") == theirs
    assert len(calls) == 2


def test_reproduce_command_stops_before_training_when_the_store_is_down():
    env = {**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-m", "reproductions", "reproduce",
                           "--recipes", "softmax"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert "cannot use the MLflow tracking store" in done.stderr
    assert "step" not in done.stdout  # no training line was printed


def test_bad_hyperparameters_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"recipe 'x': batch_size must be a positive integer"):
        Recipe("x", "conv3", 0.9, "s", batch_size=0)
    with pytest.raises(ValueError, match=r"optimizer must be 'adam', 'sgd' or 'sdlm'"):
        Recipe("x", "conv3", 0.9, "s", optimizer="adamw")
    with pytest.raises(ValueError, match=r"optimizer 'sdlm' takes sdlm_mu and sdlm_patterns"):
        Recipe("x", "conv3", 0.9, "s", optimizer="sdlm")
    with pytest.raises(ValueError, match=r"loss 'map' goes with model option map_training"):
        Recipe("x", "lenet5_rbf", 0.9, "s", loss="map")
    with pytest.raises(ValueError, match=r"steps \(1000\) must be a multiple of eval_every"):
        Recipe("x", "conv3", 0.9, "s", steps=1000, eval_every=300)
    with pytest.raises(ValueError, match=r"schedule must be one of exponential, constant, cosine"):
        Recipe("x", "conv3", 0.9, "s", schedule="onecycle")
    with pytest.raises(ValueError, match=r"warmup_steps must be in \[0, steps\)"):
        Recipe("x", "conv3", 0.9, "s", schedule=CosineWarmup(warmup_steps=10_000))
    with pytest.raises(ValueError, match=r"exponential schedule needs .* decay_steps > 0"):
        Recipe("x", "conv3", 0.9, "s", schedule=ExponentialFloored(decay_steps=0))
    with pytest.raises(ValueError, match=r"unknown dataset 'mnsit'"):
        Recipe("x", "conv3", 0.9, "s", dataset="mnsit")
    with pytest.raises(ValueError, match=r"augment_shift must be 0 to 4 pixels"):
        Recipe("x", "conv3", 0.9, "s", augment_shift=9)


def test_cosine_schedule_warms_up_to_lr_max_then_decays_to_zero():
    from reproductions.run.prepare import learning_rate

    recipe = Recipe("x", "conv3", 0.9, "s", steps=1000, eval_every=100,
                    schedule=CosineWarmup(lr_max=0.01, lr_start=0.001, warmup_steps=200))
    lr = learning_rate(recipe)
    assert float(lr(0)) == pytest.approx(0.001)
    assert float(lr(200)) == pytest.approx(0.01)
    assert float(lr(600)) == pytest.approx(0.005, rel=1e-3)
    assert float(lr(1000)) == pytest.approx(0.0, abs=1e-9)


def test_cosine_schedule_with_lr_end_decays_to_it_and_keeps_older_hashes():
    from reproductions.run.prepare import learning_rate

    base = Recipe("x", "conv3", 0.9, "s", steps=1000, eval_every=100,
                  schedule=CosineWarmup(lr_max=0.01, lr_start=0.001, warmup_steps=200))
    floored = replace(base, schedule=replace(base.schedule, lr_end=0.002))
    lr = learning_rate(floored)
    assert float(lr(200)) == pytest.approx(0.01)
    # halfway down the cosine: the middle of lr_max and lr_end
    assert float(lr(600)) == pytest.approx(0.006, rel=1e-3)
    assert float(lr(1000)) == pytest.approx(0.002, rel=1e-5)
    assert "lr_end" not in base.training_config() and floored.hash() != base.hash()
    with pytest.raises(ValueError, match=r"lr_end must be in \[0, lr_max\)"):
        replace(base, schedule=replace(base.schedule, lr_end=0.01))


def test_every_recipe_names_a_registered_model_and_a_target():
    import zoo

    for name, recipe in RECIPES.items():
        assert recipe.model in zoo.list_models()
        assert (recipe.target_acc is None or 0 < recipe.target_acc <= 1) and recipe.target_source
    assert {"softmax", "mlp5", "conv3", "conv3_dropout", "conv3_bn", "lenet5",
            "lenet5_modern"} <= set(RECIPES)


def test_recipe_hash_ignores_names_and_seeds_but_not_training():
    assert replace(QUICK, name="other", seeds=(7,)).hash() == QUICK.hash()
    assert replace(QUICK, schedule=ExponentialFloored(lr_max=0.001)).hash() != QUICK.hash()


def test_conv3_bn_fast_is_the_screened_choice():
    """The recipe trains what screening chose: same net (conv3_bn with the small net's options
    there, conv3_bn_small here), same training fields."""
    import zoo
    from reproductions.recipes import load_screening

    screening = load_screening("conv3_bn_fast")
    chosen, fast = screening.variants[screening.chosen], RECIPES["conv3_bn_fast"]
    assert set(fast.seeds).isdisjoint(seed for r in screening.variants.values()
                                      for seed in r.seeds if r.name.startswith(("f_", "n_")))
    # the same schedule record and training fields; only the net is named differently
    assert chosen.schedule == fast.schedule
    ignore = {"model", "model_options", "lr_decay_steps"}  # lr_decay_steps: chosen's hash_only
    config = {k: v for k, v in chosen.training_config().items() if k not in ignore}
    assert config == {k: v for k, v in fast.training_config().items() if k not in ignore}
    screened = zoo.create_model(chosen.model, **chosen.model_kwargs())
    shipped = zoo.create_model(fast.model, **fast.model_kwargs())
    assert [(type(l).__name__, [tuple(w.shape) for w in l.weights]) for l in screened.layers] == \
        [(type(l).__name__, [tuple(w.shape) for w in l.weights]) for l in shipped.layers]
    assert [l.momentum for l in screened.layers if hasattr(l, "momentum")] == \
        [l.momentum for l in shipped.layers if hasattr(l, "momentum")]


@pytest.mark.parametrize("schedule", [ExponentialFloored(0.02, 0.0001, 1600),
                                      CosineWarmup(0.02, 0.001, 300)],
                         ids=lambda s: s.kind)
def test_schedule_config_round_trips(schedule):
    """Keras rebuilds a checkpoint's optimizer schedule from its config: the same rates."""
    from reproductions.run.prepare import learning_rate

    lr = learning_rate(Recipe("x", "conv3", 0.9, "s", schedule=schedule, steps=2400,
                              eval_every=2400))
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(lr))
    assert type(again) is type(lr) and again.get_config() == lr.get_config()
    for step in (0, 150, 300, 1200, 2399):
        assert float(again(step)) == pytest.approx(float(lr(step)))


def test_a_constant_schedule_trains_as_before():
    """softmax's Constant(0.5) is the schedule it always had: Görner's formula with no decay."""
    from reproductions.run.prepare import learning_rate

    lr = learning_rate(RECIPES["softmax"])
    assert [float(lr(s)) for s in (0, 5000, 9999)] == [0.5, 0.5, 0.5]
    assert RECIPES["softmax"].schedule == Constant(0.5)


def test_summary_interval_and_verdicts_on_known_numbers():
    """conv3's old three finals: mean 0.98897, std 0.0012503; t(0.975, 2 df) = 4.302653 (a
    printed table's value, not the code's): half-width 0.0031059."""
    acc = [0.9890, 0.9877, 0.9902]
    mean = sum(acc) / 3
    low, high = t_interval(acc)
    assert mean == pytest.approx(0.98896667)
    assert high - mean == pytest.approx(4.302653 * 0.00125033 / 3 ** 0.5, rel=1e-4)
    assert mean - low == pytest.approx(high - mean)
    assert binomial_se(mean, 10_000) == pytest.approx((0.98896667 * 0.01103333 / 10_000) ** 0.5)
    assert binomial_se(mean, None) is None
    # (the verdicts on these numbers: tests/test_verdicts.py, on counts of correct answers)
    assert t_interval([]) is None


def test_the_data_digest_follows_the_order_of_the_arrays():
    from reproductions.run.prepare import RunData, arrays_digest

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50)
    order = rng.permutation(50)
    same_order = RunData((x, y), None, (x[:10], y[:10]), None)
    assert same_order.digest == RunData((x.copy(), y.copy()), None, (x[:10], y[:10]), None).digest
    assert same_order.digest != RunData((x[order], y[order]), None, (x[:10], y[:10]), None).digest
    # where a part ends is part of the identity: no split is not a split of 0 images moved
    assert arrays_digest((x, y), None) != arrays_digest((x[:40], y[:40]), (x[40:], y[40:]))


def test_git_commit_says_why_it_is_unknown(monkeypatch, tmp_path):
    from tracking import tags

    assert tags.git_commit().split("-")[0] == subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    monkeypatch.setattr(tags, "REPO_ROOT", tmp_path)  # not a checkout
    assert tags.git_commit().startswith("unknown (fatal: not a git repository")
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert tags.git_commit() == "unknown (git not installed)"


def test_reproducing_again_in_the_same_store_trains_nothing_and_rewrites_the_same_tables(
        mlflow_store, monkeypatch, tmp_path, capsys):
    import argparse

    from reproductions.run import reproduce
    from reproductions.run import train

    tiny = replace(PUBLISHED, name="tiny", steps=20, eval_every=10, train_subset=500, seeds=(1,))
    monkeypatch.setattr(reproduce, "RECIPES", {"tiny": tiny})
    monkeypatch.setattr(reproduce, "get_recipe", {"tiny": tiny}.__getitem__)
    monkeypatch.setattr(report, "RECIPES", {"tiny": tiny})
    reference = tmp_path / "reference"  # the committed tables' folder: a user's run leaves it
    reference.mkdir()
    monkeypatch.setattr(report, "RESULTS", reference)
    monkeypatch.setattr(train, "CHECKPOINT_ROOT", tmp_path / "ckpt")
    real_train = reproduce.train_run
    monkeypatch.setattr(reproduce, "train_run", lambda r, s, **kw: real_train(
        r, s, checkpoint_root=tmp_path / "ckpt", log_mlflow_model=False, **kw))
    args = argparse.Namespace(dataset="mnist", recipes=[], seeds=[], set=[], data_dir=None,
                              jobs=None, threads=None, verb_parser=None)
    assert reproduce.run(args) == 0
    mine = tmp_path / "mlflow-results"  # beside the store, tmp_path/mlflow.db
    first = {p.name: p.read_bytes() for p in mine.glob("mnist*")}
    assert set(first) == {"mnist.csv", "mnist.md", "mnist_seeds.csv"}
    capsys.readouterr()
    assert reproduce.run(args) == 0
    assert "0 run(s) to train, 1 already finished" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in mine.glob("mnist*")} == first
    assert list(reference.iterdir()) == []
    import csv
    timing = list(csv.DictReader((mine / "reproduce_mnist_timing.csv").open()))
    assert [(r["runs_trained"], r["runs_skipped"]) for r in timing] == [("1", "0"), ("0", "1")]
    assert float(timing[0]["wall_s"]) > 0 and float(timing[1]["wall_s"]) >= 0
    assert all(r["git_commit"] and "cores" in r["machine"] for r in timing)
    # `report --reference`, the deliberate act, writes the reference tables and brings the
    # store's timing rows with them
    assert report.run(argparse.Namespace(dataset="mnist", reference=True)) == 0
    assert sorted(p.name for p in reference.iterdir()) == \
        ["mnist.csv", "mnist.md", "mnist_seeds.csv", "reproduce_mnist_timing.csv"]
    assert (reference / "reproduce_mnist_timing.csv").read_bytes() == \
        (mine / "reproduce_mnist_timing.csv").read_bytes()
    assert (reference / "mnist_seeds.csv").read_bytes() == first["mnist_seeds.csv"]
    # again: the timing rows are merged, not duplicated, and the tables are the same
    timing_before = (reference / "reproduce_mnist_timing.csv").read_bytes()
    assert report.run(argparse.Namespace(dataset="mnist", reference=True)) == 0
    assert (reference / "reproduce_mnist_timing.csv").read_bytes() == timing_before
    assert (reference / "mnist_seeds.csv").read_bytes() == first["mnist_seeds.csv"]
    # the commit the sitting started at, though HEAD moves before it ends
    import tracking.tags

    monkeypatch.setattr(tracking.tags, "git_commit", iter(["start", "end"]).__next__)
    args.seeds, args.jobs, args.threads = [1, 2], 1, None
    assert reproduce.run(args) == 0
    last = list(csv.DictReader((mine / "reproduce_mnist_timing.csv").open()))[-1]
    assert last["git_commit"] == "start"
    assert last["command"] == "python -m reproductions reproduce --dataset mnist --seeds 1,2 " \
        "--jobs 1"


def test_a_reproduction_keeps_the_console_quiet_and_the_rest_in_its_log(tmp_path):
    """Issue 25: the plan, the progress line, one line per run and the tables on the console;
    MLflow's INFO lines, TensorFlow's C++ lines and Keras' progress bars (escape codes) only in
    the log file, which the run also carries as an artifact. Output captured: not a terminal."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "reproductions", "reproduce", "--recipes", "softmax", "--seeds",
         "9", "--set", "steps=1000"], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    console = done.stdout + done.stderr
    for noise in ("INFO mlflow", "absl::InitializeLog", "\x1b[", "━", "NodeDef mentions"):
        assert noise not in console, (noise, console[-3000:])
    assert not [line for line in console.splitlines() if line[:5] in ("I0000", "E0000", "W0000")]
    assert "1 run(s) to train" in console and "final test accuracy" in console
    log = Path(console.split("log: ", 1)[1].split(" (", 1)[0])
    text = log.read_text()
    assert "INFO mlflow" in text
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    [run] = [r for r in client.search_runs(
        [e.experiment_id for e in client.search_experiments()]) if r.data.tags.get("seed") == "9"]
    assert [a.path for a in client.list_artifacts(run.info.run_id, "logs")] == [f"logs/{log.name}"]
    log.unlink()


def test_the_plan_scales_reference_times_by_the_calibration():
    """Issue 25: reference times (per-seed rows) times the ratio of the calibration model's
    throughput there and here; worked by hand: conv3_bn_fast 6,000 images/s there, 3,000 here,
    so every run takes twice its reference time."""
    from reproductions.run import estimate

    fast, soft = RECIPES["conv3_bn_fast"], RECIPES["softmax"]
    rows = [{"recipe": "conv3_bn_fast", "recipe_hash": fast.hash(), "wall_s": "40",
             "images_per_second": "6000", "machine": "ref"},
            {"recipe": "conv3_bn_fast", "recipe_hash": fast.hash(), "wall_s": "50",
             "images_per_second": "6000", "machine": "ref"},
            {"recipe": "softmax", "recipe_hash": soft.hash(), "wall_s": "3",
             "images_per_second": "300000", "machine": "ref"}]
    lines = estimate.plan([(fast, 1), (fast, 2), (soft, 1), (RECIPES["conv3"], 1)], rows, 3000.0)
    assert lines[0] == "  conv3_bn_fast seeds 1 2: 45 s a seed on the reference machine, " \
                       "about 90 s here"
    assert lines[1] == "  softmax seeds 1: 3 s a seed on the reference machine, about 6 s here"
    assert lines[2] == "  conv3 seeds 1: no reference time"
    # 2 x 90 + 6 = 186 s, stated with its margin
    assert lines[3].startswith("estimate for this machine: 3 min (between 93 s and 5 min), plus "
                               "1 recipe(s) without a reference time")
    # the reference machine named is the calibration recipe's, not every row's
    rows.append({"recipe": "softmax", "recipe_hash": soft.hash(), "wall_s": "3",
                 "images_per_second": "300000", "machine": "other"})
    assert estimate.plan([(fast, 1)], rows, 3000.0)[-1].endswith("on the reference machine (ref)")
    # a plan of recipes that have no reference time gets no figure, not "0 s"
    assert estimate.plan([(RECIPES["conv3"], 1)], rows, 3000.0)[-1].startswith(
        "no estimate for this machine: no recipe of the plan has a reference time")


def test_the_calibration_measures_a_throughput():
    from reproductions.run import estimate

    assert 100 < estimate.throughput_here(steps=10) < 1e6
