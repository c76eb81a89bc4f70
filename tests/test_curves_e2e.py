"""End to end for the ROC / PR view: a real `tensorboard` (both data providers) on curves written
with `Writer.roc_pr` from real small models (scikit-learn's digits with LogisticRegression: one
binary "is it an eight?" and one 10-class run, hostile class names, two steps, a second run to
compare) and a 1000-class step, driven by headless Chromium; what it shows is checked against
scikit-learn's `roc_curve`, `precision_recall_curve` and `roc_auc_score` and counts computed here.

The charts publish their plot geometry on the chart's `dataset` (left, top, width, height in CSS
pixels of the chart; xmin, xmax, ymin, ymax of its domains): the tests point at data through it.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

import modellens
from conftest import XSS_NAME
from harness import ARTIFACTS, TensorBoardProcess, dashboard, plugin_frame

BINARY, MULTI, WIDE = "val/eight", "val/digits", "val/wide"
DIGIT_NAMES = [XSS_NAME, "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
WIDE_CLASSES, WIDE_SAMPLES = 1000, 5000


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
    return re.search(rf"^{re.escape(name)}: (\S+)", text, re.M).group(1)


def isolated(px: np.ndarray, py: np.ndarray, skip_first: bool = True) -> int:
    """The point farthest (in pixels) from every other: hover cannot pick a neighbour."""
    distance = np.hypot(px[:, None] - px[None, :], py[:, None] - py[None, :])
    np.fill_diagonal(distance, np.inf)
    nearest = distance.min(axis=1)
    if skip_first:
        nearest[0] = -1  # the start point (threshold +Inf)
    return int(np.argmax(nearest))


def fit_digits(iterations: int, strength: float = 1.0):
    digits = load_digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=iterations, C=strength).fit(digits.data[:1000] / 16, digits.target[:1000])
    return digits.target[1000:], model.predict_proba(digits.data[1000:] / 16)


@pytest.fixture(scope="session")
def curves_logs(tmp_path_factory):
    """The logdir and ``{(run, tag, step): (y_true, scores)}`` of what was written."""
    logdir = tmp_path_factory.mktemp("curves_logs")
    written = {}
    for run, settings in (("digits", ((3, 1.0), (300, 1.0))), ("digits_b", ((10, 0.02), (60, 0.02)))):
        with modellens.Writer(logdir / run) as writer:
            for step, (iterations, strength) in enumerate(settings):
                truth, probabilities = fit_digits(iterations, strength)
                writer.roc_pr(MULTI, truth, probabilities, step=step, class_names=DIGIT_NAMES)
                written[(run, MULTI, step)] = (truth, probabilities)
                eight, score = (truth == 8).astype(int), probabilities[:, 8]
                writer.roc_pr(BINARY, eight, score, step=step, class_names=["eight"])
                written[(run, BINARY, step)] = (eight, score)
    rng = np.random.default_rng(5)
    truth = rng.integers(0, WIDE_CLASSES, WIDE_SAMPLES)
    logits = rng.normal(size=(WIDE_SAMPLES, WIDE_CLASSES)).astype(np.float32)
    logits[np.arange(WIDE_SAMPLES), truth] += rng.uniform(0, 4, WIDE_CLASSES)[truth]  # some classes are hard
    with modellens.Writer(logdir / "wide") as writer:
        writer.roc_pr(WIDE, truth, logits, step=0, logits=True)
    written[("wide", WIDE, 0)] = (truth, logits)
    return logdir, written


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def curves_server(request, curves_logs):
    server = TensorBoardProcess(curves_logs[0], load_fast=request.param)
    try:
        server.wait_ready(route="curves/tags", runs=3)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["light"])
def color_scheme(request):
    return request.param


@pytest.fixture
def curves_view(browser, curves_server, request, color_scheme):
    with dashboard(browser, curves_server.url, request.node.name, height=1300, color_scheme=color_scheme) as (
        page,
        frame,
    ):
        frame.get_by_role("button", name="ROC / PR", exact=True).click()
        yield page, frame


def show(frame, tag: str, run: str, step: int) -> None:
    frame.get_by_label("tag").select_option(tag)
    frame.get_by_label("run", exact=True).select_option(run)
    chart(frame, "ROC curve").and_(
        frame.locator(f"[data-run='{run}'][data-tag='{tag}'][data-step='{step}']")
    ).wait_for()


def cells(frame) -> dict[str, int]:
    matrix = frame.get_by_role("table", name="confusion at threshold")
    return {
        k: int(matrix.locator(f"td[data-cell='{k}']").get_attribute("data-value")) for k in ("tp", "fp", "fn", "tn")
    }


def shown_threshold(frame) -> float:
    value = frame.get_by_label("threshold", exact=True).get_attribute("data-threshold")
    return np.inf if value == "inf" else float(value)


def test_binary_hover_is_exact_and_the_threshold_slider_sets_the_matrix(curves_view, curves_logs):
    page, frame = curves_view
    _, written = curves_logs
    show(frame, BINARY, "digits", 1)  # follows the latest step
    truth, score = written[("digits", BINARY, 1)]
    fpr, tpr, thresholds = roc_curve(truth, score, drop_intermediate=False)
    precision, recall, pr_thresholds = precision_recall_curve(truth, score, drop_intermediate=False)
    roc = chart(frame, "ROC curve")
    px, py = to_pixels(roc.evaluate("e => ({...e.dataset})"), fpr, tpr)
    k = isolated(px, py)
    text = hover(roc, px[k], py[k])
    assert float(field(text, "threshold")) == thresholds[k]
    assert float(field(text, "TPR")) == tpr[k]
    assert float(field(text, "FPR")) == fpr[k]
    assert float(field(text, "recall")) == tpr[k]
    j = int(np.flatnonzero(pr_thresholds == thresholds[k])[0])
    assert float(field(text, "precision")) == precision[j] and recall[j] == tpr[k]
    assert text.splitlines()[0] == "eight"

    # the same stored point on the PR chart
    pr = chart(frame, "PR curve")
    qx, qy = to_pixels(pr.evaluate("e => ({...e.dataset})"), [recall[j]], [precision[j]])
    assert float(field(hover(pr, qx[0], qy[0]), "precision")) == precision[j]

    positives, negatives = int(truth.sum()), int((1 - truth).sum())
    slider = frame.get_by_label("threshold", exact=True)
    slider.focus()
    slider.press("End")  # +Inf: nothing predicted positive
    assert cells(frame) == {"tp": 0, "fp": 0, "fn": positives, "tn": negatives}
    slider.press("Home")  # the lowest score: everything positive
    assert shown_threshold(frame) == score.min()
    assert cells(frame) == {"tp": positives, "fp": negatives, "fn": 0, "tn": 0}
    for _ in range(40):
        slider.press("ArrowRight")
    for presses in (0, 25):
        for _ in range(presses):
            slider.press("ArrowRight")
        t = shown_threshold(frame)
        assert t in set(score.tolist()), "a threshold is a score that occurs"
        predicted = score >= t
        tp, fp = int((predicted & (truth == 1)).sum()), int((predicted & (truth == 0)).sum())
        assert cells(frame) == {"tp": tp, "fp": fp, "fn": positives - tp, "tn": negatives - fp}
        f1 = frame.locator(".ml-curves-metrics span", has_text="F1").get_attribute("title")
        assert float(f1.split(": ")[1]) == pytest.approx(2 * tp / (2 * tp + fp + positives - tp), rel=1e-15)

    # a click on a chart point moves the threshold there
    roc.click(position={"x": float(px[k]), "y": float(py[k])})
    assert shown_threshold(frame) == thresholds[k]


def test_multiclass_names_stay_text_auc_table_micro_and_compare(curves_view, curves_logs):
    page, frame = curves_view
    _, written = curves_logs
    show(frame, MULTI, "digits", 1)
    truth, probabilities = written[("digits", MULTI, 1)]
    assert chart(frame, "ROC curve").get_attribute("data-curves") == "10"  # all classes up to 10
    table = frame.get_by_role("table", name="AUC per class")
    table.get_by_role("cell", name=XSS_NAME, exact=True).wait_for()
    auc = [roc_auc_score(truth == c, probabilities[:, c]) for c in range(10)]
    worst = int(np.argmin(auc))
    first = table.locator("tbody tr").first.locator("td")  # sorted by AUC, worst first
    assert first.nth(0).inner_text() == DIGIT_NAMES[worst]
    assert first.nth(1).inner_text() == f"{auc[worst]:.4f}"
    assert first.nth(3).inner_text() == str(int((truth == worst).sum()))

    # a click on the hostile class's row shows its curves alone; its name is text everywhere
    table.get_by_role("cell", name=XSS_NAME, exact=True).click()
    chart(frame, "ROC curve").and_(frame.locator("[data-curves='1']")).wait_for()
    option = frame.get_by_label("threshold class").locator("option")
    assert option.inner_text() == XSS_NAME
    fpr, tpr, thresholds = roc_curve(truth == 0, probabilities[:, 0], drop_intermediate=False)
    roc = chart(frame, "ROC curve")
    px, py = to_pixels(roc.evaluate("e => ({...e.dataset})"), fpr, tpr)
    k = isolated(px, py)
    text = hover(roc, px[k], py[k])
    assert text.splitlines()[0] == XSS_NAME
    assert float(field(text, "threshold")) == thresholds[k] and float(field(text, "TPR")) == tpr[k]
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__modellens_xss") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    with page.expect_download() as download:
        frame.get_by_role("button", name="ROC SVG").click()
    svg = open(download.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and "&lt;img src=x" in svg and "<img" not in svg
    with page.expect_download() as download:
        frame.get_by_role("button", name="PR PNG").click()
    assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    # the micro average: the pooled one-vs-rest curve
    frame.get_by_label("classes", exact=True).select_option("micro")
    chart(frame, "ROC curve").and_(frame.locator("[data-curves='1']")).wait_for()
    frame.get_by_label("threshold class").locator("option", has_text="micro-average").wait_for(state="attached")
    indicator = np.eye(10, dtype=int)[truth]
    fpr, tpr, thresholds = roc_curve(indicator.ravel(), probabilities.ravel(), drop_intermediate=False)
    px, py = to_pixels(roc.evaluate("e => ({...e.dataset})"), fpr, tpr)
    k = isolated(px, py)
    text = hover(roc, px[k], py[k])
    assert text.splitlines()[0] == "micro-average"
    # 7,970 pooled scores: the stored curve keeps at most 2,000 of their points, each exact
    shown = int(np.flatnonzero(thresholds == float(field(text, "threshold")))[0])
    assert abs(shown - k) < 20, "the stored point nearest to the pointer"
    assert float(field(text, "FPR")) == fpr[shown] and float(field(text, "TPR")) == tpr[shown]

    # another run's curves, dashed
    frame.get_by_label("compare").select_option("run")
    frame.get_by_label("reference run").select_option("digits_b")
    frame.get_by_text("dashed: run digits_b, step 1").first.wait_for()
    assert roc.locator("svg path[stroke-dasharray='5 4']").count() >= 1

    ARTIFACTS.mkdir(exist_ok=True)
    port = re.search(r":(\d+)/", page.url).group(1)
    page.screenshot(path=str(ARTIFACTS / f"curves_compare_{port}.png"))

    # the link to the run's confusion matrices
    frame.get_by_role("button", name="open in Confusion matrices").click()
    frame.locator(".ml-tabs button.ml-active", has_text="Confusion matrices").wait_for()


def test_1000_classes_worst_first_and_open_from_another_view(curves_view, curves_logs):
    page, frame = curves_view
    _, written = curves_logs
    show(frame, WIDE, "wide", 0)
    truth, logits = written[("wide", WIDE, 0)]
    table = frame.get_by_role("table", name="AUC per class")
    assert table.locator("tbody tr").count() == WIDE_CLASSES
    assert chart(frame, "ROC curve").get_attribute("data-curves") == "6"  # the 5 worst and the micro average
    exp = np.exp(logits - logits.max(1, keepdims=True))
    probabilities = exp / exp.sum(1, keepdims=True)
    auc = np.array([roc_auc_score(truth == c, probabilities[:, c]) for c in range(WIDE_CLASSES)])
    worst = np.argsort(auc, kind="stable")[:5]
    shown = [o.inner_text() for o in frame.get_by_label("threshold class").locator("option").all()]
    assert shown[:5] == [str(c) for c in worst] and shown[5] == "micro-average"
    assert table.locator("tbody tr").first.locator("td").nth(1).inner_text() == f"{auc[worst[0]]:.4f}"
    entries = plugin_frame(page).evaluate(
        "() => performance.getEntriesByName('modellens:draw-curves').map(e => ({ms: e.duration, ...e.detail}))"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "curves_draw_times.json").write_text(json.dumps(entries, indent=1))
    assert any(e["classes"] == WIDE_CLASSES for e in entries)

    # another view (Alerts) asks for a class at a step
    plugin_frame(page).evaluate(
        """() => window.dispatchEvent(new CustomEvent('modellens-navigate', {detail:
            {view: 'curves', run: 'digits', tag: 'val/digits', step: 0, tensor: 'three'}}))"""
    )
    chart(frame, "ROC curve").and_(frame.locator("[data-run='digits'][data-step='0'][data-curves='1']")).wait_for()
    assert frame.get_by_label("threshold class").locator("option").inner_text() == "three"
    truth0, probabilities0 = written[("digits", MULTI, 0)]
    assert f"AUC {roc_auc_score(truth0 == 3, probabilities0[:, 3]):.4f}" in chart(frame, "ROC curve").text_content()


@pytest.mark.parametrize("color_scheme", ["dark"])
def test_follows_tensorboards_dark_mode(curves_view, color_scheme):
    page, frame = curves_view
    plugin_frame(page).wait_for_function("document.body.classList.contains('ml-dark')")
    show(frame, MULTI, "digits", 1)
    label = chart(frame, "ROC curve").locator("svg text").first
    assert label.get_attribute("fill") == "#b0b0b0"  # the dark theme's muted text
