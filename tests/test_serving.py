"""`make serve`: the real model server (MLflow's scoring app behind the zoo's guard under uvicorn,
started by `python -m reproductions serve` as the Makefile does) for a registered zoo model, on a
free port, against a temporary sqlite store. No mock: real HTTP requests with real MNIST test
digits, then bad and hostile ones (issue 30); then the input contract and the guard on their own,
on hand-worked cases."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.servers import free_port

REPO = Path(__file__).resolve().parent.parent
STARTUP_S = 90


def _post(url, body: bytes):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _stop(proc) -> None:
    """A server started in its own session, stopped with its children: SIGTERM, then SIGKILL
    after 20 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture()
def server(tmp_path, mnist):
    port = free_port()
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
               PYTHONPATH=str(REPO))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user has it: TensorFlow's log not asked for
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
        _stop(proc)
        log.close()
        for line in (tmp_path / "serve.log").read_text().splitlines():
            if line.startswith("log: "):  # the registering's MLflow lines, in runs/logs/
                Path(line[len("log: "):].split(" (", 1)[0]).unlink(missing_ok=True)


def test_the_real_model_server_answers_a_digit_and_refuses_bad_requests(server, mnist, tmp_path):
    (_, _), (x_test, y_test) = mnist
    url = f"{server}/invocations"
    # test digits 0 and 1 (a 7 and a 2), as raw pixels, the JSON MLflow's server takes
    status, answer = _post(url, json.dumps({"inputs": x_test[:2].tolist()}).encode())
    assert status == 200, answer
    probs = answer["predictions"]
    assert len(probs) == 2 and len(probs[0]) == 10
    assert [max(range(10), key=p.__getitem__) for p in probs] == [int(y) for y in y_test[:2]]
    assert abs(sum(probs[0]) - 1) < 1e-5
    # docs/export-and-serving.md shows the answer to test digit 0: the server's, not typed
    page = (REPO / "docs" / "export-and-serving.md").read_text()
    shown = json.loads(re.search(r'\{"predictions": \[\[.*?\]\]\}', page, re.S).group(0))
    np.testing.assert_allclose(shown["predictions"][0], probs[0], rtol=1e-3, atol=1e-12)
    # the server's log: its own lines, not TensorFlow's start-up lines from the registering
    # process or from each worker (two sets a process, before this change)
    from tests.test_reliability_cli import CHATTER

    log = (tmp_path / "serve.log").read_text()
    assert "serving conv3_bn.mnist" in log and not [c for c in CHATTER if c in log], log

    status, answer = _post(url, b'{"inputs": [[0, 0,')  # malformed JSON
    assert status == 400 and "malformed JSON" in answer["message"], answer

    status, answer = _post(url, json.dumps({"inputs": x_test[:1, :20].tolist()}).encode())
    assert status == 400, answer  # 20x28: the signature's shape is checked before the model runs
    assert "(1, 20, 28) do not match the expected (n, 28, 28)" in answer["message"], answer

    status, answer = _post(url, json.dumps({"inputs": [[[300] * 28] * 28]}).encode())
    assert status == 400 and "pixels must lie in 0-255" in answer["message"], answer

    # floats in 0-1 (x / 255): refused by name without a declared range (they used to arrive as
    # blank images, every one answered "1" at 0.996), the same answers as uint8 with one
    floats = json.dumps({"inputs": (x_test[:2] / 255).tolist()}).encode()
    status, answer = _post(url, floats)
    assert status == 400 and 'send params {"pixel_range": "0-1"}' in answer["message"], answer
    status, declared = _post(url, json.dumps({"inputs": (x_test[:2] / 255).tolist(),
                                              "params": {"pixel_range": "0-1"}}).encode())
    assert status == 200 and declared["predictions"] == probs
    status, declared = _post(url, json.dumps({"inputs": x_test[:2].astype(float).tolist(),
                                              "params": {"pixel_range": "0-255"}}).encode())
    assert status == 200 and declared["predictions"] == probs

    # hostile bodies: nested 100,000 deep (a RecursionError, a 500, before), a bad request that
    # MLflow's app would echo whole, a body over the limit (refused from its header)
    status, answer = _post(url, b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and "nested too deeply" in answer["message"], answer
    echo = json.dumps({"instances": ["x" * 1000] * 2000}).encode()  # 2 MB of strings
    request = urllib.request.Request(url, data=echo, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    body = refused.value.read()
    assert refused.value.code == 400 and len(body) < 2000 and b"x" * 100 not in body, body[:300]
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                    b"\r\nContent-Length: 100000000\r\n\r\n")
        head = b""
        while b"over 8 MB" not in head:  # the headers and the body may come in two reads
            chunk = raw.recv(4096)
            if not chunk:
                break
            head += chunk
        head = head.decode()
    assert head.startswith("HTTP/1.1 413") and "over 8 MB" in head, head
    # no Keras progress bar a request in the server's log (Keras' predict wrote one each time)
    log = (tmp_path / "serve.log").read_text()
    assert "━" not in log and "1/1" not in log, log[-2000:]


def test_serve_refuses_an_unknown_weight_with_exit_2(capsys):
    from reproductions.__main__ import main

    assert main(["serve", "conv3_bn.mnst", "--port", str(free_port())]) == 2
    assert "no shipped weights named 'conv3_bn.mnst'" in capsys.readouterr().err


def _serve_until_it_becomes_the_server(store: str, out: Path) -> tuple[list[str], str, int]:
    """(console lines, stderr, process id) of `python -m reproductions serve softmax.mnist` up
    to its line "serving ...", printed as it replaces itself with uvicorn, then stopped."""
    env = dict(os.environ, MLFLOW_TRACKING_URI=store, PYTHONPATH=str(REPO))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user has it
    with open(out.with_suffix(".out"), "w") as stdout, open(out.with_suffix(".err"), "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "reproductions", "serve", "softmax.mnist",
                                 "--port", str(free_port()), "--workers", "1"], cwd=REPO,
                                env=env, stdout=stdout, stderr=err, start_new_session=True)
        try:
            deadline = time.monotonic() + STARTUP_S
            while "\nserving " not in "\n" + out.with_suffix(".out").read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"serve stopped or stalled (exit {proc.poll()}):\n"
                                + out.with_suffix(".err").read_text()[-3000:])
                time.sleep(0.2)
        finally:
            _stop(proc)
    return (out.with_suffix(".out").read_text().splitlines(),
            out.with_suffix(".err").read_text(), proc.pid)


