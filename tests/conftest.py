"""Shared fixtures: real training logs, free ports, a real TensorBoard, headless Chromium."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import modellens

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
XSS_NAME = '<img src=x onerror="window.__modellens_xss=1">'


def load_demo_generator():
    spec = importlib.util.spec_from_file_location("modellens_demo_generate", ROOT / "demo_logs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def demo_generator():
    return load_demo_generator()


EPOCHS = 60
WIDE_CLASSES = 1000


@pytest.fixture(scope="session")
def training(tmp_path_factory, demo_generator):
    """Two real training runs of 60 epochs (the demo's code), one with hostile class names.

    Returns the logdir and ``{(run, split, epoch): (y_true, y_pred)}`` of what was logged.
    """
    logdir = tmp_path_factory.mktemp("training_logs")
    predictions = {}
    names = list(demo_generator.DIGIT_NAMES)
    for run, rate, class_names in (("lr_high", 0.003, names), ("lr_low", 0.0003, [XSS_NAME] + names[1:])):
        demo_generator.train_run(
            str(logdir / run),
            learning_rate=rate,
            epochs=EPOCHS,
            class_names=class_names,
            progress=False,
            on_predictions=lambda split, epoch, truth, scores, run=run: predictions.__setitem__(
                (run, split, epoch), (truth.copy(), scores.argmax(axis=1))
            ),
        )
    # one wide step: 1000 classes, for the large-matrix view
    rng = np.random.default_rng(0)
    truth = rng.integers(0, WIDE_CLASSES, 100_000)
    predicted = np.where(rng.random(truth.size) < 0.3, rng.integers(0, WIDE_CLASSES, truth.size), truth)
    with modellens.Writer(logdir / "wide") as writer:
        writer.confusion_matrix("wide/confusion", truth, predicted, labels=np.arange(WIDE_CLASSES), step=0)
    predictions[("wide", "wide", 0)] = (truth, predicted)
    return logdir, predictions


@pytest.fixture(scope="session")
def training_logdir(training) -> Path:
    return training[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail("Debian's chromium is not installed; `make test` installs it")
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

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tensorboard exited: {self.log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{self.url}/data/plugin/modellens/confusion/tags", timeout=2) as r:
                    if b"confusion" in r.read():
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"tensorboard not ready: {self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def tensorboard_server(request, training_logdir):
    server = TensorBoardProcess(training_logdir, load_fast=request.param)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = launch_chromium(playwright)
        yield instance
        instance.close()
