"""The studio served by ``facecraft app`` on a free local port, and Debian's chromium driven by Playwright.

Screenshots and downloaded results go to ``outputs/test-artifacts/browser/`` (kept after the run, for a look).
Set ``FACECRAFT_STUDIO_URL`` to test a studio that is already running instead of starting one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="playwright is in the dev extra: pip install -e '.[dev]'")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "outputs" / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 240.0


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at Debian's chromium (no browser download)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: `make setup` installs Debian's chromium (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1800}, "accept_downloads": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def studio_url(artifacts):
    """URL of a studio started with ``facecraft app --host 127.0.0.1 --port FREE`` for this session."""
    given = os.environ.get("FACECRAFT_STUDIO_URL")
    if given:
        yield given.rstrip("/") + "/"
        return
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log_path = artifacts / "studio-server.log"
    with open(log_path, "w") as log:
        cmd = [sys.executable, "-m", "facecraft.apps.cli", "app", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _answers(url):
                if proc.poll() is not None:
                    pytest.fail(f"facecraft app exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"facecraft app did not answer within {START_TIMEOUT_S:.0f} s; see {log_path}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