def test_the_first_serve_keeps_mlflows_registry_lines_in_a_log(tmp_path):
    """The first `serve` of a weight registers it: MLflow's "Successfully registered model" and
    "Created version" lines reached the console. Now they go to runs/logs/serve-<time>-<pid>.log,
    which the console names, as `register` keeps them; a later serve finds the weight registered
    and leaves no log."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    lines, err, _ = _serve_until_it_becomes_the_server(store, tmp_path / "first")
    assert "Successfully registered" not in err + "\n".join(lines), err
    assert "Created version" not in err + "\n".join(lines), err
    assert lines[0] == "softmax.mnist: models:/softmax/1 (alias @mnist)", lines
    assert lines[1].startswith("log: ") and lines[1].endswith(
        " (MLflow's messages from registering softmax.mnist)"), lines
    assert lines[2].startswith("serving softmax.mnist (models:/softmax@mnist) on "), lines
    log = Path(lines[1][len("log: "):].split(" (", 1)[0])
    text = log.read_text()
    log.unlink()
    assert "Successfully registered model 'softmax'." in text
    assert "Created version '1' of model 'softmax'." in text
    lines, err, pid = _serve_until_it_becomes_the_server(store, tmp_path / "again")
    assert lines[0] == "softmax.mnist: models:/softmax/1 (alias @mnist)", lines
    assert lines[1].startswith("serving softmax.mnist "), lines
    assert not list(log.parent.glob(f"serve-*-{pid}.log"))  # nothing logged, no file left


def test_a_busy_or_impossible_port_is_a_message_at_once(capsys, tmp_path, monkeypatch):
    """A taken port used to cost 15 s and up to 117 lines (uvicorn's traceback); 70000 too."""
    from reproductions.__main__ import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        start = time.monotonic()
        assert main(["serve", "softmax.mnist", "--port", str(port)]) == 2
        assert time.monotonic() - start < 5  # nothing registered, no model loaded
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "softmax.mnist", "--port", "70000"])
    assert exit_.value.code == 2
    assert "'70000': a port is a whole number from 1 to 65535" in capsys.readouterr().err


# ---- the input contract (tracking/pyfunc.py), hand-worked ------------------------------------

@pytest.mark.parametrize("x, params, expected", [
    ([[0, 128, 255]], None, [[0, 128, 255]]),                       # whole numbers: as they are
    ([[0.0, 0.5, 1.0]], {"pixel_range": "0-1"}, [[0, 128, 255]]),   # 0.5 * 255 = 127.5 -> 128
    ([[0.0, 127.4, 255.0]], {"pixel_range": "0-255"}, [[0, 127, 255]]),
])
def test_pixels_are_taken_by_rule(x, params, expected):
    from tracking.pyfunc import check_input

    got = check_input(np.array(x, dtype="float32"), "mnist", params)
    assert got.dtype == np.uint8 and got.tolist() == expected


