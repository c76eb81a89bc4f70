"""Shared fixtures: real training logs, free ports, a real TensorBoard, headless Chromium."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import modellens
from harness import ARTIFACTS, ROOT, TensorBoardProcess, launch_chromium, load_demo, open_modellens, plugin_frame  # noqa: F401

XSS_NAME = '<img src=x onerror="window.__modellens_xss=1">'


@pytest.fixture(scope="session")
def demo_generator():
    return load_demo("generate")


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


@pytest.fixture(autouse=True)
def fresh_version_warnings(monkeypatch):
    """Newer versions warn once per process; each test starts with none warned yet."""
    from modellens import _metadata

    monkeypatch.setattr(_metadata, "_warned_versions", set())
