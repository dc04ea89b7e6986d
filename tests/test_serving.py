"""`make serve`: MLflow's real model server (`mlflow models serve`, started by
`python -m reproductions serve` as the Makefile does) for a registered zoo model, on a free
port, against a temporary sqlite store. No mock: real HTTP requests with a real MNIST test
digit, then bad ones."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STARTUP_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url, body: bytes):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture()
def server(tmp_path, mnist):
    port = _free_port()
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
               PYTHONPATH=str(REPO))
    log = open(tmp_path / "serve.log", "w")
    # its own session: the server's uvicorn child is stopped with it
    proc = subprocess.Popen([sys.executable, "-m", "reproductions", "serve", "conv3_bn.mnist",
                             "--port", str(port)], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the model server did not come up (exit {proc.poll()}):\n"
                            + (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(0.5)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def test_the_real_model_server_answers_a_digit_and_refuses_bad_requests(server, mnist):
    (_, _), (x_test, y_test) = mnist
    url = f"{server}/invocations"
    # test digits 0 and 1 (a 7 and a 2), as raw pixels, the JSON MLflow's server takes
    status, answer = _post(url, json.dumps({"inputs": x_test[:2].tolist()}).encode())
    assert status == 200, answer
    probs = answer["predictions"]
    assert len(probs) == 2 and len(probs[0]) == 10
    assert [max(range(10), key=p.__getitem__) for p in probs] == [int(y) for y in y_test[:2]]
    assert abs(sum(probs[0]) - 1) < 1e-5

    status, answer = _post(url, b'{"inputs": [[0, 0,')  # malformed JSON
    assert status == 400 and "valid JSON" in answer["message"], answer

    status, answer = _post(url, json.dumps({"inputs": x_test[:1, :20].tolist()}).encode())
    assert status == 400, answer  # 28x20: the signature's shape is checked before the model runs
    assert "does not match expected shape (-1, 28, 28)" in answer["message"], \
        answer["message"][-300:]

    status, answer = _post(url, json.dumps({"inputs": [[[300] * 28] * 28]}).encode())
    assert status == 400 and "out of bounds for uint8" in answer["message"], answer


def test_serve_refuses_an_unknown_weight_with_exit_2(capsys):
    from reproductions.__main__ import main

    assert main(["serve", "conv3_bn.mnst", "--port", str(_free_port())]) == 2
    assert "no shipped weights named 'conv3_bn.mnst'" in capsys.readouterr().err
