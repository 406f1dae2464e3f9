"""A page opened in a real headless Chromium, driven over the DevTools protocol on a pipe.

Chromium's `--remote-debugging-pipe` reads commands on fd 3 and writes replies and events on
fd 4, each a JSON object ended by a NUL byte: no port is opened and no client library needed.
While the page loads, every console error, uncaught exception, log error and failed request is
kept, so a handout that misses a resource or runs into an error is refused.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from vxlab.base.errors import ConfigError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
LOAD_TIMEOUT_S = 30.0
# After the load event: late console messages and requests still arrive.
SETTLE_S = 0.5
# Screen width the screenshot is taken at (CSS pixels); A4 at 96 dpi is 794 wide.
SCREEN_WIDTH = 1100


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise ConfigError(
        "--no-pdf",
        f"no headless browser found ({', '.join(BROWSERS)})",
        "install Debian's chromium (scripts/setup does) or pass --no-pdf",
    )


class Page:
    """One tab showing one file; `problems` lists what went wrong while it loaded."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out, self._in = to_browser, from_browser
        self._buffer = b""
        self._next_id = 0
        self._session = ""
        self.problems: list[str] = []

    def _send(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self._session:
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _read(self, deadline: float) -> dict[str, Any] | None:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                return None
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        self._note(message)
        return message

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.problems.append(f"console {params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            thrown = details.get("exception", {}).get("description", "")
            self.problems.append(f"exception: {details.get('text', '')} {thrown}".strip())
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            entry = params["entry"]
            self.problems.append(f"log {entry['level']}: {entry.get('text', '')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed":
            self.problems.append(f"request failed: {params.get('errorText', '')} ({params.get('requestId')})")
        elif method == "Network.responseReceived" and params["response"].get("status", 200) >= 400:
            self.problems.append(f"HTTP {params['response']['status']}: {params['response']['url']}")

    def call(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> dict[str, Any]:
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while (message := self._read(deadline)) is not None:
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error'].get('message')}")
                result: dict[str, Any] = message.get("result", {})
                return result
        raise RuntimeError(f"{method}: no reply within {LOAD_TIMEOUT_S} s")

    def _wait_event(self, method: str) -> None:
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while (message := self._read(deadline)) is not None:
            if message.get("method") == method:
                return
        raise RuntimeError(f"no {method} within {LOAD_TIMEOUT_S} s")

    def _drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self._read(deadline) is not None:
            pass

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": SCREEN_WIDTH, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )
        self.call("Page.navigate", {"url": url})
        self._wait_event("Page.loadEventFired")
        self._drain(SETTLE_S)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise RuntimeError("the page did not load cleanly: " + "; ".join(self.problems))

    def screenshot(self) -> bytes:
        """The whole page, not only the first screen."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.call("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
        return base64.b64decode(data["data"])

    def pdf(self) -> bytes:
        data = self.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
        return base64.b64decode(data["data"])

    def evaluate(self, expression: str) -> Any:
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return reply["result"].get("value")


def _above_four(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


@contextmanager
def open_page(path: Path) -> Iterator[Page]:
    """`path` loaded in a fresh headless Chromium with its own throwaway profile."""
    browser = find_browser()
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    # The child's ends are copied onto fds 3 and 4: they must not be 3 or 4 themselves.
    to_browser_r, from_browser_w = (_above_four(fd) for fd in (to_browser_r, from_browser_w))
    with tempfile.TemporaryDirectory(prefix="vxlab-browser-") as profile:
        # Chromium's pipe transport reads fd 3 and writes fd 4. Every other descriptor of ours is
        # close-on-exec (PEP 446), so nothing else leaks into the browser.
        def plumb() -> None:
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        proc = subprocess.Popen(
            [
                browser,
                "--headless",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                # Root has no user namespace sandbox here; the page is our own file.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=plumb,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        page = Page(to_browser_w, from_browser_r)
        try:
            page.open(path.resolve().as_uri())
            yield page
        finally:
            with suppress(RuntimeError, OSError):
                page.call("Browser.close", session=False)
            os.close(to_browser_w)
            os.close(from_browser_r)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
