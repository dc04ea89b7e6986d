"""The servers under load, on loopback: the model server (`python -m reproductions serve`) and the
live explainer (`zoo explain --serve`), this checkout's against another's, taking turns.

    git worktree add /tmp/before <commit>          # the code to compare against
    python -m reproductions bench-serving --before /tmp/before --seconds 10 --rounds 2

Each round starts both servers of one side, runs every case against them, stops them, then does
the same for the other side (the order reversed every other round, so that a machine's drift
shows on both). A side's servers run from its checkout (its code: `python -m reproductions serve`
and `python -m zoo.cli explain --serve` with that folder first on the path, this venv's
packages), each model server on a fresh temporary MLflow store where it registers the weight.
Without --before only this checkout is measured.

Cases (the load is bounded: each runs for --seconds, or --max-requests, whichever comes first,
every request with a 30 s timeout): the model server with one digit a request, one client (the
latency alone) and 8 clients; batches of 100 digits, 8 clients; the explainer with a drawn digit
(as the page sends it), 8 clients. The clients are one asyncio process (aiohttp, kept-alive
connections) on the same cores as the servers: the figures include their cost, as a local user's
would. Writes results/serving_load.csv (every case of every round) and serving_load.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reproductions import RESULTS
from reproductions.bench.common import out_folder, version, write_csv
from zoo.files import write_text

WEIGHT = "conv3_bn_small.mnist"  # the time-to-accuracy net: what a served digit answer runs
EXPLAINED = "conv3_bn.mnist"  # the explainer's default weight
CLIENTS = 8
# (name, server, digits a request, clients); the bars beside each (issue 30)
CASES = (("model server, 1 digit, 1 client", "model", 1, 1),
         ("model server, 1 digit, 8 clients", "model", 1, CLIENTS),
         ("model server, 100 digits, 8 clients", "model", 100, CLIENTS),
         ("explainer, a drawn digit, 8 clients", "explainer", 1, CLIENTS))
TARGETS = {"model server, 1 digit, 1 client": "p50 <= 5 ms",
           "model server, 1 digit, 8 clients": ">= 300 requests/s, p99 <= 50 ms",
           "model server, 100 digits, 8 clients": ">= 50 requests/s",
           "explainer, a drawn digit, 8 clients": ">= 100 requests/s"}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (tests/servers.py starts its servers on these too)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout_s: float, process=None):
    """Until `url` answers; RuntimeError if `process` (the server) exits first, TimeoutError
    after `timeout_s` (tests/servers.py waits for its servers with it too)."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


class Side:
    """The two servers of one checkout, started and stopped together."""

    def __init__(self, label: str, checkout: Path, folder: Path):
        self.label, self.checkout, self.folder = label, checkout, folder
        self.processes, self.urls = [], {}

    def __enter__(self):
        env = {**os.environ, "PYTHONPATH": str(self.checkout),
               "MLFLOW_TRACKING_URI": f"sqlite:///{self.folder / f'{self.label}.db'}"}
        model_port, explainer_port = free_port(), free_port()
        commands = {
            "model": ([sys.executable, "-m", "reproductions", "serve", WEIGHT, "--port",
                       str(model_port)], f"http://127.0.0.1:{model_port}", "ping"),
            "explainer": ([sys.executable, "-m", "zoo.cli", "explain", "--serve", EXPLAINED,
                           "--port", str(explainer_port)], f"http://127.0.0.1:{explainer_port}",
                          "api/models")}
        for name, (command, url, health) in commands.items():
            log = open(self.folder / f"{self.label}-{name}.log", "w")
            process = subprocess.Popen(command, cwd=self.checkout, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            self.processes.append((process, log))
            wait_for(f"{url}/{health}", 300, process)
            self.urls[name] = url
        return self

    def __exit__(self, *exc):
        import signal

        for process, log in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)  # the server and its workers
                process.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
            log.close()


def _bodies(kind: str, digits: int) -> tuple[str, list[bytes]]:
    """(path, request bodies) of one case: real MNIST test digits, as each server takes them."""
    import zoo.data

    (_, _), (x_test, _) = zoo.data.load_mnist()
    if kind == "model":
        return "/invocations", [json.dumps({"inputs": x_test[i:i + digits].tolist()}).encode()
                                for i in range(0, 2000, digits)][:50]
    from zoo.explain_ui.__main__ import drawings

    return "/api/explain", [json.dumps({"model": EXPLAINED, "input": {"kind": "picture",
                                                                     "value": url}}).encode()
                            for url in drawings(20)]


