"""Issue 17, items 1 to 4 at the level of the suite: a user's run never rewrites the reference
tables, checkpoints belong to their store, a pair held by another process is left to it, and
every bad option is refused while parsing, naming it."""

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import pytest

from reproductions.recipes import get_recipe
from tests.test_reproduction import QUICK
from tracking import claims
from tracking.runs import experiment_for
from tracking.store import store_key

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reproductions" / "results" / "mnist.csv"


def suite(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "reproductions", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _finished_run(recipe, seed, accuracy):
    """A FINISHED run as train_run leaves one (the tags and metrics the tables read)."""
    with mlflow.start_run(experiment_id=experiment_for(recipe), tags={
            "recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": str(seed),
            "machine": "test machine"}):
        mlflow.log_metrics({"test_accuracy": accuracy, "peak_test_accuracy": accuracy + 0.001,
                            "wall_s": 7.0, "test_examples": 10_000})


def test_a_users_run_writes_its_tables_beside_its_store_not_over_the_reference(mlflow_store,
                                                                               tmp_path):
    before = hashlib.sha256(REFERENCE.read_bytes()).hexdigest()
    _finished_run(get_recipe("softmax"), 1, 0.9201)
    done = suite("reproduce", "--recipes", "softmax", "--seeds", "1",
                 env={"MLFLOW_TRACKING_URI": mlflow_store})
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(REFERENCE.read_bytes()).hexdigest() == before  # reference untouched
    mine = tmp_path / "mlflow-results" / "mnist.csv"
    assert f"wrote {mine}" in done.stdout
    assert "softmax,softmax,published,1,1,0.920100," in mine.read_text()
    # the user's figure is printed beside the reference one
    assert "softmax          yours 92.01%, one seed (seeds 1, 7 s/run) | reference 92." in done.stdout
    # rewriting the reference is its own, deliberate verb (here aimed at a copy)
    report_done = suite("report", "mnist", env={"MLFLOW_TRACKING_URI": mlflow_store})
    assert report_done.returncode == 0 and f"wrote {mine}" in report_done.stdout
    assert hashlib.sha256(REFERENCE.read_bytes()).hexdigest() == before


def test_report_reference_rewrites_the_committed_tables(mlflow_store, tmp_path, monkeypatch):
    from argparse import Namespace

    from reproductions.report import tables as report

    monkeypatch.setattr(report, "RESULTS", tmp_path / "reference")
    _finished_run(get_recipe("softmax"), 1, 0.9201)
    assert report.run(Namespace(dataset="mnist", reference=True)) == 0
    assert "0.920100" in (tmp_path / "reference" / "mnist.csv").read_text()
    assert not (tmp_path / "mlflow-results").exists()


def test_checkpoints_are_filed_by_store():
    a = store_key("sqlite:////tmp/x/mlflow.db")
    assert a == store_key("sqlite:////tmp/x/mlflow.db") != store_key("sqlite:////tmp/y/mlflow.db")
    assert store_key("http://db:5000/") == store_key("http://db:5000") != a


def test_a_run_in_another_store_does_not_resume_its_checkpoint(mlflow_store, tmp_path):
    # store X left a checkpoint of this pair (here a broken one: resuming from it would fail)
    root = tmp_path / "checkpoints"
    other = root / store_key("sqlite:////elsewhere/mlflow.db") / \
        f"{QUICK.name}-{QUICK.hash()}-seed1"
    other.mkdir(parents=True)
    (other / "LATEST").write_text("1")
    from reproductions.run.train import train_run

    result = train_run(QUICK, 1, checkpoint_root=root, log_mlflow_model=False)
    run = mlflow.get_run(result["run_id"])
    assert "resumed_from_epoch" not in run.data.tags  # trained from the start, in its own store
    assert (other / "LATEST").exists()  # store X's checkpoint is left for store X


def test_a_pair_claimed_by_another_process_is_left_to_it(mlflow_store, tmp_path):
    from reproductions.run.train import train_run

    quick = replace(QUICK, name="quick_claimed")
    experiment_for(quick)
    with claims.try_claim(quick.name, quick.hash(), 1) as held:
        held.attach_run("their-run")
        t0 = time.monotonic()
        with pytest.raises(claims.ClaimHeld, match=r"quick_claimed seed 1 is being trained by "
                                                   r"process \d+ on .* \(MLflow run their-run"):
            train_run(quick, 1, checkpoint_root=tmp_path / "ckpt", log_mlflow_model=False)
        assert time.monotonic() - t0 < 30  # refused before any data was loaded or trained
    assert not (tmp_path / "ckpt").exists()


@pytest.mark.parametrize("args, message", [
    (("reproduce", "--dataset", "foo"), "argument --dataset: no recipe trains on 'foo'"),
    (("reproduce", "--seeds", "-1"), "argument --seeds: '-1' is not a seed"),
    (("reproduce", "--seeds", "abc"), "argument --seeds: 'abc' is not a seed"),
    (("reproduce", "--seeds", "1,1"), "argument --seeds: '1,1' repeats a seed"),
    (("reproduce", "--recipes", "conv3,nope"), "argument --recipes: unknown recipe 'nope'"),
    (("report", "mnst"), "argument dataset: unknown data set 'mnst'"),
    (("register", "conv3.mnst"), "argument names: unknown shipped weight 'conv3.mnst'"),
    (("tune", "--max-trials", "0"), "argument --max-trials: '0' is not a whole number from 1"),
    (("tune", "--max-epochs", "-2"), "argument --max-epochs: '-2' is not a whole number"),
    (("tune", "--train-subset", "1.5"), "argument --train-subset: '1.5' is not a whole number"),
    (("tune", "--recipe", "conv9"), "argument --recipe: unknown recipe 'conv9'"),
    (("bench", "--models", "conv9"), "argument --models: unknown model 'conv9'"),
    (("reproduce", "--set", "stepz=1"), "argument --set: a recipe has no field 'stepz'"),
    (("reproduce", "--set", "steps"), "argument --set: --set takes key=value, got 'steps'"),
    (("reproduce", "--seeds", "4294967296"), "argument --seeds: 4294967296 is not a seed: seeds "
                                             "go from 0 to 4,294,967,295"),
    (("bench-serving", "--seconds", "nan"), "argument --seconds: 'nan' is not a number of "
                                            "seconds above 0"),
    (("bench-serving", "--seconds", "-5"), "argument --seconds: '-5' is not a number"),
    (("profile", "conv3_bn", "--threads", "-1"), "argument --threads: '-1' is not a whole number "
                                                 "from 0"),
    # a search's name becomes file names and an MLflow filter: "../x" left its folder
    (("tune", "--name", "../../x"), "argument --name: '../../x' is not a plain name"),
    (("tune", "--name", "a'b"), "argument --name: \"a'b\" is not a plain name"),
    # a part of a bench would have replaced the committed table's other rows
    (("bench-export", "--weights", "softmax*"), "--weights softmax* measures part of what "
                                                "export_bench.csv holds: give --out"),
    (("bench", "--quick"), "--quick measures part of what bench.csv holds: give --out"),
    (("bench", "--latency-only", "--quick"), "--quick measures part of what latency.csv holds"),
    (("bench-training", "--variants", "recipe"), "--variants measures part of what "
                                                 "bench_training.csv holds"),
    (("bench-export", "--out", "{tmp}"), "is a folder: give the CSV file's path"),
])
def test_every_bad_option_is_refused_while_parsing(args, message, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    done = suite(*args, env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # nothing was done before the refusal


def test_a_store_verb_keeps_tensorflows_start_up_lines_off_the_console(mlflow_store):
    """`ensemble`, `screen`, `export-weights`... have no log of their own (reproduce has): the
    console gets their message, not TensorFlow's start-up and cuInit lines, unless the user set
    TF_CPP_MIN_LOG_LEVEL, which asks for TensorFlow's log."""
    from tests.test_reliability_cli import CHATTER

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    # a screening's table from a store without its runs: refused after its module, which trains,
    # has loaded TensorFlow (the ensemble verb's refusals now come before: test_record.py)
    args = [sys.executable, "-m", "reproductions", "screen", "conv7_bn_smooth", "--report"]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**env, "MLFLOW_TRACKING_URI": mlflow_store})
    assert done.returncode == 2
    assert "nothing to tabulate" in done.stderr
    assert not [c for c in CHATTER if c in done.stderr], done.stderr
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**env, "MLFLOW_TRACKING_URI": mlflow_store,
                               "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert "oneDNN custom operations" in done.stderr or "cuInit" in done.stderr


def test_a_search_is_refused_before_it_starts_for_bad_data_or_folders(mlflow_store, tmp_path):
    """A missing --data-dir, or a file where --dir goes, was a traceback (exit 1), and the first
    left a RUNNING parent run in the store; both are now refused before the parent run exists."""
    (tmp_path / "afile").write_text("")
    common = ("tune", "--tuner", "random", "--max-trials", "1", "--max-epochs", "1",
              "--train-subset", "200", "--export-dir", str(tmp_path / "export"))
    for extra, message in [(("--data-dir", str(tmp_path / "nosuch")), "is not a folder"),
                           (("--dir", str(tmp_path / "afile")), "it is a file, not a directory")]:
        done = suite(*common, *extra, env={"MLFLOW_TRACKING_URI": mlflow_store})
        assert done.returncode == 2 and message in done.stderr, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
    client = mlflow.MlflowClient(mlflow_store)
    assert not [r for e in client.search_experiments()
                for r in client.search_runs([e.experiment_id])]


def test_audio_flatness_without_the_recordings_is_a_message(tmp_path):
    done = suite("audio-flatness", env={"ZOO_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"ZOO_DATA_DIR={tmp_path} holds no FSDD recordings" in done.stderr


def test_time_job_report_without_turns_is_refused(tmp_path):
    done = suite("time-job", "--report", "--out-dir", str(tmp_path))
    assert done.returncode == 2
    assert f"no turn recorded in {tmp_path / 'reproduce_jobs_timing.csv'}" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no empty table written


def test_bench_export_keeps_litert_s_line_off_the_console(tmp_path):
    """LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", written from C++ as
    its first interpreter allocates its tensors, came after bench-export's table; the console
    now has the table and its "wrote" line, nothing of TensorFlow's or LiteRT's."""
    from tests.test_reliability_cli import CHATTER

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "reproductions", "bench-export", "--weights",
                           "softmax.mnist", "--out", str(tmp_path / "x.csv")], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert ["softmax.mnist", "litert"] in [line.split()[:2] for line in done.stdout.splitlines()]
    assert "XNNPACK" not in done.stderr + done.stdout, done.stderr
    assert not [c for c in CHATTER if c in done.stderr], done.stderr


def test_litert_s_line_is_dropped_in_a_command_only(capfd, monkeypatch):
    """zoo/quiet.py's rule: the library leaves its caller's descriptor 2 alone; a command that
    said so (reproductions' keras verbs) has LiteRT's line dropped and any other line kept, and
    a user who set TF_CPP_MIN_LOG_LEVEL, asking for the log, gets it."""
    import zoo
    from zoo import quiet

    said = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
    monkeypatch.setattr(quiet, "_command", False)
    with quiet.later_chatter_filtered():  # as the library: untouched
        os.write(2, said)
    assert capfd.readouterr().err == said.decode()
    monkeypatch.setattr(zoo, "USER_TF_LOG_LEVEL", None)
    quiet.command_console()
    with quiet.later_chatter_filtered():
        os.write(2, said + b"a real error\n")
    assert capfd.readouterr().err == "a real error\n"
    monkeypatch.setattr(zoo, "USER_TF_LOG_LEVEL", "0")
    quiet.command_console()
    with quiet.later_chatter_filtered():
        os.write(2, said)
    assert capfd.readouterr().err == said.decode()


def test_a_turn_of_time_job_keeps_tensorflows_lines_off_the_console(tmp_path):
    """time-job measures the machine's matmul peak with TensorFlow before each turn: its start-up
    lines stayed on the console (the turn's own output goes to the turn's log). Here the turn's
    checkout has an environment but no suite, so the reproduction fails at once: the console
    has the turn's line and the error naming its log, and nothing of TensorFlow's."""
    import shutil

    from tests.test_reliability_cli import CHATTER

    code = tmp_path / "checkout"
    (code / ".venv" / "bin").mkdir(parents=True)
    (code / ".venv" / "bin" / "python").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "reproductions", "time-job", "--code", str(code),
                           "--recipes", "softmax", "--out-dir", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    turn_log = Path(done.stderr.rsplit("its output: ", 1)[-1].strip())
    if turn_log.name == "reproduce.log":
        shutil.rmtree(turn_log.parent)  # runs/time-job/turn1-<time>/, kept for a real turn
    assert done.returncode == 2, done.stderr
    assert done.stdout.startswith("turn 1: python -m reproductions reproduce --dataset mnist "
                                  "--recipes softmax --seeds 1 in "), done.stdout
    assert done.stderr.startswith("error: the reproduction exited with 1; its output: "), \
        done.stderr
    assert not [c for c in CHATTER if c in done.stderr + done.stdout], done.stderr


def test_register_keeps_mlflows_registry_lines_in_its_log(mlflow_store):
    """The console gets each weight's model URI; MLflow's "Successfully registered model" and
    "Created version" lines (printed, not logged, by MLflow) and TensorFlow's start-up lines go
    to the verb's log file, as a reproduction's do."""
    done = suite("register", "softmax.mnist", env={"MLFLOW_TRACKING_URI": mlflow_store})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (done.stdout + done.stderr).splitlines()
    assert lines[0].startswith("log: ") and lines[1:] == ["softmax.mnist: models:/softmax/1 "
                                                          "(alias @mnist)"], lines
    log = Path(lines[0][len("log: "):].split(" (", 1)[0])
    text = log.read_text()
    assert "Successfully registered model 'softmax'." in text
    assert "Created version '1' of model 'softmax'." in text
    log.unlink()


def test_a_new_store_is_made_without_mlflows_schema_lines(tmp_path):
    """The first use of a new sqlite store: the verb's own answer, not MLflow's "Creating
    initial MLflow database tables" and "Updating database tables"."""
    done = suite("report", "mnist", env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/new.db"},
                 timeout=120)
    assert done.returncode == 2 and (tmp_path / "new.db").is_file()
    assert "nothing to report" in done.stderr
    assert "INFO mlflow" not in done.stderr and "database tables" not in done.stderr, done.stderr


def test_a_store_that_is_down_is_refused_before_any_log_file():
    """reproduce with its tracking server down: the message and exit code 2, and no "log:"
    line nor log file (runs/logs/reproduce-<time>-<pid>.log), since nothing ran to log."""
    child = subprocess.Popen([sys.executable, "-m", "reproductions", "reproduce", "--recipes",
                              "softmax", "--seeds", "1"], cwd=REPO, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    out, err = child.communicate(timeout=120)
    assert child.returncode == 2 and "Start the server (make mlflow-server)" in err
    assert "log:" not in out
    assert list((REPO / "runs" / "logs").glob(f"reproduce-*-{child.pid}.log")) == []


def test_ctrl_c_in_a_verb_is_a_line_and_the_shells_130(monkeypatch, capsys, tmp_path):
    """time-alternating and the other verbs without a handler of their own printed a
    KeyboardInterrupt traceback."""
    import reproductions.__main__ as suite_main

    real = suite_main.resolve

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(suite_main, "resolve", lambda target: interrupted
                        if target == "reproductions.bench.cli:run" else real(target))
    assert suite_main.main(["bench-cli", "--out-dir", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "interrupted: bench-cli stopped" in err and "Traceback" not in err
