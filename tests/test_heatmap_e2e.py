"""End to end for the Tensors view: a real `tensorboard` (both data providers) on tensors written
with `Writer.tensor_heatmap` (known values with NaN and ±Inf over three steps in two runs, a conv
weight, a channel grid with a padding tile, a block-reduced 2048 × 2048 matrix, a hostile tag),
driven by headless Chromium.

The canvas publishes core's heatmap geometry on `canvas.dataset` (left, top, cellw, cellh) and
what it shows (run, tag, step, reduced, stat, compare, state).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import modellens
from harness import ARTIFACTS, TensorBoardProcess, dashboard, plugin_frame

CANVAS = "canvas[aria-label='tensor heatmap']"
STEPS = (0, 10, 20)
KNOWN = "weights/known"
CONV = "conv1.weight"
ACTS = "conv1:output"
BIG = "fc.weight (2048)"
NAN_CELL, POSINF_CELL, NEGINF_CELL = (1, 2), (3, 4), (5, 7)
BIG_NAN = (100, 200)  # in the 2048 × 2048 image: stored block (50, 100)
NAN_RGB, POSINF_RGB, NEGINF_RGB = (0, 200, 83), (255, 214, 0), (170, 0, 255)
# conftest's XSS_NAME without its double quotes: TensorBoard's Rust data server cannot read a blob
# of a tag holding '"' (its blob key is JSON parsed into a borrowed string: "failed to parse blob
# key"), so under load_fast=true such a tag has no readable step in any blob-sequence kind
XSS_TAG = "<img src=x onerror=window.__modellens_xss=1>"


def known(run_seed: int, step: int) -> np.ndarray:
    rng = np.random.default_rng(run_seed * 100 + step)
    x = (rng.standard_normal((6, 8)) * (1 + step / 10)).astype(np.float32)
    x[NAN_CELL] = np.nan
    x[POSINF_CELL] = np.inf
    x[NEGINF_CELL] = -np.inf
    return x


@pytest.fixture(scope="session")
def heatmap_logs(tmp_path_factory):
    """The logdir and ``{(run, tag, step): tensor}`` of what was written."""
    logdir = tmp_path_factory.mktemp("heatmap_logs")
    written: dict[tuple[str, str, int], np.ndarray] = {}
    rng = np.random.default_rng(7)
    for run, seed in (("tensors", 1), ("other", 2)):
        with modellens.Writer(logdir / run) as writer:
            for step in STEPS:
                written[(run, KNOWN, step)] = x = known(seed, step)
                writer.tensor_heatmap(KNOWN, x, step=step)
            if run != "tensors":
                continue
            written[(run, CONV, 0)] = conv = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
            writer.tensor_heatmap(CONV, conv, step=0)
            written[(run, ACTS, 0)] = acts = rng.standard_normal((2, 5, 4, 4)).astype(np.float32)
            writer.tensor_heatmap(ACTS, acts, step=0, layout="channels", batch_index=1)
            big = rng.standard_normal((2048, 2048)).astype(np.float32)
            big[BIG_NAN] = np.nan
            big[1500, 3] = np.inf
            written[(run, BIG, 0)] = big
            writer.tensor_heatmap(BIG, big, step=0)
            written[(run, XSS_TAG, 0)] = small = np.eye(3, dtype=np.float32)
            writer.tensor_heatmap(XSS_TAG, small, step=0)
    with modellens.Writer(logdir / "timing") as writer:
        writer.tensor_heatmap("exact 1024", rng.standard_normal((1024, 1024)).astype(np.float32), step=0)
        writer.tensor_heatmap("reduced 4096", rng.standard_normal((4096, 4096)).astype(np.float32), step=0)
    return logdir, written


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def heatmap_server(request, heatmap_logs):
    server = TensorBoardProcess(heatmap_logs[0], load_fast=request.param)
    try:
        server.wait_ready(route="heatmap/tags", runs=3)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["light"])
def color_scheme(request):
    return request.param


@pytest.fixture
def tensors(browser, heatmap_server, request, color_scheme):
    with dashboard(browser, heatmap_server.url, request.node.name, height=1300, color_scheme=color_scheme) as (
        page,
        frame,
    ):
        frame.get_by_role("button", name="Tensors").click()
        frame.locator(f"{CANVAS}[data-state='ready']").wait_for()
        yield page, frame


def show(frame, *, run: str, tag: str, step: int | None = None) -> None:
    frame.get_by_label("run", exact=True).select_option(run)
    frame.get_by_label("tag", exact=True).select_option(tag)
    wait_drawn(frame, run=run, tag=tag)
    if step is not None:
        go_to_step(frame, step)


def wait_drawn(frame, **dataset: str | int) -> None:
    kebab = lambda name: re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), name)  # noqa: E731 (dataset → attribute)
    selector = CANVAS + "".join(f"[data-{kebab(k)}={json.dumps(str(v))}]" for k, v in dataset.items())
    frame.locator(f"{selector}[data-state='ready']").wait_for(timeout=60_000)


def go_to_step(frame, step: int) -> None:
    slider = frame.get_by_label("step", exact=True)
    slider.focus()
    slider.press("Home")
    for _ in range(STEPS.index(step)):
        slider.press("ArrowRight")
    wait_drawn(frame, step=step)


def geometry(frame) -> dict:
    return frame.locator(CANVAS).evaluate(
        "c => ({left: +c.dataset.left, top: +c.dataset.top, w: +c.dataset.cellw, h: +c.dataset.cellh})"
    )


def centre(frame, row: int, column: int) -> tuple[float, float]:
    g = geometry(frame)
    return g["left"] + (column + 0.5) * g["w"], g["top"] + (row + 0.5) * g["h"]


def hover(frame, row: int, column: int) -> str:
    x, y = centre(frame, row, column)
    frame.locator(CANVAS).hover(position={"x": x, "y": y})
    tooltip = frame.get_by_role("tooltip")
    tooltip.wait_for()
    return tooltip.inner_text()


def pixel(frame, row: int, column: int) -> tuple[int, int, int]:
    x, y = centre(frame, row, column)
    return tuple(
        frame.locator(CANVAS).evaluate(
            "(c, [x, y]) => { const d = devicePixelRatio || 1;"
            " return Array.from(c.getContext('2d').getImageData(Math.floor(x * d), Math.floor(y * d), 1, 1).data.slice(0, 3)); }",
            [x, y],
        )
    )


def line(text: str, name: str) -> str:
    found = re.search(rf"^{re.escape(name)}: (.*)$", text, re.M)
    assert found, text
    return found.group(1)


def exactly_f32(shown: str, expected: np.float32) -> None:
    """The text reads back to the stored float32 and is numpy's shortest decimal of it."""
    assert np.float32(float(shown)) == expected, (shown, expected)
    assert float(shown) == float(str(expected)), (shown, str(expected))


