"""The test harness shared by tests, benchmarks and docs: the plugin over TensorBoard's real
data providers (``Served``), a real ``tensorboard`` process, headless Debian Chromium, and the
ModelLens tab opened in it."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tensorboard.backend import application
from tensorboard.backend.event_processing import data_ingester, plugin_event_multiplexer
from tensorboard.backend.event_processing import data_provider as multiplexer_provider
from tensorboard.data import server_ingester
from tensorboard.plugins import base_plugin
from tensorboard.util import grpc_util
from werkzeug.test import Client

from modellens.tb_plugin.plugin import ModelLensPlugin

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PREFIX = "/data/plugin/modellens"
PROVIDERS = ["python", "rust"]


class Served:
    """A plugin mounted in TensorBoard's WSGI app over one of the two real data providers."""

    def __init__(self, logdir: Path, kind: str) -> None:
        self._ingester = None
        if kind == "python":
            multiplexer = plugin_event_multiplexer.EventMultiplexer(
                tensor_size_guidance={**data_ingester.DEFAULT_TENSOR_SIZE_GUIDANCE, "modellens": 0}
            )
            multiplexer.AddRunsFromDirectory(str(logdir))
            multiplexer.Reload()
            provider = multiplexer_provider.MultiplexerDataProvider(multiplexer, str(logdir))
        else:
            self._ingester = server_ingester.SubprocessServerDataIngester(
                server_ingester.get_server_binary(),
                str(logdir),
                reload_interval=1,
                channel_creds_type=grpc_util.ChannelCredsType.LOCAL,
                samples_per_plugin={"modellens": 0},
            )
            self._ingester.start()
            provider = self._ingester.data_provider
        context = base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
        app = application.TensorBoardWSGI([ModelLensPlugin(context)], data_provider=provider)
        self.client = Client(app)

    def get(self, route: str, **params):
        return self.client.get(PREFIX + route, query_string=params)

    def json(self, route: str, **params):
        response = self.get(route, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def wait_for(self, predicate, timeout: float = 30.0):
        """The Rust server loads in the background: poll until the data is in."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if predicate():
                    return
            except AssertionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("data did not arrive")
            time.sleep(0.2)

    def close(self) -> None:
        if self._ingester is not None:
            self._ingester._data_provider = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise RuntimeError("Debian's chromium is not installed; `make test` installs it")
    return path


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PLUGIN_IFRAME = "iframe[src*='plugin_entry']"
HEATMAP = "canvas[aria-label='confusion matrix heatmap']"


def launch_chromium(playwright):
    """Debian's Chromium, never a downloaded browser."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def open_modellens(browser, url: str, *, height: int = 1000, **context_options):
    """A new browser context on TensorBoard at ``url`` with the ModelLens tab open.

    Returns the context, its page, and a locator of the plugin's iframe.
    """
    context = browser.new_context(viewport={"width": 1400, "height": height}, **context_options)
    page = context.new_page()
    page.goto(url + "/")
    page.get_by_text("ModelLens", exact=True).first.click()
    return context, page, page.frame_locator(PLUGIN_IFRAME)


def plugin_frame(page):
    """The plugin iframe's Frame, for evaluating script inside it."""
    return next(f for f in page.frames if "plugin_entry" in f.url)


class TensorBoardProcess:
    def __init__(self, logdir: Path, load_fast: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ARTIFACTS / f"tensorboard-{self.port}.log"
        ARTIFACTS.mkdir(exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "tensorboard"),
                "--logdir",
                str(logdir),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                f"--load_fast={'true' if load_fast else 'false'}",
                "--reload_interval",
                "1",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60.0, route: str = "confusion/tags", runs: int = 1) -> None:
        """Waits until ModelLens's ``route`` (a ``<kind>/tags`` route, such as ``"distributions/tags"``)
        answers 200 with at least ``runs`` runs, or raises with TensorBoard's log."""
        url = f"{self.url}{PREFIX}/{route.lstrip('/')}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tensorboard exited: {self.log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200 and len(json.loads(response.read()).get("runs") or {}) >= runs:
                        return
            except (OSError, ValueError):  # not listening yet, an error status, or not JSON yet
                pass
            time.sleep(0.3)
        raise TimeoutError(f"tensorboard not ready ({route}): {self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def load_demo(name: str):
    """A module of ``demo_logs/`` (``generate``, ``distributions_demo``): the demos are the fixtures."""
    spec = importlib.util.spec_from_file_location(f"modellens_demo_{name}", ROOT / "demo_logs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def dashboard(browser, url: str, test_name: str, **options):
    """The ModelLens tab in a new browser context; on leaving, a screenshot named after the test
    goes to test-artifacts/ and any script error on the page fails the test."""
    context, page, frame = open_modellens(browser, url, **options)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page, frame
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.=-]+', '_', test_name)}.png"))
    finally:
        context.close()
    assert not errors, errors


def modellens_values(logdir) -> list[tuple[str, int, object]]:
    """``(tag, step, Summary.Value)`` of every ModelLens record in the event files of ``logdir``
    (and below), file by file in name order: what a writer put on disk, read without a server."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    from modellens._metadata import PLUGIN_NAME

    found = []
    for root, _, names in sorted(os.walk(logdir)):
        for name in sorted(n for n in names if "tfevents" in n):
            for event in EventFileLoader(os.path.join(root, name)).Load():
                for value in event.summary.value:
                    if value.metadata.plugin_data.plugin_name == PLUGIN_NAME:
                        found.append((value.tag, event.step, value))
    return found
