"""Real servers for the tests, started on free local ports: MLflow's tracking server and
PostgreSQL (Debian's package; .ci/run installs it)."""

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile

# the suite's own: its serving bench starts and waits for servers the same way
from reproductions.bench.serving import free_port, wait_for  # noqa: F401 (re-exported)


@contextlib.contextmanager
def served(command: list[str], port: int, health: str, log_path, cwd=None):
    """Run a server `command` listening on `port`, its output in `log_path`, until
    http://127.0.0.1:PORT/HEALTH answers; yields http://127.0.0.1:PORT, stops it after."""
    log = open(log_path, "w")
    server = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/{health}", 120, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@contextlib.contextmanager
def mlflow_server(backend_uri: str, artifacts: str):
    """`mlflow server` on a free port; yields its http:// URI."""
    port = free_port()
    with served([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri,
                 "--artifacts-destination", artifacts, "--host", "127.0.0.1", "--port",
                 str(port), "--workers", "1"], port, "health",
                os.path.join(artifacts, "..", f"mlflow-server-{port}.log")) as url:
        yield url


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        raise RuntimeError("PostgreSQL's server is not installed: apt-get install postgresql "
                           "(.ci/run does this)")
    return found[-1]


@contextlib.contextmanager
def postgresql():
    """A throw-away PostgreSQL cluster on a free port; yields a SQLAlchemy URI to database
    `mlflow`. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user, in
    a folder of its own under /tmp (pytest's folders are closed to other users)."""
    port = free_port()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = tempfile.mkdtemp(prefix="zoo-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = os.path.join(folder, "data")

    def run(*cmd):
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr or done.stdout}")

    run(_pg_bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust")
    run(_pg_bin("pg_ctl"), "-D", data, "-l", os.path.join(folder, "server.log"), "-w",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    try:
        run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlflow")
        yield f"postgresql://postgres@127.0.0.1:{port}/mlflow"
    finally:
        run(_pg_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
