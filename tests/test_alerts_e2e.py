"""End to end for the Alerts page: a real `tensorboard` (both data providers) on logs with planted
problems (gradients turning NaN through `Writer.distributions`, a class's recall dropping in
confusion matrices under a hostile run and class name, a ROC AUC dropping in `roc_pr` curves,
validation accuracy falling while training accuracy rises), driven by headless Chromium: each
alert's row appears, its link opens the view that shows it at its run, tag and step (or
TensorBoard's Time Series tab in the top window), names stay text.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

import modellens
from conftest import XSS_NAME
from harness import ARTIFACTS, TensorBoardProcess, dashboard, plugin_frame

TABLE = "table[aria-label='alerts']"
HEALTH = "canvas[aria-label='training health heatmap']"
CONFUSION = "canvas[aria-label='confusion matrix heatmap']"
NAN_FROM = 20  # the diverging run's gradients hold NaN from this step on
EVERY = 5
CAT = "<b>cat</b>"  # a class name that must stay text
RECALLS = [0.6, 0.9, 0.8, 0.62, 0.65]  # the cat's recall: 0.9 → 0.62 at step 3


def confusion(recall: float, samples: int = 50) -> np.ndarray:
    right = round(recall * samples)
    return np.array([[right, samples - right], [5, samples - 5]])


def curve_scores(separation: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 200)
    logits = rng.normal(size=(600, 3))
    logits[np.arange(600), labels] += np.array([separation, 3.0, 3.0])[labels]
    return labels, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


@pytest.fixture(scope="session")
def alerts_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("alerts_logs")
    rng = np.random.default_rng(0)
    with modellens.Writer(logdir / "diverging") as writer:
        for i in range(8):
            step = i * EVERY
            gradients = {
                name: rng.standard_normal((8, 8)).astype(np.float32) * 0.01 for name in ("fc1.weight", "fc2.weight")
            }
            if step >= NAN_FROM:
                gradients["fc2.weight"][0, 0] = np.nan
            writer.distributions("gradients", gradients, step=step)
    # a hostile run name (confusion matrices are tensors, which both loaders read under any name)
    with modellens.Writer(logdir / XSS_NAME) as writer:
        for step, recall in enumerate(RECALLS):
            writer.confusion_matrix("val/confusion", matrix=confusion(recall), class_names=[CAT, "dog"], step=step)
    with modellens.Writer(logdir / "mlp") as writer:
        for step, (train, val) in enumerate([(0.6, 0.6), (0.7, 0.75), (0.8, 0.74), (0.9, 0.71), (0.95, 0.7)]):
            writer.scalar("train/accuracy", train, step=step)
            writer.scalar("val/accuracy", val, step=step)
        for step, separation in enumerate([3.0, 3.0, 0.5]):
            labels, scores = curve_scores(separation)
            writer.roc_pr("val/curves", labels, scores, class_names=["zero", "one", "two"], step=step)
    return logdir


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def alerts_server(request, alerts_logdir):
    server = TensorBoardProcess(alerts_logdir, load_fast=request.param)
    try:
        server.wait_ready(route="alerts", runs=3)  # the runs that have alerts
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["light"])
def color_scheme(request):
    return request.param


@pytest.fixture
def alerts_page(browser, alerts_server, request, color_scheme):
    with dashboard(browser, alerts_server.url, request.node.name, color_scheme=color_scheme) as (page, frame):
        frame.get_by_role("button", name="Alerts", exact=True).click()
        frame.locator(f"{TABLE} tbody tr").first.wait_for()
        # the Rust server may list the last run a moment later: wait for every planted alert
        frame.locator(".ml-view[data-alerts='4']").wait_for(timeout=30_000)
        yield page, frame


def rows(frame) -> list[list[str]]:
    return frame.locator(TABLE).evaluate(
        "t => Array.from(t.tBodies[0].rows, r => Array.from(r.cells, c => c.textContent))"
    )


def row_of(frame, code_text: str):
    return frame.locator(f"{TABLE} tbody tr", has_text=code_text)


def test_every_planted_problem_is_a_row_errors_first_and_the_thresholds_are_shown(alerts_page):
    _, frame = alerts_page
    table = rows(frame)
    assert len(table) == 4
    assert table[0][:3] == ["✖ error", "diverging", "gradients"]  # the one error sorts first
    assert table[0][3] == "fc2.weight" and table[0][5:7] == [str(NAN_FROM), str(7 * EVERY)]
    assert [r[0] for r in table[1:]] == ["⚠ warning"] * 3
    by_tag = {r[2]: r for r in table}
    assert by_tag["val/confusion"][1] == XSS_NAME and by_tag["val/confusion"][3] == CAT
    assert by_tag["val/confusion"][5] == "3" and "0.900" in by_tag["val/confusion"][4]
    assert by_tag["val/accuracy"][3] == "train/accuracy"
    assert by_tag["val/curves"][3] == "zero"
    status = frame.get_by_role("status").inner_text()
    assert "4 alerts (1 error, 3 warnings) in 3 runs" in status
    thresholds = frame.get_by_role("region", name="thresholds")
    assert (
        thresholds.locator("dt", has_text="recall drop").locator("xpath=following-sibling::dd[1]").inner_text() == "0.2"
    )
    assert thresholds.locator("dt", has_text="auc drop").count() == 1


def test_sort_and_filter(alerts_page):
    _, frame = alerts_page
    frame.locator(f"{TABLE} th[data-key='first_step']").click()
    assert [r[5] for r in rows(frame)] == sorted((r[5] for r in rows(frame)), key=int)
    frame.locator(f"{TABLE} th[data-key='first_step']").click()  # again: the other way round
    assert [int(r[5]) for r in rows(frame)] == sorted((int(r[5]) for r in rows(frame)), reverse=True)
    frame.get_by_label("severity").select_option("error")
    assert [r[1] for r in rows(frame)] == ["diverging"]
    frame.get_by_label("severity").select_option("all")
    frame.get_by_label("run", exact=True).select_option("mlp")
    assert sorted(r[2] for r in rows(frame)) == ["val/accuracy", "val/curves"]
    frame.get_by_label("run", exact=True).select_option("")
    frame.get_by_label("search alerts").fill("RECALL cat")
    assert [r[2] for r in rows(frame)] == ["val/confusion"]
    assert "showing 1" in frame.get_by_role("status").inner_text()


def test_a_health_alert_opens_training_health_at_its_tensor_and_first_step(alerts_page):
    _, frame = alerts_page
    row_of(frame, "gradients").get_by_role("button", name="open in Training health").click()
    frame.locator(f"{HEALTH}[data-run='diverging'][data-tag='gradients'][data-step='{NAN_FROM}']").wait_for()
    assert frame.get_by_label("tensor", exact=True).input_value() == "fc2.weight"
    assert "ml-active" in frame.get_by_role("button", name="Training health").get_attribute("class")


def test_a_recall_drop_opens_its_confusion_matrix_and_hostile_names_stay_text(alerts_page):
    page, frame = alerts_page
    frame.get_by_role("cell", name=XSS_NAME).wait_for()
    frame.get_by_role("cell", name=CAT, exact=True).wait_for()
    row_of(frame, "val/confusion").get_by_role("button", name="open in Confusion matrices").click()
    run = json.dumps(XSS_NAME)
    frame.locator(f"{CONFUSION}[data-run={run}][data-tag='val/confusion'][data-step='3']").wait_for()
    assert frame.get_by_label("tag", exact=True).input_value() == "val/confusion"
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__modellens_xss") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    assert plugin_frame(page).evaluate("() => document.querySelectorAll('b').length") == 0


def test_an_auc_drop_opens_its_curves(alerts_page):
    _, frame = alerts_page
    link = row_of(frame, "val/curves").get_by_role("button")
    view = link.get_attribute("data-view")
    assert view == "curves"
    link.click()
    tab = frame.locator(".ml-tabs button[data-view='curves']")
    assert "ml-active" in tab.get_attribute("class")
    assert frame.get_by_label("run", exact=True).input_value() == "mlp"
    assert frame.get_by_label("tag", exact=True).input_value() == "val/curves"


def test_overfitting_links_to_time_series_in_the_top_window(alerts_page, alerts_server):
    page, frame = alerts_page
    link = row_of(frame, "val/accuracy").get_by_role("link", name="open in Time Series")
    assert link.get_attribute("target") == "_top"
    href = urlsplit(link.get_attribute("href"))
    assert f"{href.scheme}://{href.netloc}{href.path}" == alerts_server.url + "/"
    assert href.fragment == "timeseries"
    tag_filter = parse_qs(href.query)["tagFilter"][0]
    assert tag_filter.startswith("^(") and "val\\/accuracy" in tag_filter and "train\\/accuracy" in tag_filter
    link.click()
    page.wait_for_url("**#timeseries")
    # TensorBoard's own tab, filtered to the two accuracy tags
    page.get_by_text("val/accuracy", exact=True).first.wait_for()
    page.get_by_text("train/accuracy", exact=True).first.wait_for()


def test_csv_and_json_downloads_keep_names_exactly(alerts_page):
    page, frame = alerts_page
    with page.expect_download() as download_info:
        frame.get_by_role("button", name="download CSV").click()
    text = open(download_info.value.path(), encoding="utf-8", newline="").read()
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == 4 and records[0]["severity"] == "error"
    confusion_row = next(r for r in records if r["tag"] == "val/confusion")
    assert confusion_row["run"] == XSS_NAME and confusion_row["subject"] == CAT
    with page.expect_download() as download_info:
        frame.get_by_role("button", name="download JSON").click()
    body = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    assert len(body["alerts"]) == 4 and body["thresholds"]["recall_drop"] == 0.2
    assert {a["link"]["view"] for a in body["alerts"]} == {"distributions", "confusion", "curves", "timeseries"}


@pytest.mark.parametrize("color_scheme", ["dark"])
def test_dark_mode(alerts_page, color_scheme, alerts_server):
    page, frame = alerts_page
    plugin_frame(page).wait_for_function("document.body.classList.contains('ml-dark')")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"alerts_dark_{alerts_server.port}.png"))
