"""End to end for the Training health view: a real `tensorboard` on logs written by
`Writer.distributions`, driven by headless Chromium (both data providers).

The logs are small and deterministic (numpy, no training): a healthy run whose tensors nest in
module groups (one with a hostile name), and a run whose gradients turn NaN from a known step.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from playwright.sync_api import expect

import modellens
from harness import TensorBoardProcess, dashboard, open_modellens, plugin_frame

HEATMAP = "canvas[aria-label='training health heatmap']"
XSS_NAME = '<img src=x onerror="window.__modellens_xss=1">'
NAMES = [
    "embed.weight",
    "layer1.0.conv1.weight",
    "layer1.0.conv2.weight",
    "layer1.1.conv1.weight",
    "layer1.1.conv2.weight",
    "fc.weight",
    XSS_NAME,
]
STEPS = 20
EVERY = 5
NAN_FROM = 60  # the diverging run's gradients hold NaN from this step on


def _tensors(rng: np.random.Generator, scale: float) -> dict[str, np.ndarray]:
    return {name: (rng.standard_normal((8, 8)) * scale * (k + 1)).astype(np.float32) for k, name in enumerate(NAMES)}


@pytest.fixture(scope="session")
def health_logs(tmp_path_factory):
    """Returns the logdir and ``{(run, tag, name, step): array}`` of every tensor logged."""
    logdir = tmp_path_factory.mktemp("health_logs")
    logged: dict[tuple[str, str, str, int], np.ndarray] = {}
    rng = np.random.default_rng(0)
    for run in ("healthy", "diverging"):
        with modellens.Writer(logdir / run) as writer:
            for i in range(STEPS):
                step = i * EVERY
                weights = _tensors(rng, 0.1)
                gradients = _tensors(rng, 0.01)
                if run == "diverging" and step >= NAN_FROM:
                    gradients["layer1.0.conv1.weight"][0, 0] = np.nan
                for tag, tensors in (("weights", weights), ("gradients", gradients)):
                    writer.distributions(tag, tensors, step=step)
                    for name, array in tensors.items():
                        logged[(run, tag, name, step)] = array
    from torch.utils.tensorboard import SummaryWriter  # the old-logs path: plain add_histogram

    old = SummaryWriter(str(logdir / "add_histogram"))
    for i in range(3):
        for name in ("fc.weight", "fc.weight.grad"):
            array = (rng.standard_normal((16, 8)) * 0.1).astype(np.float32)
            old.add_histogram(name, array, i * EVERY)
            logged[("add_histogram", "TensorBoard histograms", name, i * EVERY)] = array
    old.close()
    return logdir, logged


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def health_server(request, health_logs):
    server = TensorBoardProcess(health_logs[0], load_fast=request.param)
    try:
        server.wait_ready(route="distributions/tags", runs=3)
        yield server
    finally:
        server.stop()


@pytest.fixture
def health(browser, health_server, request):
    with dashboard(browser, health_server.url, request.node.name, height=1400) as (page, frame):
        frame.get_by_role("button", name="Training health").click()
        frame.locator(HEATMAP).wait_for()
        yield page, frame


def show(frame, *, run: str, tag: str) -> None:
    frame.get_by_label("run", exact=True).select_option(run)
    frame.get_by_label("tag", exact=True).select_option(tag)
    frame.locator(f"{HEATMAP}[data-run='{run}'][data-tag='{tag}']").wait_for()


def geometry(frame) -> dict:
    return frame.locator(HEATMAP).evaluate(
        "c => ({left: +c.dataset.left, top: +c.dataset.top, w: +c.dataset.cellw, h: +c.dataset.cellh,"
        " rows: JSON.parse(c.dataset.rows)})"
    )


def wait_for_rows(frame, rows: list[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while geometry(frame)["rows"] != rows:
        assert time.monotonic() < deadline, geometry(frame)["rows"]
        time.sleep(0.1)


def hover_cell(frame, row: int, column: int) -> str:
    g = geometry(frame)
    frame.locator(HEATMAP).hover(
        position={"x": g["left"] + (column + 0.5) * g["w"], "y": g["top"] + (row + 0.5) * g["h"]}
    )
    tooltip = frame.get_by_role("tooltip")
    tooltip.wait_for()
    return tooltip.inner_text()


def test_rows_in_model_order_grouped_and_hover_shows_the_exact_norm(health, health_logs):
    _, frame = health
    _, logged = health_logs
    show(frame, run="healthy", tag="gradients")
    rows = [
        "embed.weight",
        "layer1",
        "layer1.0",
        NAMES[1],
        NAMES[2],
        "layer1.1",
        NAMES[3],
        NAMES[4],
        "fc.weight",
        XSS_NAME,
    ]
    wait_for_rows(frame, rows)
    column = 7
    text = hover_cell(frame, rows.index("layer1.1.conv1.weight"), column)
    assert "tensor: layer1.1.conv1.weight" in text and f"step: {column * EVERY}" in text
    shown = float(re.search(r"norm \(L2\): (\S+)", text).group(1))
    expected = np.linalg.norm(
        logged[("healthy", "gradients", "layer1.1.conv1.weight", column * EVERY)].astype(np.float64)
    )
    assert shown == pytest.approx(expected, rel=1e-5)
    group = hover_cell(frame, rows.index("layer1"), column)
    assert "group: layer1 (max of 4 tensors)" in group


def test_a_group_collapses_into_one_aggregated_row(health):
    _, frame = health
    show(frame, run="healthy", tag="weights")
    g = geometry(frame)
    row = g["rows"].index("layer1")
    frame.locator(HEATMAP).click(position={"x": 20, "y": g["top"] + (row + 0.5) * g["h"]})  # its label
    wait_for_rows(frame, ["embed.weight", "layer1", "fc.weight", XSS_NAME])
    frame.get_by_role("button", name="expand all").click()
    wait_for_rows(
        frame,
        [
            "embed.weight",
            "layer1",
            "layer1.0",
            NAMES[1],
            NAMES[2],
            "layer1.1",
            NAMES[3],
            NAMES[4],
            "fc.weight",
            XSS_NAME,
        ],
    )


def test_an_alert_opens_its_tensor_at_its_first_step(health):
    _, frame = health
    show(frame, run="diverging", tag="weights")
    alert = frame.get_by_role("region", name="alerts").locator("button[data-kind='nonfinite'][data-tag='gradients']")
    assert "NaN/Inf" in alert.inner_text()
    alert.click()
    frame.locator(f"{HEATMAP}[data-tag='gradients'][data-step='{NAN_FROM}']").wait_for()
    assert frame.get_by_label("tensor", exact=True).input_value() == "layer1.0.conv1.weight"
    frame.get_by_text(f"step {NAN_FROM} ({NAN_FROM // EVERY + 1} of {STEPS})").wait_for()
    table = frame.get_by_role("table", name="tensor statistics")
    nan_row = table.get_by_role("row").filter(has=frame.get_by_role("cell", name="NaN", exact=True))
    expect(nan_row.get_by_role("cell").nth(2)).to_have_text("1")  # the gradients column, once drawn


def test_histogram_hover_shows_bin_and_count(health, health_logs):
    _, frame = health
    _, logged = health_logs
    show(frame, run="healthy", tag="gradients")
    frame.get_by_label("tensor", exact=True).select_option("fc.weight")
    histogram = frame.locator("svg[aria-label='tensor histogram'][data-tensor='gradients']")
    histogram.wait_for()
    assert int(histogram.get_attribute("data-total")) == 64
    box = histogram.bounding_box()
    histogram.hover(position={"x": box["width"] / 2, "y": box["height"] / 2})
    text = frame.get_by_role("tooltip").inner_text()
    assert re.search(r"bin \[\S+, \S+[)\]]", text) and re.search(r"count: \d+", text)


def test_a_standard_histogram_run_shows_in_the_heatmap(health, health_logs):
    _, frame = health
    _, logged = health_logs
    show(frame, run="add_histogram", tag="TensorBoard histograms")
    wait_for_rows(frame, ["fc.weight", "fc.weight.grad"])
    frame.get_by_text("approximate: estimated from histogram buckets").wait_for()
    text = hover_cell(frame, 0, 1)
    assert "tensor: fc.weight" in text and f"step: {EVERY}" in text
    shown = float(re.search(r"norm \(L2\): (\S+)", text).group(1))
    exact = np.linalg.norm(logged[("add_histogram", "TensorBoard histograms", "fc.weight", EVERY)].astype(np.float64))
    assert shown == pytest.approx(exact, rel=0.1)  # estimated from bucket midpoints


def test_hostile_tensor_names_stay_text(health, health_server):
    page, frame = health
    show(frame, run="healthy", tag="weights")
    assert XSS_NAME in geometry(frame)["rows"]
    frame.get_by_label("tensor", exact=True).select_option(XSS_NAME)
    frame.locator(".ml-detail h2", has_text=XSS_NAME).wait_for()
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__modellens_xss") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0


def test_export_and_draw_timing(health):
    page, frame = health
    show(frame, run="healthy", tag="gradients")
    with page.expect_download() as download_info:
        frame.get_by_role("button", name="PNG").click()
    assert open(download_info.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as download_info:
        frame.get_by_role("button", name="SVG").click()
    svg = open(download_info.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and svg.count("<rect") == 10 * STEPS
    assert "&lt;img src=x" in svg and "<img" not in svg
    durations = plugin_frame(page).evaluate(
        "() => performance.getEntriesByName('modellens:draw-distributions').map(e => e.duration)"
    )
    assert durations and max(durations) < 1000


def test_empty_state_names_the_writers(browser, tmp_path):
    with modellens.Writer(tmp_path / "only_confusion") as writer:
        writer.confusion_matrix("val/confusion", [0, 1], [0, 1], labels=[0, 1], step=0)
    server = TensorBoardProcess(tmp_path, load_fast=False)
    try:
        server.wait_ready()
        context, _, frame = open_modellens(browser, server.url)
        frame.get_by_role("button", name="Training health").click()
        note = frame.get_by_text("No training-health data yet")
        note.wait_for()
        assert "modellens.torch.watch(" in note.inner_text() and "Writer.distributions(" in note.inner_text()
        context.close()
    finally:
        server.stop()