def test_hover_reads_the_exact_value_and_index_and_nonfinite_cells_have_their_colours(tensors, heatmap_logs):
    page, frame = tensors
    _, written = heatmap_logs
    show(frame, run="tensors", tag=KNOWN, step=20)
    x = written[("tensors", KNOWN, 20)]
    for row, column in ((0, 0), (4, 6), (2, 7)):
        text = hover(frame, row, column)
        assert line(text, "index") == f"[{row}, {column}]"
        exactly_f32(line(text, "value"), x[row, column])
    assert line(hover(frame, *NAN_CELL), "value") == "NaN"
    assert line(hover(frame, *POSINF_CELL), "value") == "+Inf"
    assert line(hover(frame, *NEGINF_CELL), "value") == "−Inf"
    frame.locator(CANVAS).hover(position={"x": 5, "y": 5})  # off the cells: no outline
    assert pixel(frame, *NAN_CELL) == NAN_RGB
    assert pixel(frame, *POSINF_CELL) == POSINF_RGB
    assert pixel(frame, *NEGINF_CELL) == NEGINF_RGB
    legend = frame.locator(".ml-legend")
    for label, rgb in (("NaN (1)", NAN_RGB), ("+Inf (1)", POSINF_RGB), ("−Inf (1)", NEGINF_RGB)):
        item = legend.locator(".ml-swatch-item", has_text=label)
        assert item.locator(".ml-swatch").evaluate(
            "s => getComputedStyle(s).backgroundColor"
        ) == "rgb({}, {}, {})".format(*rgb)
    finite = x[np.isfinite(x)]
    bound = max(abs(float(finite.min())), abs(float(finite.max())))
    legend_text = legend.inner_text()
    assert f"−{bound:.4g}" in legend_text and f"{bound:.4g}" in legend_text.replace(f"−{bound:.4g}", "")  # ±b
    summary = frame.get_by_label("tensor summary").inner_text()
    assert "shape [6, 8] · float32 · matrix layout" in summary and "NaN 1 · +Inf 1 · −Inf 1" in summary
    assert f"{x.size} values" in summary


