"""Headless Chromium driven over its DevTools protocol: no driver binary.

`chromium()` finds a browser already on the machine ($CHROMIUM, else chromium,
chromium-browser or google-chrome on PATH) or skips the test saying how to get one: the
tests install nothing (.ci/run installs Debian's package, visibly). `Page` is one tab:
navigate, evaluate JavaScript, wait for a condition, and the URL of every request the page
made, with those the browser blocked."""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no update checks, no safe-browsing lists
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",  # the port it picks is written to DevToolsActivePort
)
NAMES = ("chromium", "chromium-browser", "google-chrome")  # Debian's, Ubuntu's, Google's
HOW = "apt-get install chromium (Debian), or set CHROMIUM to a Chromium or Chrome binary"


def chromium() -> str:
    """The browser's path: $CHROMIUM if set, else the first of NAMES on PATH; else a skip."""
    given = os.environ.get("CHROMIUM")
    if given:
        found = shutil.which(given)
        if found is None:
            pytest.skip(f"CHROMIUM={given} is not an executable; {HOW}")
        return found
    for name in NAMES:
        if found := shutil.which(name):
            return found
    pytest.skip(f"no Chromium on this machine ({', '.join(NAMES)} not on PATH): {HOW}")


class Page:
    """One tab over a DevTools WebSocket; commands block until their answer arrives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws, self.ids = ws, count(1)
        self.requested: dict[str, str] = {}  # request id -> URL
        self.blocked: dict[str, str] = {}  # request id -> reason (e.g. "csp")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        sent = next(self.ids)
        self.ws.send(json.dumps({"id": sent, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            self._note(message.get("method"), message.get("params", {}))
            if message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def _note(self, event: str | None, params: dict[str, Any]) -> None:
        if event == "Network.requestWillBeSent":
            self.requested[params["requestId"]] = params["request"]["url"]
        elif event == "Network.loadingFailed" and params.get("blockedReason"):
            self.blocked[params["requestId"]] = params["blockedReason"]

    def loaded(self) -> set[str]:
        """The http(s) URLs the page requested and the browser did not block."""
        return {
            url
            for request, url in self.requested.items()
            if url.startswith("http") and request not in self.blocked
        }

    def evaluate(self, script: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values only)."""
        result = self.call("Runtime.evaluate", expression=script, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{script}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, script: str, timeout_s: float = 15) -> Any:
        """Poll an expression until it is truthy; its value, or AssertionError on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.evaluate(script)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"still falsy after {timeout_s} s: {script}")

    def open(self, url: str) -> None:
        """Load a page; what the previous one requested is forgotten."""
        self.requested.clear()
        self.blocked.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")


@contextmanager
def page(user_data_dir: Path) -> Iterator[Page]:
    """A fresh headless browser with one page; the process is ended on exit."""
    command = [chromium(), *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"]
    browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = _devtools_port(user_data_dir / "DevToolsActivePort", browser)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list").json()
        [tab] = [t for t in targets if t["type"] == "page"]  # the about:blank it opened
        with connect(tab["webSocketDebuggerUrl"], max_size=None) as ws:
            tab_page = Page(ws)
            tab_page.call("Network.enable")
            tab_page.call("Page.enable")
            yield tab_page
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()


def _devtools_port(path: Path, browser: subprocess.Popen, timeout_s: float = 20) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            raise RuntimeError(f"chromium exited with {browser.returncode}")
        if path.exists() and path.read_text().strip():
            return int(path.read_text().split()[0])
        time.sleep(0.05)
    raise RuntimeError("chromium wrote no DevToolsActivePort")
