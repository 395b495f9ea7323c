"""Browser tests: a real uvicorn on 127.0.0.1 over a copy of the bundled store, driven by Debian's Chromium.

Every page opened through the ``page`` fixture is watched: a console error, an uncaught exception or a request to
any host but 127.0.0.1 fails the test (outside requests are blocked, then reported). Screenshots go to
``test-artifacts/web/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from ioir_kg.config import PROJECT_ROOT
from tests.conftest import SEEDS_DIR, require_system

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: The contributor allowed to submit through the assertion form in these tests.
CONTRIBUTOR, TOKEN = "tester", "web-tests-token-0123456789"


@dataclass
class Server:
    """The app under test: its URL and process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM, then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (``apt-get install chromium``); skipped locally, failed under ``CI=true`` when missing."""
    found = "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None
    return found or require_system("chromium", "the browser tests of the web interface")


@pytest.fixture(scope="session")
def server(bundled_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn on a free 127.0.0.1 port over a copy of the bundled store (writes stay in the copy)."""
    folder = tmp_path_factory.mktemp("web")
    shutil.copytree(bundled_store_path, folder / "store")
    manifest = bundled_store_path.with_name(bundled_store_path.name + ".loaded.json")
    if manifest.exists():
        shutil.copy(manifest, folder / "store.loaded.json")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env.update(
        {
            "IOIR_STORE_PATH": str(folder / "store"),
            "IOIR_QUERY_WORKERS": "2",
            "IOIR_CONTRIBUTOR_TOKENS": f"{CONTRIBUTOR}:{TOKEN}",
            "IOIR_SEEDS_DIR": str(SEEDS_DIR),
            "IOIR_CACHE_DIR": str(folder / "cache"),
        }
    )
    log = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "ioir_kg.api.asgi:make_app",
        "--fd",
        str(listener.fileno()),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--log-level", "warning"],
            pass_fds=[listener.fileno()],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    listener.close()
    running = Server(url, process, log)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    """One headless Chromium for the session (Debian's: ``playwright install`` is never needed)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watch:
    """What a page did that it should not: console errors, uncaught exceptions, requests leaving 127.0.0.1."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def expect_error(self, text: str) -> None:
        """Accept the console errors containing ``text`` (e.g. the browser's note of an expected 422)."""
        self.errors = [e for e in self.errors if text not in e]

    def check(self) -> None:
        """Fail with everything seen."""
        assert not self.outside, f"requests left 127.0.0.1: {self.outside}"
        assert not self.errors, f"console errors: {self.errors}"


@dataclass
class Browsing:
    """A page of a fresh browser context, watched, and the server's URL."""

    page: Page
    watch: Watch
    base: str

    def open(self, path: str) -> Page:
        """Go to ``path`` on the server and wait until the network is idle."""
        self.page.goto(self.base + path, wait_until="networkidle")
        return self.page

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot under ``test-artifacts/web/``."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _watched(browser: Browser, server: Server, viewport: dict[str, int]) -> tuple[BrowserContext, Page, Watch]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    watch = Watch()

    def route(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
    page.set_default_timeout(20_000)
    return context, page, watch


@pytest.fixture
def make_page(browser: Browser, server: Server) -> Iterator[Callable[..., Browsing]]:
    """Open watched pages at a viewport (laptop by default); each is checked when the test ends."""
    opened: list[tuple[BrowserContext, Watch]] = []

    def make(viewport: dict[str, int] = LAPTOP) -> Browsing:
        context, page, watch = _watched(browser, server, viewport)
        opened.append((context, watch))
        return Browsing(page, watch, server.url)

    yield make
    for context, watch in opened:
        context.close()
        watch.check()


@pytest.fixture
def web(make_page: Callable[..., Browsing]) -> Browsing:
    """A watched page at laptop size."""
    return make_page()