def test_kernel_and_channel_grids_map_back_to_the_tensor_index(tensors, heatmap_logs):
    _, frame = tensors
    _, written = heatmap_logs
    show(frame, run="tensors", tag=CONV)
    conv = written[("tensors", CONV, 0)]
    text = hover(frame, 3 * 3 + 2, 1 * 3 + 0)
    assert line(text, "index") == "[out=3, in=1, 2, 0]"
    exactly_f32(line(text, "value"), conv[3, 1, 2, 0])
    assert "kernels layout" in frame.get_by_label("tensor summary").inner_text()

    show(frame, run="tensors", tag=ACTS)
    acts = written[("tensors", ACTS, 0)]
    # 5 channels of 4 × 4 in a 3-column grid: channel 4 is grid row 1, column 1; (1, 2) is padding
    text = hover(frame, 4 + 2, 4 + 3)
    assert line(text, "index") == "[n=1, c=4, 2, 3]"
    exactly_f32(line(text, "value"), acts[1, 4, 2, 3])
    assert hover(frame, 5, 9).startswith("padding")
    frame.locator(".ml-legend").get_by_text("padding (no channel)").wait_for()


def test_a_2048_square_tensor_is_block_reduced_and_says_so(tensors, heatmap_logs):
    page, frame = tensors
    _, written = heatmap_logs
    show(frame, run="tensors", tag=BIG)
    big = written[("tensors", BIG, 0)]
    note = frame.get_by_label("reduction note")
    assert "block-reduced 2048×2048 → 1024×1024, 2×2 blocks: colour = block mean" in note.inner_text()
    wait_drawn(frame, reduced="true", storedRows=1024)
    # zoom about the block holding the NaN, then hover it
    block = (BIG_NAN[0] // 2, BIG_NAN[1] // 2)
    x, y = centre(frame, *block)
    frame.locator(CANVAS).hover(position={"x": x, "y": y})
    for _ in range(8):
        page.mouse.wheel(0, -400)
    assert geometry(frame)["w"] > 20
    text = hover(frame, *block)
    values = big[100:102, 200:202].astype(np.float64)
    finite = values[np.isfinite(values)]
    assert line(text, "block") == "rows 100–101, columns 200–201 of 2048×2048"
    assert line(text, "index") == "[100–101, 200–201]"
    assert float(line(text, "mean")) == pytest.approx(finite.mean(), rel=1e-6)
    assert np.float32(float(line(text, "min"))) == np.float32(finite.min())
    assert np.float32(float(line(text, "max"))) == np.float32(finite.max())
    assert line(text, "finite values") == "3 of 4"
    assert "NaN: 1 · +Inf: 0 · −Inf: 0" in text
    frame.locator(CANVAS).hover(position={"x": 5, "y": 5})
    assert pixel(frame, *block) == NAN_RGB  # a block holding a NaN is never hidden by its mean
    frame.get_by_label("block colour").select_option("max")
    wait_drawn(frame, stat="max")
    assert "colour = block max" in note.inner_text()
    summary = frame.get_by_label("tensor summary").inner_text()
    assert "4194304 values" in summary and "NaN 1 · +Inf 1 · −Inf 0" in summary


def test_play_steps_through_training_and_difference_against_a_step_and_a_run(tensors, heatmap_logs):
    _, frame = tensors
    _, written = heatmap_logs
    show(frame, run="tensors", tag=KNOWN, step=0)
    frame.get_by_role("button", name="play").click()
    wait_drawn(frame, step=20)  # play walks 0 → 10 → 20 and stops at the last step
    frame.get_by_text("step 20 (3 of 3)").wait_for()
    now = written[("tensors", KNOWN, 20)]
    frame.get_by_label("compare").select_option("step")
    frame.get_by_label("reference step").select_option("0")
    wait_drawn(frame, compare="step 0")
    before = written[("tensors", KNOWN, 0)]
    text = hover(frame, 4, 6)
    exactly_f32(line(text, "step 0 value"), before[4, 6])
    assert float(line(text, "difference")) == float(now[4, 6]) - float(before[4, 6])
    assert line(hover(frame, *NAN_CELL), "difference") == "n/a (NaN or ±Inf on a side)"
    frame.get_by_label("compare").select_option("run")
    frame.get_by_label("reference run").select_option("other")
    wait_drawn(frame, compare="run other, step 20")
    other = written[("other", KNOWN, 20)]
    text = hover(frame, 0, 1)
    exactly_f32(line(text, "run other, step 20 value"), other[0, 1])
    assert float(line(text, "difference")) == float(now[0, 1]) - float(other[0, 1])
    frame.locator(".ml-legend").get_by_text("not comparable (NaN/Inf on a side)").wait_for()


def test_navigation_opens_a_run_tag_and_step(tensors):
    page, frame = tensors
    plugin_frame(page).evaluate(
        "() => window.dispatchEvent(new CustomEvent('modellens-navigate',"
        " {detail: {view: 'heatmap', run: 'other', tag: 'weights/known', step: 10}}))"
    )
    wait_drawn(frame, run="other", tag=KNOWN, step=10)
    frame.get_by_text("step 10 (2 of 3)").wait_for()


def test_hostile_tag_stays_text_and_export(tensors):
    page, frame = tensors
    show(frame, run="tensors", tag=XSS_TAG)
    assert frame.get_by_label("tag", exact=True).locator("option:checked").inner_text() == XSS_TAG
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__modellens_xss") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    with page.expect_download() as download_info:
        frame.get_by_role("button", name="PNG").click()
    assert open(download_info.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as download_info:
        frame.get_by_role("button", name="SVG").click()
    svg = open(download_info.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and svg.count("<rect") == 9
    assert "&lt;img src=x" in svg and "<img" not in svg
    show(frame, run="tensors", tag=KNOWN)
    with page.expect_download() as download_info:
        frame.get_by_role("button", name="SVG").click()
    svg = open(download_info.value.path(), encoding="utf-8").read()
    assert svg.count("<rect") == 48 and "NaN (1)" in svg


@pytest.mark.parametrize("color_scheme", ["dark"])
def test_dark_mode(tensors, color_scheme, heatmap_server):
    page, frame = tensors
    plugin_frame(page).wait_for_function("document.body.classList.contains('ml-dark')")
    show(frame, run="tensors", tag=CONV)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"heatmap_conv_dark_{heatmap_server.port}.png"))
    show(frame, run="tensors", tag=KNOWN)
    assert pixel(frame, *NAN_CELL) == NAN_RGB


def test_draw_times_of_a_1024_exact_and_a_4096_reduced_tensor(tensors, heatmap_server):
    """Records (does not assert) data arrival → drawn for the two sizes of the issue."""
    page, frame = tensors
    found = {}
    for tag in ("exact 1024", "reduced 4096"):
        show(frame, run="timing", tag=tag)
        found[tag] = plugin_frame(page).evaluate(
            """() => {
              const draws = performance.getEntriesByName('modellens:draw-heatmap');
              const last = draws[draws.length - 1];
              const steps = performance.getEntriesByType('resource').filter(r => r.name.includes('heatmap/step'));
              const response = steps[steps.length - 1];
              return {arrival_to_drawn_ms: last.duration, shape_ms: last.detail.shape_ms, draw_ms: last.detail.draw_ms,
                      cells: last.detail.cells, reduced: last.detail.reduced,
                      response_end_to_drawn_ms: last.startTime + last.duration - response.responseEnd,
                      transfer_bytes: response.encodedBodySize, body_bytes: response.decodedBodySize};
            }"""
        )
        assert found[tag]["cells"] == 1024 * 1024
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"heatmap_draw_times_{heatmap_server.port}.json"
    (ARTIFACTS / name).write_text(json.dumps(found, indent=2))
    print(json.dumps(found))
