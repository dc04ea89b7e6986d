"""Downloads through tensorflow-datasets that fail in seconds, saying what to do, and leave
nothing behind.

Offline, tfds retries each file for minutes (40 warnings and 215 s for MNIST) and leaves
half-made folders in ~/tensorflow_datasets. So before tfds is called, the download host is
tried once (one TCP connection, 5 s at most); when it cannot be reached the error says how to
work offline. Whatever tfds creates under its data folder during a load that fails is removed
again: only paths that did not exist before, three levels deep (dataset/version/files,
downloads/extracted/...), so a user's other data sets are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

from zoo.data.idx import DataError

CONNECT_TIMEOUT_S = 5.0
_PROXIES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def tfds_data_dir() -> Path:
    """Where tfds keeps its data: TFDS_DATA_DIR, else ~/tensorflow_datasets (tfds' default)."""
    return Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets")


def unreachable(url: str) -> str | None:
    """Why `url`'s host cannot be reached, or None. Behind a proxy the proxy decides: None."""
    if any(os.environ.get(p) for p in _PROXIES):
        return None
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        return f"{parsed.hostname}:{port} cannot be reached ({err.strerror or err})"
    return None


def _paths(root: Path, depth: int = 3) -> set[Path]:
    found = set()
    level = [root]
    for _ in range(depth):
        nxt = []
        for folder in level:
            try:
                children = list(folder.iterdir())
            except OSError:
                continue
            found.update(children)
            nxt += [c for c in children if c.is_dir() and not c.is_symlink()]
        level = nxt
    return found


@contextlib.contextmanager
def nothing_left_on_failure(root: Path):
    """Removes what appeared under `root` (and `root` itself, if it is new) when the body fails."""
    existed = root.exists()
    before = _paths(root) if existed else set()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            # shallowest first: removing a new folder removes what is new inside it
            for path in sorted(_paths(root) - before, key=lambda p: len(p.parts)):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        path.unlink()
        raise


def check_online(dataset: str, url: str, offline_help: str) -> None:
    """DataError, at once, if the download host of `dataset` cannot be reached."""
    problem = unreachable(url)
    if problem:
        raise DataError(f"no local copy of {dataset} and no internet to download it: {problem}. "
                        f"{offline_help}; or connect this machine to the internet")