async def _load(url: str, bodies, clients: int, seconds: float, max_requests: int) -> dict:
    import aiohttp

    latencies, errors = [], 0
    deadline = time.perf_counter() + seconds
    timeout = aiohttp.ClientTimeout(total=30)

    async def client(session, k):
        nonlocal errors
        i = k
        while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
            start = time.perf_counter()
            try:
                async with session.post(url, data=bodies[i % len(bodies)],
                                        headers={"Content-Type": "application/json"}) as answer:
                    await answer.read()
                    ok = answer.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1
            i += clients

    async with aiohttp.ClientSession(timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=clients)) as session:
        for body in bodies[:2]:  # warm: the first answers load nets and build graphs
            async with session.post(url, data=body,
                                    headers={"Content-Type": "application/json"}) as answer:
                await answer.read()
        start = time.perf_counter()
        await asyncio.gather(*(client(session, k) for k in range(clients)))
        wall = time.perf_counter() - start
    ms = sorted(1000 * t for t in latencies)

    def pct(q):
        return ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")
    return {"requests": len(ms), "errors": errors, "seconds": wall,
            "requests_per_s": len(ms) / wall, "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def run(args) -> int:
    from tracking.tags import machine

    here = Path(__file__).resolve().parents[2]
    sides = [("after", here)]
    if args.before:
        before = Path(args.before).resolve()
        if not (before / "reproductions" / "__main__.py").is_file():
            args.verb_parser.error(f"--before {before}: not a checkout of this project "
                                   "(git worktree add <folder> <commit>)")
        sides.insert(0, ("before", before))
    out_dir = out_folder(args, RESULTS)
    bodies = {(kind, digits): _bodies(kind, digits) for _, kind, digits, _ in CASES}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        for round_ in range(1, args.rounds + 1):
            for label, checkout in (sides if round_ % 2 else sides[::-1]):
                with Side(label, checkout, Path(tmp)) as side:
                    for name, kind, digits, clients in CASES:
                        path, payloads = bodies[(kind, digits)]
                        figures = asyncio.run(_load(side.urls[kind] + path, payloads, clients,
                                                    args.seconds, args.max_requests))
                        rows.append({"round": round_, "side": label, "case": name, **figures})
                        print(f"round {round_} {label}: {name}: "
                              f"{figures['requests_per_s']:.0f} requests/s, p50 "
                              f"{figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
                              f"{figures['errors']} errors", flush=True)
    where = machine()
    for row in rows:
        row["machine"] = where
    columns = ["round", "side", "case", "requests", "errors", "seconds", "requests_per_s",
               "p50_ms", "p99_ms", "machine"]
    # the commits before this bench's own results change the tree (they would read "-dirty")
    commits = {label: _commit(checkout) for label, checkout in sides}
    write_csv(out_dir / "serving_load.csv", columns, rows)
    write_text(out_dir / "serving_load.md", _table(rows, args, where, commits))
    print(f"wrote {out_dir / 'serving_load.csv'} and serving_load.md")
    return 0


def _commit(checkout: Path) -> str:
    """The checkout's commit, "-dirty" when its working tree differs from it."""
    def git(*argv):
        return subprocess.run(["git", "-C", str(checkout), *argv], capture_output=True,
                              text=True).stdout.strip()
    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def _table(rows, args, where: str, labels) -> str:
    command = ("python -m reproductions bench-serving"
               + (" --before <checkout>" if "before" in labels else "")
               + f" --seconds {args.seconds:g} --rounds {args.rounds}")
    lines = [
        f"# The servers under load (generated by `{command}`)",
        "",
        f"Machine: {where}. Loopback; the clients (one asyncio process, {CLIENTS} kept-alive "
        f"connections where the case says 8) share the cores with the servers. Each case runs "
        f"{args.seconds:g} s a round, {args.rounds} rounds, the sides taking turns (the order "
        f"reversed every other round). Model server: {WEIGHT}, real MNIST test digits as JSON "
        f"integers; explainer: {EXPLAINED}, MNIST test digits drawn as the page draws them. "
        f"aiohttp {version('aiohttp')}, uvicorn {version('uvicorn')}, gunicorn "
        f"{version('gunicorn')}, mlflow {version('mlflow')}. "
        + (f"before: commit {labels['before']} (the checkout given by --before). "
           if "before" in labels else "")
        + f"after: commit {labels['after']}. Every request: serving_load.csv.",
        "",
        "| case | side | requests/s (median over rounds) | p50 ms | p99 ms | errors | bar |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, *_ in CASES:
        for label in labels:
            mine = [r for r in rows if r["case"] == name and r["side"] == label]
            lines.append(
                f"| {name} | {label} | {statistics.median(r['requests_per_s'] for r in mine):.0f} "
                f"| {statistics.median(r['p50_ms'] for r in mine):.1f} "
                f"| {statistics.median(r['p99_ms'] for r in mine):.1f} "
                f"| {sum(r['errors'] for r in mine)} | {TARGETS[name]} |")
    return "\n".join(lines) + "\n"
