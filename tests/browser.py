"""A real browser for the tests: Debian's chromium and chromium-driver (.ci/run installs them)
driven by Selenium, headless and offline; and the zoo's live explainer as a real server process.
Shared by every browser test (the explainer's, the MLflow UI's)."""

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tests.servers import free_port, served

ROOT = Path(__file__).resolve().parents[1]
# The machine may have no internet: without these, chromium waits on Google's services
# (component updates, sync, field trials) and the first page load can hang
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-default-apps",
                  "--disable-extensions")


def _which(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}")
                                       else None)
        if found:
            return found
    raise RuntimeError(f"{names[0]} is not installed: apt-get install chromium chromium-driver "
                       "(.ci/run does this)")


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 1000):
    """A headless Chromium under Selenium, with a fresh profile; yields the WebDriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="zoo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = _which("chromium", "chromium-browser")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    # the driver by path: Selenium Manager would otherwise try to download one
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=_which("chromedriver")))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def explain_server(log_dir, model: str | None = None):
    """`zoo explain --serve` (this checkout's code) on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "zoo.cli", "explain", "--serve", "--port", str(port)]
    with served(command + ([model] if model else []), port, "api/models",
                Path(log_dir) / f"explain-ui-{port}.log", cwd=ROOT) as url:
        yield url
