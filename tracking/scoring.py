"""The model server's application: MLflow's own scoring app (`/invocations`, `/ping`, `/health`,
`/version`, the protocol users of `mlflow models serve` know), behind a guard that answers what
MLflow's app would answer badly, before it reaches it:

- a body over MAX_BODY bytes: 413, without reading past the limit (MLflow's app reads any body
  whole: 100 MB took 1.6 GB, issue 30);
- JSON that is malformed or nested deeper than Python's parser goes (RecursionError, a 500 in
  MLflow's app): 400;
- an error answer never echoes the request: MLflow's own wraps a refused input as "Failed to
  predict data '<the whole input>'" (10 MB of it, for a 10 MB body); the guard keeps the
  message after it, cut to MAX_ERROR characters;
- the common request, JSON {"inputs": <nested lists>, "params": {...}} for the model's one
  tensor input, is answered here (`FastInputs`): parsed once into a float32 array, its shape
  checked against the signature, predicted, written back as MLflow writes it ({"predictions":
  [...]}). MLflow's app casts such lists with a deep copy of every number
  (mlflow.utils.proto_json_utils._cast_schema_type): for a batch of 100 digits, 32 ms of parsing
  for 12 ms of prediction, most of the time (measured in-process, issue 30). Every other form
  (dataframe_split, instances, CSV, parquet) goes to MLflow's app unchanged.

Run by uvicorn with one worker per core (`python -m reproductions serve`, tracking/serve.py):

    uvicorn --factory tracking.scoring:app_from_environment --workers 2 ...

each worker loading the model named by the environment variable MODEL_ENV through its pyfunc
loader (tracking/pyfunc.py: the input contract, ONNX Runtime). A pure ASGI middleware, so that it
adds no per-request cost beyond one pass over the body.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

import numpy as np

# Bodies: one digit as JSON is ~3 KB of integers (~6 KB as floats in 0-1 at 4 decimals); a
# batch of 1,000 digits ~3-6 MB. 8 MB leaves room for that batch at full float precision while
# refusing, before it is read, the 26-100 MB bodies that cost MLflow's app 1.3-1.6 GB each.
MAX_BODY = 8 * 1024 * 1024
MAX_ERROR = 600  # characters of an error message sent back: enough for the sentence, no echo
MODEL_ENV = "ZOO_SERVE_MODEL_URI"


async def _send_json(send, status: int, payload: dict):
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _clean(body: bytes) -> bytes:
    """An error answer of MLflow's app without the input it echoes."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {"message": body.decode("utf-8", "replace")}
    if not isinstance(payload, dict):
        payload = {"message": str(payload)}
    message = str(payload.get("message", ""))
    if message.startswith("Failed to predict data"):
        message = message.split("Error: ", 1)[-1]  # the reason, after the echoed input
    # what MLflow quotes from the input ("could not convert string to float: 'xxx...'") goes too
    message = re.sub(r"'[^']{40,}'|\"[^\"]{40,}\"", "'...'", message)
    if len(message) > MAX_ERROR:
        message = message[:MAX_ERROR] + " [cut]"
    clean = {"error_code": payload.get("error_code", "BAD_REQUEST"), "message": message.strip()}
    return json.dumps(clean).encode()


class FastInputs:
    """The {"inputs": [...], "params": {...}} request for a one-tensor model, answered as
    MLflow's app answers it; None for any other form (MLflow's app takes those)."""

    def __init__(self, model):
        self.model = model
        schema = model.metadata.get_input_schema()
        spec = schema.inputs[0] if schema is not None and len(schema.inputs) == 1 else None
        self.shape = tuple(spec.shape) if spec is not None and hasattr(spec, "shape") else None

    def __call__(self, payload) -> tuple[int, dict] | None:
        if (self.shape is None or not isinstance(payload, dict) or "inputs" not in payload
                or set(payload) - {"inputs", "params"} or not isinstance(payload["inputs"], list)):
            return None
        params = payload.get("params")
        if params is not None and not isinstance(params, dict):
            return 400, {"error_code": "BAD_REQUEST", "message": "params must be an object"}
        try:
            x = np.asarray(payload["inputs"], dtype="float32")
        except (ValueError, TypeError):
            return 400, {"error_code": "BAD_REQUEST", "message": "inputs must be a regular "
                         f"array of numbers of shape {_shape_text(self.shape)}"}
        if x.ndim != len(self.shape) or any(want not in (-1, got)
                                            for want, got in zip(self.shape, x.shape)):
            return 400, {"error_code": "BAD_REQUEST", "message": f"inputs of shape "
                         f"{tuple(x.shape)} do not match the expected {_shape_text(self.shape)}"}
        from mlflow.exceptions import MlflowException

        try:
            # inline, not in a thread: a worker's one core does the work either way
            predictions = self.model.predict(x, params=params)
        except MlflowException as err:
            return err.get_http_status_code(), {"error_code": err.error_code,
                                                "message": err.message[:MAX_ERROR]}
        return 200, {"predictions": np.asarray(predictions).tolist()}


