"""Issue 17, item 3: one (recipe, hash, seed) is trained by exactly one process, whatever the
timing, on a sqlite store and on a real `mlflow server` backed by PostgreSQL. The contenders are
separate processes released together by a barrier: each says it is ready, and all leave at
the test's go."""

import collections
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from tests.servers import mlflow_server, postgresql
from tracking import claims
from tracking.store import check_store

ROOT = Path(__file__).resolve().parent.parent
PAIRS = "a:1,a:2,b:1,b_2:3"
CONTENDERS = 4


def _race(uri, tmp_path, *, initialise=True, pairs=PAIRS, train_s=2.0, die=False, n=CONTENDERS):
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONPATH": str(ROOT)}
    if initialise:  # else the contenders also race to create the store's tables
        subprocess.run([sys.executable, "-c", "from tracking.store import check_store; "
                        "check_store('zoo-claims-test')"], env=env, check=True, cwd=ROOT,
                       capture_output=True)
    log = tmp_path / "trained.log"
    barrier = tmp_path / "barrier"
    procs = [subprocess.Popen([sys.executable, "-m", "tests.claim_worker", str(barrier),
                               str(log), pairs, str(train_s), *(["--die"] if die else [])],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(n)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("barrier.ready.*"))) < n:  # every contender is at the barrier
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    Path(f"{barrier}.go").touch()
    outs = [p.communicate(timeout=300)[0] for p in procs]
    for ready in tmp_path.glob("barrier.*"):
        ready.unlink()
    trained = log.read_text().splitlines() if log.exists() else []
    return trained, outs, [p.returncode for p in procs]


def _check_exactly_once(trained, outs, pairs=PAIRS):
    counts = collections.Counter(line.split()[0] for line in trained)
    assert counts == {pair: 1 for pair in pairs.split(",")}, trained
    for out in outs:
        lines = [line for line in out.splitlines() if line.split(" ")[0] in pairs.split(",")]
        assert len(lines) == len(pairs.split(",")), out  # every contender went through every pair
        for line in lines:
            assert line.endswith((" trained", " finished")) or \
                " held: " in line and " is being trained by process " in line and \
                f" on {socket.gethostname()} (" in line, line


def test_contenders_on_a_fresh_sqlite_store(tmp_path):
    # fresh store: the contenders also race to create its tables (once: "table ... already exists")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    trained, outs, codes = _race(uri, tmp_path, initialise=False)
    assert codes == [0] * CONTENDERS, outs
    _check_exactly_once(trained, outs)


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_contenders_on_sqlite(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    trained, outs, codes = _race(uri, tmp_path)
    assert codes == [0] * CONTENDERS, outs
    _check_exactly_once(trained, outs)
    assert any(" held: " in out for out in outs)  # the race was real: someone lost it
    # a second round finds everything finished and trains nothing
    (tmp_path / "again").mkdir()
    again, outs, _ = _race(uri, tmp_path / "again")
    assert again == []
    assert all(out.count(" finished") == len(PAIRS.split(",")) for out in outs), outs


@pytest.mark.slow  # 20 s or more: `make test-slow`, which CI runs
def test_contenders_on_mlflow_server_with_postgresql(tmp_path):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    with postgresql() as backend, mlflow_server(backend, str(artifacts)) as uri:
        trained, outs, codes = _race(uri, tmp_path)
    assert codes == [0] * CONTENDERS, outs
    _check_exactly_once(trained, outs)
    assert any(" held: " in out for out in outs)


def test_claim_of_a_dead_process_is_taken_over(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # one contender claims the pair and dies without releasing it (as under kill -9)
    trained, outs, codes = _race(uri, tmp_path, pairs="a:1", die=True, n=1, train_s=0)
    assert codes == [9] and len(trained) == 1
    dead_pid = trained[0].split()[1]
    # the next one sees the pid is dead on this host, takes the claim over, closes the old run
    (tmp_path / "trained.log").unlink()
    trained, outs, codes = _race(uri, tmp_path, pairs="a:1", n=2, train_s=1)
    assert codes == [0, 0], outs
    assert len(trained) == 1
    assert f"its process {dead_pid} on {socket.gethostname()} died" in trained[0]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("zoo-claims-test").experiment_id])
    statuses = sorted(r.info.status for r in runs)
    assert statuses == ["FINISHED", "KILLED"]
    killed = next(r for r in runs if r.info.status == "KILLED")
    assert killed.data.tags["ended_by"].startswith("claim taken over: its process")


@pytest.fixture()
def store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    check_store()
    yield uri
    mlflow.set_tracking_uri(None)


def test_live_claim_is_held_and_named(store):
    with claims.try_claim("conv3", "abc", 1) as mine:
        mine.attach_run("run123")
        with pytest.raises(claims.ClaimHeld, match=rf"conv3 seed 1 is being trained by process "
                                                   rf"{os.getpid()} on {socket.gethostname()} "
                                                   r"\(MLflow run run123, last heartbeat \d+ s"):
            claims.try_claim("conv3", "abc", 1)
        # another recipe hash or seed is another pair
        with claims.try_claim("conv3", "abd", 1), claims.try_claim("conv3", "abc", 2):
            pass
    # released: the next claim takes generation 2, and the released one left the UI's list
    with claims.try_claim("conv3", "abc", 1) as again:
        assert again.generation == 2 and again.took_over.startswith("released by process")
    names = [e.name for e in MlflowClient(store).search_experiments()]
    assert not any(n.startswith("zoo-claim:") for n in names)


def test_silent_holder_on_another_host_is_taken_over_and_notices(store, monkeypatch):
    monkeypatch.setattr(claims, "HEARTBEAT_S", 0.2)
    client = MlflowClient(store)
    with claims.try_claim("conv3", "abc", 1) as stalled:
        # make it look like another machine's claim whose heartbeats stopped a while ago
        client.set_experiment_tag(stalled.experiment_id, "host", "elsewhere")
        monkeypatch.setattr(claims, "HEARTBEAT_S", 3600)  # the stalled one beats no more
        stalled._stop.set()
        stalled._thread.join()
        client.set_experiment_tag(stalled.experiment_id, "heartbeat", str(time.time() - 120))
        with pytest.raises(claims.ClaimHeld):  # 120 s is not stale under the default 10 min
            claims.try_claim("conv3", "abc", 1)
        taker = claims.try_claim("conv3", "abc", 1, stale_s=60)
        assert taker.generation == 2
        assert taker.took_over.startswith("no heartbeat for 12")
        # the stalled holder, at its next heartbeat, sees it lost the claim
        monkeypatch.setattr(claims, "HEARTBEAT_S", 0.1)
        stalled._stop.clear()
        stalled._thread = claims.threading.Thread(target=stalled._beat, daemon=True)
        stalled._thread.start()
        assert stalled.lost.wait(10)
        with pytest.raises(claims.ClaimLost, match=r"conv3 seed 1: taken over by another "
                                                   r"process while this one was silent"):
            stalled.check()  # what the training loop calls at each evaluation
        taker.check()  # the new holder carries on
        taker.release()
