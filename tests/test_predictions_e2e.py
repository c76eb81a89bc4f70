"""End to end for the Predictions view: a real `tensorboard` (both data providers) on predictions
written with `Writer.predictions` by real small models (scikit-learn's diabetes regression and
digits classification, two steps each, two runs), a 50,000-point and a 200,000-sample regression
step, driven by headless Chromium.

The charts publish their plot geometry on the chart's `dataset` (left, top, width, height in CSS
pixels of the chart; xmin, xmax, ymin, ymax of its domains): the tests point at data through it.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import mean_absolute_error

import modellens
from conftest import XSS_NAME
from harness import ARTIFACTS, TensorBoardProcess, dashboard, plugin_frame

REGRESSION, CLASSIFICATION, POINTS, DENSITY = "val/regression", "val/classes", "big/points", "big/density"
DIGIT_NAMES = [XSS_NAME, "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
BIG_POINTS, BIG_DENSITY = 50_000, 200_000


def chart(frame, name: str):
    """The chart (its div, which holds the geometry) whose SVG is labelled `name`."""
    return frame.locator(f"div.ml-xychart:has(> svg[aria-label='{name}'])")


def to_pixels(geometry: dict, x, y):
    left, top, width, height = (float(geometry[k]) for k in ("left", "top", "width", "height"))
    xmin, xmax, ymin, ymax = (float(geometry[k]) for k in ("xmin", "xmax", "ymin", "ymax"))
    return left + (np.asarray(x) - xmin) / (xmax - xmin) * width, top + (ymax - np.asarray(y)) / (ymax - ymin) * height


def hover(locator, x: float, y: float) -> str:
    locator.hover(position={"x": float(x), "y": float(y)})
    tooltip = locator.get_by_role("tooltip")
    tooltip.wait_for()
    return tooltip.inner_text()


def field(text: str, name: str) -> str:
    return re.search(rf"^{re.escape(name)}: (.+)$", text, re.M).group(1)


@pytest.fixture(scope="session")
def predictions_logs(tmp_path_factory):
    """The logdir and ``{(run, tag, step): (y_true, y_pred, ids)}`` of what was written."""
    logdir = tmp_path_factory.mktemp("predictions_logs")
    written = {}
    x, y = load_diabetes(return_X_y=True)
    ids = [f"patient-{i}" for i in range(len(y))]
    for run, models in (("reg", (Ridge(alpha=10.0), LinearRegression())), ("reg_b", (Ridge(alpha=1.0), Ridge(0.1)))):
        with modellens.Writer(logdir / run) as writer:
            for step, model in enumerate(models):
                predicted = model.fit(x, y).predict(x)
                writer.predictions(REGRESSION, y, predicted, step=step, ids=ids)
                written[(run, REGRESSION, step)] = (y, predicted, ids)
    digits = load_digits()
    train, test = slice(0, 1000), slice(1000, None)
    truth = digits.target[test]
    for run, (iterations, strength) in (("cls", ((3, 300), 1.0)), ("cls_b", ((10, 60), 0.02))):
        with modellens.Writer(logdir / run) as writer:
            for step, limit in enumerate(iterations):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model = LogisticRegression(max_iter=limit, C=strength).fit(
                        digits.data[train] / 16, digits.target[train]
                    )
                probabilities = model.predict_proba(digits.data[test] / 16)
                wrong = np.flatnonzero(probabilities.argmax(1) != truth)
                worst = wrong[np.argmax(probabilities[wrong].max(1))]
                sample_ids = [XSS_NAME if i == worst else f"img-{i}" for i in range(truth.size)]
                writer.predictions(
                    CLASSIFICATION, truth, probabilities, step=step, ids=sample_ids, class_names=DIGIT_NAMES
                )
                written[(run, CLASSIFICATION, step)] = (truth, probabilities, sample_ids)
    rng = np.random.default_rng(7)
    with modellens.Writer(logdir / "big") as writer:
        for tag, n in ((POINTS, BIG_POINTS), (DENSITY, BIG_DENSITY)):
            true = rng.gamma(3.0, 2.0, n)
            predicted = true + rng.normal(0, 0.3 + 0.15 * true)
            writer.predictions(tag, true, predicted, step=0, ids=[f"row-{i}" for i in range(n)])
            written[("big", tag, 0)] = (true, predicted, None)
    return logdir, written


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def predictions_server(request, predictions_logs):
    server = TensorBoardProcess(predictions_logs[0], load_fast=request.param)
    try:
        server.wait_ready(route="predictions/tags", runs=5)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["light"])
def color_scheme(request):
    return request.param


@pytest.fixture
def predictions_view(browser, predictions_server, request, color_scheme):
    with dashboard(browser, predictions_server.url, request.node.name, height=1500, color_scheme=color_scheme) as (
        page,
        frame,
    ):
        frame.get_by_role("button", name="Predictions", exact=True).click()
        yield page, frame


def show(frame, tag: str, run: str, step: int) -> None:
    frame.get_by_label("tag").select_option(tag)
    frame.get_by_label("run", exact=True).select_option(run)
    frame.locator(f".ml-view[data-run='{run}'][data-tag='{tag}'][data-step='{step}']").wait_for()


def metric(frame, name: str) -> float:
    cell = frame.get_by_role("table", name="metrics").locator(f"tr[data-metric='{name}'] td").nth(1)
    return float(cell.get_attribute("data-value"))


def test_regression_points_read_exactly_and_the_step_slider(predictions_view, predictions_logs):
    page, frame = predictions_view
    _, written = predictions_logs
    show(frame, REGRESSION, "reg", 1)  # follows the latest step
    truth, predicted, ids = written[("reg", REGRESSION, 1)]
    scatter = chart(frame, "predicted vs true")
    assert scatter.get_attribute("data-points") == str(truth.size)
    px, py = to_pixels(scatter.evaluate("e => ({...e.dataset})"), truth, predicted)
    # the point farthest (in pixels) from its nearest neighbour: hover cannot pick another
    distance = np.hypot(px[:, None] - px[None, :], py[:, None] - py[None, :])
    np.fill_diagonal(distance, np.inf)
    i = int(np.argmax(distance.min(axis=1)))
    text = hover(scatter, px[i] + 1, py[i] - 1)
    assert field(text, "id") == ids[i]
    assert float(field(text, "true")) == truth[i]
    assert float(field(text, "predicted")) == predicted[i]
    assert float(field(text, "error (pred − true)")) == predicted[i] - truth[i]
    assert metric(frame, "MAE") == pytest.approx(mean_absolute_error(truth, predicted), rel=1e-12)

    # the residual histogram's fullest bin, counted independently over the route's edges
    residuals = chart(frame, "residual histogram")
    geometry = residuals.evaluate("e => ({...e.dataset})")
    errors = predicted - truth
    counts, edges = np.histogram(errors, bins=60, range=(errors.min(), errors.max()))
    k = int(np.argmax(counts))
    x, _ = to_pixels(geometry, (edges[k] + edges[k + 1]) / 2, float(geometry["ymin"]))
    text = hover(residuals, x, float(geometry["top"]) + 10)
    assert f"samples: {counts[k]}" in text

    slider = frame.get_by_label("step", exact=True)
    slider.focus()
    slider.press("Home")
    frame.locator(".ml-view[data-step='0']").wait_for()
    truth0, predicted0, _ = written[("reg", REGRESSION, 0)]
    assert metric(frame, "MAE") == pytest.approx(mean_absolute_error(truth0, predicted0), rel=1e-12)
    assert metric(frame, "MAE") != pytest.approx(mean_absolute_error(truth, predicted), rel=1e-6)

    # compare with another run: its metrics beside, its deciles as an outline
    frame.get_by_label("compare").select_option("run")
    frame.get_by_label("reference run").select_option("reg_b")
    frame.get_by_text("compared with run reg_b, step 0").wait_for()
    reference = frame.get_by_role("table", name="metrics").locator("tr[data-metric='MAE'] td").nth(2)
    b_truth, b_predicted, _ = written[("reg_b", REGRESSION, 0)]
    assert float(reference.get_attribute("data-value")) == pytest.approx(
        mean_absolute_error(b_truth, b_predicted), rel=1e-12
    )

    with page.expect_download() as download:
        frame.get_by_label("chart to export").select_option("scatter")
        frame.get_by_role("button", name="chart SVG").click()
    svg = open(download.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and "<image" in svg and "y = x" in svg
    with page.expect_download() as download:
        frame.get_by_role("button", name="chart PNG").click()
    assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_classification_calibration_and_confidently_wrong_ids_as_text(predictions_view, predictions_logs):
    page, frame = predictions_view
    _, written = predictions_logs
    show(frame, CLASSIFICATION, "cls", 1)
    truth, probabilities, ids = written[("cls", CLASSIFICATION, 1)]
    confidence = probabilities.max(1)
    right = probabilities.argmax(1) == truth
    assert metric(frame, "accuracy") == pytest.approx(right.mean(), rel=1e-12)

    # the table: the most confidently wrong sample first, its hostile id as text
    table = frame.get_by_role("table", name="confidently wrong samples")
    first = table.locator("tbody tr").first.locator("td")
    wrong = np.flatnonzero(~right)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")]
    assert first.nth(0).inner_text() == ids[order[0]] == XSS_NAME
    assert first.nth(1).inner_text() == str(order[0])
    assert first.nth(2).inner_text() == DIGIT_NAMES[truth[order[0]]]
    assert float(first.nth(4).inner_text()) == confidence[order[0]]
    assert table.locator("tbody tr").count() == min(100, wrong.size)
    assert table.locator("tbody tr").nth(1).locator("td").first.inner_text() == ids[order[1]]
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__modellens_xss") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0

    # the reliability bin under the pointer, counted independently (15 equal bins)
    reliability = chart(frame, "reliability diagram")
    geometry = reliability.evaluate("e => ({...e.dataset})")
    bins = np.minimum((confidence * 15).astype(int), 14)
    fullest = int(np.bincount(bins, minlength=15).argmax())
    x, y = to_pixels(geometry, (fullest + 0.5) / 15, 0.03)
    text = hover(reliability, x, y)
    lo = float(re.search(r"confidence \[([^,]+),", text).group(1))
    b = int(round(lo * 15))
    assert f"samples: {int((bins == b).sum())}" in text
    assert float(field(text, "accuracy")) == pytest.approx(right[bins == b].mean(), rel=1e-12)
    assert float(field(text, "mean confidence")) == pytest.approx(confidence[bins == b].mean(), rel=1e-12)

    # confidence histogram: right and wrong of the fullest of 20 bins
    histogram = chart(frame, "confidence histogram")
    geometry = histogram.evaluate("e => ({...e.dataset})")
    bins20 = np.minimum((confidence * 20).astype(int), 19)
    k = int(np.bincount(bins20, minlength=20).argmax())
    x, _ = to_pixels(geometry, (k + 0.5) / 20, 0)
    text = hover(histogram, x, float(geometry["top"]) + 5)
    assert field(text, "right") == str(int((right & (bins20 == k)).sum()))
    assert field(text, "wrong") == str(int((~right & (bins20 == k)).sum()))

    frame.get_by_label("compare").select_option("run")
    frame.get_by_label("reference run").select_option("cls_b")
    frame.get_by_text("compared with run cls_b, step 1").wait_for()
    assert "run cls_b" in reliability.locator("svg").text_content()


def test_50k_points_exact_and_200k_samples_as_density(predictions_view, predictions_logs):
    page, frame = predictions_view
    _, written = predictions_logs
    show(frame, POINTS, "big", 0)
    scatter = chart(frame, "predicted vs true")
    assert scatter.get_attribute("data-points") == str(BIG_POINTS)
    truth, predicted, _ = written[("big", POINTS, 0)]
    px, py = to_pixels(scatter.evaluate("e => ({...e.dataset})"), truth, predicted)
    i = int(np.argmax(truth))  # the largest true value: alone at the right edge
    text = hover(scatter, px[i] - 1, py[i])
    assert field(text, "id") == f"row-{i}"
    assert float(field(text, "true")) == truth[i] and float(field(text, "predicted")) == predicted[i]

    show(frame, DENSITY, "big", 0)
    assert scatter.get_attribute("data-points") == "0"
    truth, predicted, _ = written[("big", DENSITY, 0)]
    lo, hi = min(truth.min(), predicted.min()), max(truth.max(), predicted.max())
    counts, edges, _ = np.histogram2d(truth, predicted, bins=128, range=[[lo, hi], [lo, hi]])
    row, column = np.unravel_index(np.argmax(counts), counts.shape)
    geometry = scatter.evaluate("e => ({...e.dataset})")
    x, y = to_pixels(geometry, (edges[row] + edges[row + 1]) / 2, (edges[column] + edges[column + 1]) / 2)
    text = hover(scatter, x, y)
    assert f"samples in this cell: {int(counts[row, column])}" in text

    entries = plugin_frame(page).evaluate(
        "() => performance.getEntriesByName('modellens:draw-predictions').map(e => ({ms: e.duration, ...e.detail}))"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "predictions_draw_times.json").write_text(json.dumps(entries, indent=1))
    assert any(e["points"] == BIG_POINTS for e in entries)


@pytest.mark.parametrize("color_scheme", ["dark"])
def test_follows_tensorboards_dark_mode(predictions_view, color_scheme):
    page, frame = predictions_view
    plugin = plugin_frame(page)
    plugin.wait_for_function("document.body.classList.contains('ml-dark')")
    show(frame, CLASSIFICATION, "cls", 1)
    show(frame, REGRESSION, "reg", 1)
    label = chart(frame, "residual histogram").locator("svg text").first
    assert label.get_attribute("fill") == "#b0b0b0"  # the dark theme's muted text