def _shape_text(shape) -> str:
    return "(" + ", ".join("n" if d == -1 else str(d) for d in shape) + ")"


class Guard:
    """ASGI middleware around MLflow's scoring app (see the module's docstring)."""

    def __init__(self, app, max_body: int = MAX_BODY, fast=None):
        self.app, self.max_body, self.fast = app, max_body, fast

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await self._too_large(send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await self._too_large(send)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if headers.get(b"content-type", b"").split(b";")[0].strip() == b"application/json":
            try:
                payload = json.loads(body)
            except RecursionError:
                return await _send_json(send, 400, {
                    "error_code": "BAD_REQUEST",
                    "message": "the JSON is nested too deeply; an input is at most a few levels "
                               "deep ({\"inputs\": [[[pixels]]]})"})
            except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
                return await _send_json(send, 400, {
                    "error_code": "BAD_REQUEST", "message": f"malformed JSON ({err})"[:MAX_ERROR]})
            answer = self.fast(payload) if (self.fast is not None
                                            and scope["path"] == "/invocations") else None
            if answer is not None:
                return await _send_json(send, *answer)

        async def replay():
            return {"type": "http.request", "body": body, "more_body": False}

        state = {}

        async def filtered(message):
            # an error's body is held back and cleaned; answers pass through as they are
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                if message["status"] < 400:
                    await send(message)
                else:
                    state["start"], state["body"] = message, b""
                return
            if state.get("status", 200) < 400:
                await send(message)
                return
            state["body"] += message.get("body", b"")
            if not message.get("more_body"):
                cleaned = _clean(state["body"])
                headers = [(k, v) for k, v in state["start"]["headers"]
                           if k.lower() not in (b"content-length", b"content-type")]
                headers += [(b"content-type", b"application/json"),
                            (b"content-length", str(len(cleaned)).encode())]
                await send({**state["start"], "headers": headers})
                await send({"type": "http.response.body", "body": cleaned})

        return await self.app(scope, replay, filtered)

    async def _too_large(self, send):
        return await _send_json(send, 413, {
            "error_code": "REQUEST_LIMIT_EXCEEDED",
            "message": f"the request body is over {_size(self.max_body)}; send batches of at "
                       "most about 1,000 digits"})


def _size(n: int) -> str:
    return f"{n // 2**20} MB" if n % 2**20 == 0 else f"{n:,} bytes"


def create_app(model_uri: str):
    """MLflow's scoring app for `model_uri`, guarded."""
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    # MLflow copies a model that is not a plain local folder (a run's artifact, a tracking
    # server's) into a temporary folder it never removes: one more copy in /tmp at each server
    # start. Once it returns, the zoo's loader holds all it needs in memory (the Keras model) or
    # in the zoo's cache (the ONNX export), so the copy goes with it.
    with tempfile.TemporaryDirectory(prefix="zoo-serve-") as tmp:
        model = mlflow.pyfunc.load_model(model_uri, dst_path=tmp)
    return Guard(scoring_server.init(model), fast=FastInputs(model))


def app_from_environment():
    """uvicorn's --factory entry point: the model named by MODEL_ENV. Each worker is a process
    of the server's own, so it keeps TensorFlow's start-up lines off the server's log as the
    `zoo` command does (zoo/quiet.py: unless the user set TF_CPP_MIN_LOG_LEVEL)."""
    from zoo.quiet import import_keras_quietly

    import_keras_quietly()
    return create_app(os.environ[MODEL_ENV])