@pytest.mark.parametrize("x, params, message", [
    ([[0.0, 0.5, 1.0]], None, 'they look like floats in 0-1: send params {"pixel_range": "0-1"}'),
    ([[0.0, 12.5, 200.0]], None, 'send params {"pixel_range": "0-255"}'),
    ([[0, 256]], None, "pixels must lie in 0-255 (pixel_range uint8); these range from 0 to 256"),
    ([[-1, 5]], None, "these range from -1 to 5"),
    ([[0.0, 1.5]], {"pixel_range": "0-1"}, "pixels must lie in 0-1"),
    ([[0.0, np.nan]], None, "NaN or infinite"),
    ([[0, 1]], {"pixel_range": "0-100"}, "params.pixel_range is one of uint8, 0-255, 0-1"),
])
def test_pixels_outside_the_contract_are_refused_by_name(x, params, message):
    from tracking.pyfunc import InputRefused, check_input

    with pytest.raises(InputRefused, match=re.escape(message)):
        check_input(np.array(x, dtype="float32"), "mnist", params)


def test_xo_grids_stay_in_their_range():
    from tracking.pyfunc import InputRefused, check_input

    assert check_input(np.ones((1, 9, 9)), "xo", None).dtype == np.float32
    with pytest.raises(InputRefused, match=r"values in \[-1, 1\]"):
        check_input(np.full((1, 9, 9), 2.0), "xo", None)


# ---- the guard (tracking/scoring.py) on its own: an ASGI app called as uvicorn calls it -------

def _call(app, body: bytes, chunks: int = 1, headers=None):
    """(status, body) of one POST /invocations through ASGI `app`."""
    import asyncio

    headers = headers if headers is not None else [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": "POST", "path": "/invocations", "raw_path": b"/invocations",
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "asgi": {"version": "3.0"}, "server": ("127.0.0.1", 80), "headers": headers}
    size = max(1, len(body) // chunks + 1)
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    sent = []

    async def receive():
        part = parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _echoing_app(calls):
    """Stands for MLflow's app: refuses everything as it does, echoing the request."""
    async def app(scope, receive, send):
        body = (await receive())["body"]
        calls.append(body)
        error = {"error_code": "INVALID_PARAMETER_VALUE",
                 "message": f"Failed to predict data '{body.decode()}'. \nError: it is wrong"}
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(error).encode()})
    return app


def test_the_guard_refuses_a_large_body_before_the_app_reads_it():
    from tracking.scoring import Guard

    calls = []
    guard = Guard(_echoing_app(calls), max_body=1000)
    status, body = _call(guard, b"[" + b"0," * 600 + b"0]")  # declared: 1,203 bytes
    assert status == 413 and b"over 1,000 bytes" in body and not calls
    # no Content-Length (chunked): counted as it comes, refused past the limit
    status, _ = _call(guard, b"[" + b"0," * 600 + b"0]", chunks=5,
                      headers=[(b"content-type", b"application/json")])
    assert status == 413 and not calls


def test_the_guard_answers_deep_json_and_never_echoes_the_input():
    from tracking.scoring import Guard

    calls = []
    guard = Guard(_echoing_app(calls))
    status, body = _call(guard, b"[" * 50_000 + b"]" * 50_000)
    assert status == 400 and b"nested too deeply" in body and not calls
    secret = json.dumps({"instances": ["secret" * 1000]}).encode()
    status, body = _call(guard, secret)
    assert status == 400 and calls == [secret]
    assert json.loads(body) == {"error_code": "INVALID_PARAMETER_VALUE", "message": "it is wrong"}


def test_the_app_answers_from_memory_and_leaves_no_copy_of_the_model(mlflow_store, mnist_batch,
                                                                      tmp_path, monkeypatch):
    """MLflow's load_model copies a model that is not a plain local folder (a run's artifact, a
    tracking server's) into a temporary folder it never removes: one copy in /tmp per server
    start. create_app loads it through a folder of its own, removed once the model is in memory,
    and the app still answers (its probabilities: the weight's own). Served here by its run."""
    import tempfile

    import mlflow

    import zoo
    from tracking.register import register
    from tracking.scoring import create_app

    [registered] = register(["softmax.mnist"])
    info = mlflow.models.get_model_info(registered)
    uri = f"runs:/{info.run_id}/softmax"  # logged under its arch name (tracking/register.py)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    app = create_app(uri)
    assert list(scratch.iterdir()) == []
    x, _ = mnist_batch
    body = json.dumps({"instances": x[:3].tolist()}).encode()
    status, answer = _call(app, body)
    assert status == 200
    want = zoo.load("softmax.mnist").predict(x[:3], verbose=0)
    np.testing.assert_allclose(json.loads(answer)["predictions"], want, atol=1e-5)
