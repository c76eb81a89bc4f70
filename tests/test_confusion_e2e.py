"""End to end: a real `tensorboard` on a free loopback port, driven by headless Chromium.

Runs once with the Rust data server (--load_fast=true) and once with the Python loader.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import harness
from conftest import EPOCHS, XSS_NAME
from harness import plugin_frame

HEATMAP = "canvas[aria-label='confusion matrix heatmap']"

LAST = EPOCHS - 1


@pytest.fixture(params=["light"])
def color_scheme(request):
    return request.param


@pytest.fixture
def dashboard(browser, tensorboard_server, request, color_scheme):
    with harness.dashboard(browser, tensorboard_server.url, request.node.name, color_scheme=color_scheme) as (
        page,
        frame,
    ):
        frame.locator(HEATMAP).wait_for()
        yield page, frame


def show(frame, *, tag: str, run: str) -> None:
    frame.get_by_label("tag").select_option(tag)
    frame.get_by_label("run", exact=True).select_option(run)
    frame.locator(f"{HEATMAP}[data-tag='{tag}'][data-run='{run}']").wait_for()


def go_to_step(frame, key: str, step: int) -> None:
    slider = frame.get_by_label("step", exact=True)
    slider.focus()
    slider.press(key)
    frame.locator(f"{HEATMAP}[data-step='{step}']").wait_for()


def go_to_last_step(frame) -> None:
    go_to_step(frame, "End", LAST)
    frame.get_by_text(f"step {LAST} ({EPOCHS} of {EPOCHS})").wait_for()


def hover_cell(frame, row: int, column: int) -> str:
    canvas = frame.locator(HEATMAP)
    left, top, cell = (float(v) for v in canvas.evaluate("c => [c.dataset.left, c.dataset.top, c.dataset.cell]"))
    canvas.hover(position={"x": left + (column + 0.5) * cell, "y": top + (row + 0.5) * cell})
    tooltip = frame.get_by_role("tooltip")
    tooltip.wait_for()
    return tooltip.inner_text()


def largest_confusion(expected: np.ndarray) -> tuple[int, int]:
    off_diagonal = expected - np.diag(np.diag(expected))
    return tuple(int(v) for v in np.unravel_index(np.argmax(off_diagonal), expected.shape))


def test_hover_normalize_and_last_step(dashboard, training):
    page, frame = dashboard
    _, predictions = training
    show(frame, tag="val/confusion", run="lr_high")
    go_to_last_step(frame)
    truth, predicted = predictions[("lr_high", "val", LAST)]
    expected = sk_confusion_matrix(truth, predicted, labels=range(10))
    row, column = largest_confusion(expected)
    text = hover_cell(frame, row, column)
    assert f"count: {expected[row, column]}" in text
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    assert f"true: {names[row]}" in text and f"predicted: {names[column]}" in text

    frame.get_by_label("normalize").select_option("true")
    text = hover_cell(frame, row, column)
    share = 100 * expected[row, column] / expected[row].sum()
    assert f"shown (by true class): {share:.1f}%" in text
    frame.get_by_label("normalize").select_option("pred")
    text = hover_cell(frame, row, column)
    share = 100 * expected[row, column] / expected[:, column].sum()
    assert f"shown (by predicted class): {share:.1f}%" in text

    diagonal = hover_cell(frame, 3, 3)
    assert f"count: {expected[3, 3]}" in diagonal


def test_play_advances_the_step(dashboard):
    _, frame = dashboard
    show(frame, tag="train/confusion", run="lr_high")
    go_to_step(frame, "Home", 0)
    frame.get_by_text(f"step 0 (1 of {EPOCHS})").wait_for()
    frame.get_by_role("button", name="play").click()
    frame.get_by_text(re.compile(r"step [2-9]\d* \(")).wait_for(timeout=10_000)
    frame.get_by_role("button", name="play").click()  # pause


def test_hostile_class_names_stay_text(dashboard, tensorboard_server):
    page, frame = dashboard
    show(frame, tag="val/confusion", run="lr_low")
    go_to_last_step(frame)
    frame.get_by_role("cell", name=XSS_NAME).wait_for()  # the per-class table shows it literally
    text = hover_cell(frame, 0, 0)
    assert f"true: {XSS_NAME}" in text
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__modellens_xss") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0


def test_delta_between_two_runs(dashboard, training):
    _, frame = dashboard
    _, predictions = training
    show(frame, tag="val/confusion", run="lr_high")
    go_to_last_step(frame)
    frame.get_by_label("delta").select_option("run")
    frame.get_by_label("reference run").select_option("lr_low")
    frame.get_by_text("delta against run lr_low").wait_for()
    high = sk_confusion_matrix(*predictions[("lr_high", "val", LAST)], labels=range(10))
    low = sk_confusion_matrix(*predictions[("lr_low", "val", LAST)], labels=range(10))
    # class 0 is named differently in lr_low, so only classes 1..9 are compared
    text = hover_cell(frame, 4, 4)
    difference = int(high[4, 4] - low[4, 4])
    assert f"delta: {'+' if difference >= 0 else ''}{difference} vs run lr_low" in text


def test_a_1000_class_matrix_fits_zooms_and_stays_hoverable(dashboard, training):
    _, frame = dashboard
    _, predictions = training
    show(frame, tag="wide/confusion", run="wide")
    expected = sk_confusion_matrix(*predictions[("wide", "wide", 0)], labels=range(1000))
    canvas = frame.locator(HEATMAP)
    fit = float(canvas.evaluate("c => c.dataset.cell"))
    assert fit * 1000 <= 800  # the whole matrix is on screen
    text = hover_cell(frame, 500, 500)
    assert "true: 500" in text and f"count: {expected[500, 500]}" in text
    left, top = (float(v) for v in canvas.evaluate("c => [c.dataset.left, c.dataset.top]"))
    canvas.hover(position={"x": left + 300 * fit, "y": top + 200 * fit})
    for _ in range(8):
        canvas.page.mouse.wheel(0, -400)  # zoom in about the pointer
    zoomed = float(canvas.evaluate("c => c.dataset.cell"))
    assert zoomed > 10 * fit
    text = hover_cell(frame, 205, 301)
    assert "true: 205" in text and "predicted: 301" in text and f"count: {expected[205, 301]}" in text


@pytest.mark.parametrize("color_scheme", ["dark"])
def test_follows_tensorboards_dark_mode(dashboard, color_scheme):
    page, frame = dashboard
    assert page.evaluate("document.body.classList.contains('dark-mode')")
    frame_of_plugin = plugin_frame(page)
    frame_of_plugin.wait_for_function("document.body.classList.contains('ml-dark')")
    background = frame_of_plugin.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(48, 48, 48)"


def test_export_and_most_confused_pairs(dashboard, training):
    page, frame = dashboard
    _, predictions = training
    show(frame, tag="val/confusion", run="lr_low")
    go_to_last_step(frame)
    expected = sk_confusion_matrix(*predictions[("lr_low", "val", LAST)], labels=range(10))
    row, column = largest_confusion(expected)
    first_pair = frame.locator(".ml-pairs button").first
    assert f": {expected[row, column]} (" in first_pair.inner_text()
    first_pair.click()
    assert "ml-active" in (first_pair.get_attribute("class") or "")

    with page.expect_download() as download_info:
        frame.get_by_role("button", name="PNG").click()
    png = download_info.value
    assert png.suggested_filename.endswith(".png")
    assert open(png.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    with page.expect_download() as download_info:
        frame.get_by_role("button", name="SVG").click()
    svg = open(download_info.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and svg.count("<rect") == 100
    assert "&lt;img src=x" in svg and "<img" not in svg  # the hostile class name stays text
