"""KerasTuner searches tracked in MLflow: a tiny real search, resume, a distributed search over
gRPC with a chief and two workers logging to a real tracking server, the server on PostgreSQL,
and clear errors when the chief or the server is out of reach."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

import reproductions.search.tune as tune
from reproductions.recipes import RECIPES, Recipe
from tests.servers import free_port, mlflow_server, postgresql
from tracking import TrackingError

REPO = Path(__file__).resolve().parents[1]
TINY = dict(max_epochs=1, train_subset=1000)


def trial_runs(search_name):
    client = MlflowClient()
    exp = client.get_experiment_by_name(tune.EXPERIMENT)
    runs = client.search_runs([exp.experiment_id], f"tags.search = '{search_name}'")
    parent = [r for r in runs if r.data.tags.get("role") == "parent"]
    return parent, [r for r in runs if r.data.tags.get("role") != "parent"]


def test_tiny_search_logs_a_parent_and_one_nested_run_per_trial(mlflow_store, tmp_path):
    summary = tune.search(RECIPES["conv3"], "random", max_trials=2, directory=tmp_path / "kt",
                          name="tiny", export_dir=tmp_path / "tuned", **TINY)
    [parent], trials = trial_runs("tiny")
    assert parent.info.status == "FINISHED" and parent.data.params["tuner"] == "random"
    assert "width" in parent.data.params["space"]
    assert parent.data.metrics["best_trial_score"] == summary["best_trial_score"]
    assert len(trials) == 2 and len({t.data.tags["trial_id"] for t in trials}) == 2
    client = MlflowClient()
    # a search chooses, so it never computes the test set: no trial, no summary has a test metric
    for run in (parent, *trials):
        assert not [k for k in run.data.metrics if "test" in k], run.data.metrics
    assert not [k for k in summary if "test" in k]
    exported_recipe = Recipe.from_json((tmp_path / "tuned" / "conv3_tuned.json").read_text())
    assert exported_recipe.validation_size > 0  # a chosen recipe keeps the split it was chosen on
    for t in trials:
        assert t.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert {"lr_max", "lr_decay_steps", "batch_size", "width", "dense"} <= set(t.data.params)
        assert 0 < t.data.metrics["score"] <= 1
        assert len(client.get_metric_history(t.info.run_id, "val_accuracy")) == 1
    exported = Recipe.from_json((tmp_path / "tuned" / "conv3_tuned.json").read_text())
    assert exported.name == "conv3_tuned" and exported.model == "conv3"
    assert exported.schedule.lr_max == summary["best_hyperparameters"]["lr_max"]
    assert exported.schedule.decay_steps == summary["best_hyperparameters"]["lr_decay_steps"]
    assert dict(exported.model_options)["dense"] == summary["best_hyperparameters"]["dense"]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"best_hyperparameters.json", "conv3_tuned.json"} <= artifacts
    # the search's record: every trial with its hyperparameters, validation figures, steps, time
    record = json.loads((tmp_path / "tuned" / "searches" / "tiny.json").read_text())
    assert record["trials_total"] == 2 and len(record["trials"]) == 2
    assert record["tuned_recipe_hash"] == exported.hash()
    assert record["settings"]["train_examples"] == 1000
    assert record["settings"]["validation_examples"] == 5000
    for row in record["trials"]:
        assert row["wall_s"] > 0 and row["best_val_loss"] > 0
        assert 0 < row["best_val_accuracy"] <= 1
        assert row["steps_trained"] == -(-1000 // row["hyperparameters"]["batch_size"])
        assert "test" not in json.dumps(row)
    best = [r for r in record["trials"] if r["trial_id"] == record["best_trial_id"]]
    assert best[0]["best_val_accuracy"] == max(r["best_val_accuracy"] for r in record["trials"])


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_a_stopped_search_continues_without_duplicate_runs(mlflow_store, tmp_path):
    common = dict(directory=tmp_path / "kt", name="resumed", export_dir=None, **TINY)
    tune.search(RECIPES["lenet5"], "random", max_trials=1, **common)  # stopped after 1 trial
    [_], first = trial_runs("resumed")
    tune.search(RECIPES["lenet5"], "random", max_trials=3, **common)
    [parent], trials = trial_runs("resumed")
    ids = [t.data.tags["trial_id"] for t in trials]
    assert len(ids) == len(set(ids)) == 3
    assert first[0].data.tags["trial_id"] in ids
    assert parent.info.status == "FINISHED"


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_distributed_search_chief_and_two_workers(tmp_path):
    (tmp_path / "artifacts").mkdir()
    with mlflow_server(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "artifacts")) as uri:
        port = free_port()
        args = [sys.executable, "-m", "reproductions", "tune", "--recipe", "conv3", "--tuner",
                "random", "--max-trials", "4", "--max-epochs", "1", "--train-subset", "500",
                "--dir", str(tmp_path / "kt"), "--name", "team",
                "--export-dir", str(tmp_path / "tuned")]
        committed = (REPO / "reproductions" / "recipes" / "tuned" / "conv3_tuned.json").read_bytes()
        base = {**os.environ, "MLFLOW_TRACKING_URI": uri, "KERASTUNER_ORACLE_IP": "127.0.0.1",
                "KERASTUNER_ORACLE_PORT": str(port), "PYTHONUNBUFFERED": "1"}
        chief = subprocess.Popen(args, cwd=REPO, env={**base, "KERASTUNER_TUNER_ID": "chief"},
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        workers = {w: subprocess.Popen(args, cwd=REPO, env={**base, "KERASTUNER_TUNER_ID": w},
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
                   for w in ("worker0", "worker1")}
        outputs = {w: p.communicate(timeout=600)[0] for w, p in workers.items()}
        chief_out = chief.communicate(timeout=300)[0]
        assert chief.returncode == 0, chief_out[-3000:]
        assert all(p.returncode == 0 for p in workers.values()), outputs
        summary = json.loads(chief_out[chief_out.index("{\n"):])

        mlflow.set_tracking_uri(uri)
        try:
            [parent], trials = trial_runs("team")
        finally:
            mlflow.set_tracking_uri(None)
    assert parent.info.status == "FINISHED" and summary["parent_run_id"] == parent.info.run_id
    # the search's recipe goes where it was told, never over the committed conv3_tuned recipe
    assert Recipe.from_json((tmp_path / "tuned" / "conv3_tuned.json").read_text()).name \
        == "conv3_tuned"
    assert (REPO / "reproductions" / "recipes" / "tuned" / "conv3_tuned.json").read_bytes() == committed
    ids = [t.data.tags["trial_id"] for t in trials]
    assert len(ids) == len(set(ids)) == 4  # every trial exactly once
    for worker, out in outputs.items():
        done = {line.split("trial ")[1].split(" ")[0] for line in out.splitlines()
                if f"by {worker}:" in line}
        logged = {t.data.tags["trial_id"] for t in trials if t.data.tags["tuner_id"] == worker}
        assert done and done == logged  # each worker ran at least one trial, and logged it
    assert {t.data.tags["tuner_id"] for t in trials} <= {"worker0", "worker1"}


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_a_training_run_logs_to_a_tracking_server_on_postgresql(tmp_path, monkeypatch):
    from reproductions.run.train import train_run
    from tests.test_reproduction import QUICK

    (tmp_path / "artifacts").mkdir()
    with postgresql() as pg_uri, \
            mlflow_server(pg_uri, str(tmp_path / "artifacts")) as uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        result = train_run(QUICK, 1, checkpoint_root=tmp_path / "ckpt", log_mlflow_model=False)
        run = MlflowClient(uri).get_run(result["run_id"])
        assert run.info.status == "FINISHED"
        assert run.data.metrics["test_accuracy"] == result["test_accuracy"]
        assert run.data.params["model"] == "conv3_dropout"
        artifacts = {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id, "plots")}
        assert "plots/confusion_matrix.png" in artifacts
    mlflow.set_tracking_uri(None)


def test_worker_without_a_chief_says_so(mlflow_store, monkeypatch, tmp_path):
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker0")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(free_port()))
    monkeypatch.setattr(tune, "CHIEF_WAIT_S", 1)
    with pytest.raises(tune.TuningError, match=r"cannot reach the tuning chief at 127\.0\.0\.1"):
        tune.search(RECIPES["conv3"], "random", directory=tmp_path, **TINY)


def test_search_with_the_server_down_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    from reproductions.__main__ import main as suite

    assert suite(["tune", "--recipe", "conv3", "--dir", str(tmp_path)]) == 2
    assert "cannot use the MLflow tracking store http://127.0.0.1:9" in capsys.readouterr().err


def test_unknown_tuner_and_bad_budget_are_refused(mlflow_store, tmp_path):
    with pytest.raises(tune.TuningError, match="max_trials and max_epochs must be >= 1"):
        tune.search(RECIPES["conv3"], "random", max_trials=0, directory=tmp_path)
    with pytest.raises(tune.TuningError, match="unknown tuner 'grid'"):
        tune.make_tuner(RECIPES["conv3"], "grid", 1, 1, tmp_path, "x")


def test_a_search_that_would_replace_the_committed_tuned_recipe_is_refused_before_it_starts(
        mlflow_store, tmp_path, capsys, monkeypatch):
    """`make tune-mnist` with its defaults (conv3, hyperband) exports where the committed
    conv3_tuned.json and its search record live: refused at once, exit 2, the files and the
    store untouched, no trial trained; --export-dir elsewhere and --reference (on purpose) are the
    two ways on, and they exclude each other. A recipe with nothing committed of its own may
    still export there (its first tuned recipe)."""
    from reproductions.__main__ import main as suite_main

    tuned = REPO / "reproductions" / "recipes" / "tuned"
    before = {p: p.read_bytes() for p in tuned.rglob("*.json")}
    assert tuned / "conv3_tuned.json" in before
    started = []
    monkeypatch.setattr(tune, "search", lambda *args, **kwargs: started.append(args) or {})
    assert suite_main(["tune", "--recipe", "conv3", "--max-epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "would replace the committed reproductions/recipes/tuned/conv3_tuned.json and " \
           "reproductions/recipes/tuned/searches/conv3-hyperband.json" in err
    assert "--export-dir DIR" in err and "--reference" in err and "Traceback" not in err
    assert started == [] and {p: p.read_bytes() for p in tuned.rglob("*.json")} == before
    # another name still exports the recipe conv3_tuned.json: refused for that file alone
    assert suite_main(["tune", "--recipe", "conv3", "--name", "mine"]) == 2
    assert "the committed reproductions/recipes/tuned/conv3_tuned.json;" in capsys.readouterr().err
    assert started == []
    for way in (["--export-dir", str(tmp_path / "mine")], ["--reference"]):
        assert suite_main(["tune", "--recipe", "conv3", *way]) == 0
    assert len(started) == 2  # export_dir is search's fourth argument from the end
    assert started[0][-4] == tmp_path / "mine" and started[1][-4] == tune.TUNED
    assert not (tuned / "conv3_bn_tuned.json").exists()
    assert suite_main(["tune", "--recipe", "conv3_bn"]) == 0  # nothing committed of conv3_bn's
    with pytest.raises(SystemExit) as exit_code:
        suite_main(["tune", "--reference", "--export-dir", str(tmp_path)])
    assert exit_code.value.code == 2


def test_only_files_git_tracks_count_as_committed(tmp_path):
    """A user's own earlier export (untracked: here a file in the git-ignored runs/) may be
    replaced; a tracked file may not, nor one git cannot tell about (outside the checkout)."""
    assert tune.committed(REPO / "reproductions" / "recipes" / "tuned" / "conv3_tuned.json")
    mine = REPO / "runs" / f"tuned-by-a-user-{os.getpid()}.json"
    mine.parent.mkdir(exist_ok=True)
    mine.write_text("{}")
    try:
        assert not tune.committed(mine)
    finally:
        mine.unlink()
    outside = tmp_path / "conv3_tuned.json"
    outside.write_text("{}")
    assert tune.committed(outside) and not tune.committed(tmp_path / "none.json")
