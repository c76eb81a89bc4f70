"""End to end for the Attention view: a real `tensorboard` (both data providers) on attention maps
written with `Writer.attention` (hostile tokens, three steps, two runs, and a 12 × 12 × 512-token
step), driven by headless Chromium.

The canvases publish their geometry on `canvas.dataset`: the grid (left, top, tile, gap), the
enlarged map (left, top, cellw, cellh, as core's heatmap) and the token view (token, lines, …).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import modellens
from conftest import XSS_NAME
from harness import TensorBoardProcess, dashboard, plugin_frame

GRID = "canvas[aria-label='attention grid']"
MAP = "canvas[aria-label='attention map']"
TOKENS_CANVAS = "canvas[aria-label='token view']"
TAG = "encoder/self"
STEPS = (0, 5, 10)
LAYERS, HEADS, LENGTH = 2, 4, 12
TOKENS = [
    "[CLS]",
    "<script>alert(1)</script>",
    XSS_NAME,
    "##ing",
    "Ġthe",
    "   ",
    "",
    "\u200b",
    "שלום",
    "😀",
    "\n",
    "[SEP]",
]
ISOLATES = str.maketrans("", "", "\u2068\u2069")
LONG, PEAK_QUERY, PEAK_KEY = 4096, 3000, 123


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture(scope="session")
def attention_logs(tmp_path_factory):
    """The logdir and ``{(run, step): weights}`` of what was written."""
    logdir = tmp_path_factory.mktemp("attention_logs")
    written = {}
    for run, seed in (("hostile", 1), ("other", 2)):
        rng = np.random.default_rng(seed)
        with modellens.Writer(logdir / run) as writer:
            for step in STEPS:
                weights = softmax(rng.normal(size=(LAYERS, HEADS, LENGTH, LENGTH)) * (1 + step / 3)).astype(np.float32)
                writer.attention(TAG, weights, tokens=TOKENS, step=step, layer_names=[f"encoder.{i}" for i in range(2)])
                written[(run, step)] = weights
    rng = np.random.default_rng(3)
    with modellens.Writer(logdir / "wide") as writer:  # 12 layers × 12 heads at 512 tokens
        weights = softmax(rng.normal(size=(12, 12, 512, 512)).astype(np.float32) * 3)
        writer.attention(TAG, weights, tokens=[f"t{i}" for i in range(512)], step=0)
    with modellens.Writer(logdir / "long") as writer:  # one head at 4,096 tokens, one planted peak
        logits = rng.normal(size=(LONG, LONG)).astype(np.float32)
        logits[PEAK_QUERY, PEAK_KEY] = 12
        weights = softmax(logits).astype(np.float32)
        writer.attention(TAG, weights, tokens=[f"w{i}" for i in range(LONG)], step=0)
        written[("long", 0)] = weights
    return logdir, written


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def attention_server(request, attention_logs):
    server = TensorBoardProcess(attention_logs[0], load_fast=request.param)
    try:
        server.wait_ready(route="attention/tags", runs=4)
        yield server
    finally:
        server.stop()


@pytest.fixture
def attention_view(browser, attention_server, request):
    with dashboard(browser, attention_server.url, request.node.name, height=1400) as (page, frame):
        frame.get_by_role("button", name="Attention").click()
        yield page, frame


def show(frame, run: str, step: int | None = None) -> None:
    frame.get_by_label("run", exact=True).select_option(run)
    step_filter = f"[data-step='{step}']" if step is not None else ""
    frame.locator(f"{GRID}[data-state='ready'][data-run='{run}']{step_filter}").wait_for()
    frame.locator(f"{MAP}[data-state='ready'][data-run='{run}']{step_filter}").wait_for()


def dataset(frame, selector: str) -> dict:
    return frame.locator(selector).evaluate("c => ({...c.dataset})")


def click_tile(frame, layer: int, head: int) -> None:
    d = dataset(frame, GRID)
    left, top, tile, gap = (float(d[k]) for k in ("left", "top", "tile", "gap"))
    frame.locator(GRID).click(
        position={"x": left + head * (tile + gap) + tile / 2, "y": top + layer * (tile + gap) + tile / 2}
    )
    frame.locator(f"{MAP}[data-layer='{layer}'][data-head='{head}']").wait_for()


def hover_cell(frame, row: int, column: int) -> str:
    d = dataset(frame, MAP)
    left, top, width, height = (float(d[k]) for k in ("left", "top", "cellw", "cellh"))
    frame.locator(MAP).hover(position={"x": left + (column + 0.5) * width, "y": top + (row + 0.5) * height})
    tooltip = frame.get_by_role("region", name="enlarged map").get_by_role("tooltip")
    tooltip.wait_for()
    return tooltip.inner_text().translate(ISOLATES)


def visible(token: str) -> str:
    """What the view shows for a token (frontend shape.ts visibleToken, for these tokens)."""
    if token == "":
        return "∅"
    shown = token.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥")
    return shown.replace("\u200b", "⟨U+200B⟩")


def weight_and_bound(text: str) -> tuple[float, float]:
    weight = float(re.search(r"^weight: (\S+)", text, re.M).group(1))
    bound = float(re.search(r"^row bound: ± (\S+)", text, re.M).group(1))
    return weight, bound


def test_tooltip_weight_step_slider_token_view_and_hostile_tokens(attention_view, attention_logs):
    page, frame = attention_view
    _, written = attention_logs
    show(frame, "hostile", step=10)  # follows the latest step
    click_tile(frame, 1, 2)
    truth = written[("hostile", 10)][1, 2]
    query = 3
    key = int(np.argmax(truth[query]))
    text = hover_cell(frame, query, key)
    assert f"query {query}: {visible(TOKENS[query])}" in text
    assert f"key {key}: {visible(TOKENS[key])}" in text
    weight, bound = weight_and_bound(text)
    assert bound == pytest.approx(truth[query].max() / 510, rel=1e-4)
    assert abs(weight - truth[query, key]) <= bound + 1e-6

    slider = frame.get_by_label("step", exact=True)
    slider.focus()
    slider.press("Home")
    frame.locator(f"{MAP}[data-step='0'][data-layer='1'][data-head='2']").wait_for()
    frame.locator(f"{GRID}[data-step='0']").wait_for()
    before = written[("hostile", 0)][1, 2]
    earlier, bound = weight_and_bound(hover_cell(frame, query, key))
    assert abs(earlier - before[query, key]) <= bound + 1e-6
    assert abs(earlier - weight) > 2 * bound, "the map changed with the step"

    # the token view: the hostile token as a query, its lines to every key of head 2 of layer 1
    frame.get_by_label("token", exact=True).select_option("2")
    frame.locator(f"{TOKENS_CANVAS}[data-token='2'][data-layer='1'][data-heads='2']").wait_for()
    lines = int(dataset(frame, TOKENS_CANVAS)["lines"])
    share = before[2] / before[2].max()  # lines under 1 % of the strongest are not drawn (± quantization)
    assert int((share >= 0.012).sum()) <= lines <= int((share >= 0.008).sum())
    option = frame.get_by_label("token", exact=True).locator("option[value='2']")
    assert option.inner_text().translate(ISOLATES) == f"#2 {visible(XSS_NAME)}"
    frame.get_by_label("direction").select_option("key")
    frame.locator(f"{TOKENS_CANVAS}[data-direction='key'][data-token='0']").wait_for()
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__modellens_xss") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0

    with page.expect_download() as download:
        frame.get_by_role("button", name="map SVG").click()
    svg = open(download.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and svg.count("<rect") == LENGTH * LENGTH
    assert "&lt;img␣src=x" in svg and "<img" not in svg and "<script" not in svg
    with page.expect_download() as download:
        frame.get_by_role("button", name="grid PNG").click()
    assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_difference_against_another_run_and_head_scores(attention_view, attention_logs):
    _, frame = attention_view
    _, written = attention_logs
    show(frame, "hostile", step=10)
    frame.get_by_label("compare").select_option("run")
    frame.get_by_label("reference run").select_option("other")
    frame.locator(f"{MAP}[data-compare='run other, step 10']").wait_for()
    frame.locator(f"{GRID}[data-compare='run other, step 10']").wait_for()
    now, then = written[("hostile", 10)][0, 0], written[("other", 10)][0, 0]
    text = hover_cell(frame, 4, 5)
    assert "run other, step 10: " in text
    shown = float(re.search(r"^difference: (\S+)", text, re.M).group(1))
    bound = now[4].max() / 510 + then[4].max() / 510
    assert abs(shown - (now[4, 5] - then[4, 5])) <= bound + 1e-6

    # head scores: sort by entropy (lowest first), a click opens that head
    frame.get_by_role("table", name="head scores").locator("th[data-key='entropy']").click()
    first = frame.get_by_role("table", name="head scores").locator("tbody tr").first
    layer, head = (int(v) for v in re.match(r"(\d+) .*?\t(\d+)\t", first.inner_text()).groups())
    first.click()
    frame.locator(f"{MAP}[data-layer='{layer}'][data-head='{head}']").wait_for()


def test_a_12_by_12_grid_at_512_tokens_draws(attention_view):
    """Drawn in full (its time is bench/attention_browser.py's, not a test's)."""
    page, frame = attention_view
    show(frame, "wide")
    state = dataset(frame, GRID)
    assert (state["layers"], state["heads"], state["rollout"]) == ("12", "12", "1")
    assert plugin_frame(page).evaluate("() => performance.getEntriesByName('modellens:draw-attention').length")
    assert dataset(frame, MAP)["rows"] == "512"
    assert "query 7: t7" in hover_cell(frame, 7, 9)


def test_one_head_at_4096_tokens_reads_its_exact_top_keys(attention_view, attention_logs):
    """The overview is the block-averaged map; the row zoom gives a query row's exact top keys."""
    _, frame = attention_view
    show(frame, "long")
    state = dataset(frame, MAP)
    assert (state["rows"], state["rowBlock"]) == ("512", "8")
    zoom = frame.get_by_role("region", name="row zoom")
    query_row = zoom.get_by_label("query row")
    query_row.fill(str(PEAK_QUERY))
    query_row.dispatch_event("change")
    row = zoom.locator(f"tr[data-query='{PEAK_QUERY}']")
    row.wait_for()
    first = row.locator(".ml-topk-key").first
    assert first.get_attribute("data-key") == str(PEAK_KEY)
    assert f"w{PEAK_KEY}" in first.inner_text()
    shown = float(first.locator("span").last.inner_text())
    exact = float(attention_logs[1][("long", 0)][PEAK_QUERY, PEAK_KEY])
    assert shown == pytest.approx(exact, rel=1e-5)
