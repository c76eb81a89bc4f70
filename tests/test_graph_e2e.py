"""End to end for the Structure view: a real `tensorboard` (both data providers) on a small torch
model trained a few steps under `modellens.torch.watch` and logged with `Writer.graph`, driven by
headless Chromium; and expand all on a synthetic 10k-module graph, in the layout worker.

The canvas publishes its state on `canvas.dataset` (state, visible, colorBy, …) and
`canvas.locate(path)` gives a visible node's box in CSS pixels of the canvas.
"""

from __future__ import annotations

import re
import time

import pytest
import torch
from playwright.sync_api import expect
from torch import nn

import modellens
from harness import TensorBoardProcess, dashboard, plugin_frame

CANVAS = "canvas[aria-label='model structure graph']"
# torch refuses "." in a module name, so the handler sets the global without "window."
XSS_NAME = "<img src=x onerror=__pwned=1>"
TRAIN_STEPS = 4


class Block(nn.Module):
    def __init__(self, d: int = 8) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d, 2 * d)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(2 * d, d)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.blocks = nn.Sequential(Block(), Block(), Block())
        self.head = nn.Linear(8, 3)
        self.add_module(XSS_NAME, nn.Linear(2, 2))

    def forward(self, x):
        h = self.blocks(self.embed(x))
        return self.head(h) + getattr(self, XSS_NAME)(h[:, :2]).sum()


def synthetic_10k() -> modellens.graph.Graph:
    """20 stages × 10 groups × 10 residual blocks (fc1, act, fc2 and an add): 10,222 nodes."""
    b = modellens.graph.GraphBuilder("torch", "Synthetic10k")
    shape = ("float32", (2, 8))
    previous = b.add("input", "x", "Input")
    for s in range(20):
        stage = b.add("module", f"stage{s}", "Stage")
        for g in range(10):
            group = b.add("module", f"group{g}", "Group", parent=stage)
            for k in range(10):
                block = b.add("module", f"block{k}", "Residual", parent=group)
                fc1 = b.add("module", "fc1", "Linear", parent=block, params=72)
                act = b.add("module", "act", "ReLU", parent=block)
                fc2 = b.add("module", "fc2", "Linear", parent=block, params=72)
                add = b.add("op", "add", "add", parent=block)
                for src, dst in ((previous, fc1), (fc1, act), (act, fc2), (fc2, add), (previous, add)):
                    b.edge(src, dst, shape)
                previous = add
    b.edge(previous, b.add("output", "out", "Output"), shape)
    return b.build("calls")


@pytest.fixture(scope="session")
def graph_logs(tmp_path_factory):
    """The logdir, the trained model and the real output shape of every module on the input."""
    logdir = tmp_path_factory.mktemp("graph_logs")
    torch.manual_seed(0)
    model = Net()
    x = torch.randn(2, 4)
    shapes = {}
    hooks = [
        m.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
        for name, m in model.named_modules()
    ]
    model(x)
    for hook in hooks:
        hook.remove()
    with modellens.Writer(logdir / "mlp") as writer:
        writer.graph(model, x)
        handle = modellens.torch.watch(model, writer, every=1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for _ in range(TRAIN_STEPS):
            optimizer.zero_grad()
            model(torch.randn(2, 4)).pow(2).mean().backward()
            optimizer.step()
        handle.remove()
    with modellens.Writer(logdir / "wide_10k") as writer:
        writer.graph(synthetic_10k())
    with modellens.Writer(logdir / "surgery") as writer:  # a model changed between two steps
        changed = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        writer.graph(changed, torch.zeros(2, 4), step=0)
        changed[2] = nn.Linear(8, 5)
        writer.graph(changed, torch.zeros(2, 4), step=7)
    keras_functional(logdir / "keras_functional")
    return logdir, model, shapes


def keras_functional(logdir) -> None:
    """A Keras Functional model with two inputs, a shared layer and a keras.ops add."""
    import keras

    left, right = keras.Input((6,), name="left"), keras.Input((6,), name="right")
    shared = keras.layers.Dense(4, name="shared")
    merged = keras.layers.Add(name="merge")([shared(left), shared(right)])
    model = keras.Model([left, right], keras.layers.Dense(2, name="head")(merged), name="siamese")
    with modellens.Writer(logdir) as writer:
        writer.graph(model)


@pytest.fixture(scope="session", params=[True, False], ids=["load_fast=true", "load_fast=false"])
def graph_server(request, graph_logs):
    server = TensorBoardProcess(graph_logs[0], load_fast=request.param)
    try:
        server.wait_ready(route="graph/tags", runs=4)
        server.wait_ready(route="distributions/tags", runs=1)
        yield server
    finally:
        server.stop()


@pytest.fixture
def structure(browser, graph_server, request):
    with dashboard(browser, graph_server.url, request.node.name, height=1100) as (page, frame):
        frame.get_by_role("button", name="Structure").click()
        frame.get_by_label("run", exact=True).select_option("mlp")
        wait_ready(frame, run="mlp")
        yield page, frame


def wait_ready(frame, run: str | None = None, timeout: float = 30.0) -> None:
    selector = f"{CANVAS}[data-state='ready']" + (f"[data-run='{run}']" if run else "")
    frame.locator(selector).wait_for(timeout=timeout * 1000)


def dataset(frame) -> dict:
    return frame.locator(CANVAS).evaluate("c => ({...c.dataset})")


def locate(frame, path: str) -> dict | None:
    return frame.locator(CANVAS).evaluate("(c, path) => c.locate(path)", path)


def click_node(frame, path: str) -> None:
    """Clicks a visible node near its top left (an open group's title bar), fitting the view
    first when the node is out of it."""
    box = locate(frame, path)
    assert box, f"{path} is not visible"
    canvas = frame.locator(CANVAS).bounding_box()
    if not (0 <= box["x"] + 6 < canvas["width"] and 0 <= box["y"] + 6 < canvas["height"]):
        frame.get_by_role("button", name="fit", exact=True).click()
        box = locate(frame, path)
    frame.locator(CANVAS).click(position={"x": box["x"] + 6, "y": box["y"] + 6})


def properties(frame) -> dict[str, str]:
    frame.get_by_role("table", name="node properties").wait_for()
    return frame.get_by_role("region", name="node details").evaluate(
        "s => Object.fromEntries([...s.querySelectorAll('table[aria-label=\"node properties\"] tr')]"
        ".map(r => [r.cells[0].textContent, r.cells[1].textContent]))"
    )


def details_title(frame) -> str:
    return frame.get_by_role("region", name="node details").locator("h2").first.inner_text()


def wait_title(frame, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while details_title(frame) != text:
        assert time.monotonic() < deadline, details_title(frame)
        time.sleep(0.05)


def test_expand_details_search_and_health_colour(structure, graph_logs):
    _, model, shapes = graph_logs
    page, frame = structure
    top = int(dataset(frame)["visible"])
    assert locate(frame, "blocks") and locate(frame, "blocks.0") is None  # opens collapsed

    click_node(frame, "blocks")  # a collapsed group opens on click
    wait_ready(frame)
    frame.locator(f"{CANVAS}[data-visible='{top + 3}']").wait_for()
    click_node(frame, "blocks.1")
    wait_title(frame, "blocks.1")
    props = properties(frame)
    total = int(re.match(r"[\d,]+", props["total parameters"]).group().replace(",", ""))
    assert total == sum(p.numel() for p in model.blocks[1].parameters())
    assert props["outputs"] == f"[{', '.join(map(str, shapes['blocks.1']))}] float32"
    assert props["repeated"] == "×3 identical among its siblings"

    search = frame.get_by_label("search", exact=True)
    search.fill("fc2")
    frame.get_by_text("3 matches").wait_for()
    search.press("Enter")
    wait_title(frame, "blocks.0.fc2")
    frame.get_by_role("button", name="next match").click()
    wait_title(frame, "blocks.1.fc2")
    box, canvas = locate(frame, "blocks.1.fc2"), frame.locator(CANVAS).bounding_box()
    assert 0 <= box["x"] and box["x"] + box["w"] <= canvas["width"], "centred on the match"
    assert properties(frame)["total parameters"].startswith(f"{model.blocks[1].fc2.weight.numel() + 8} (")

    before = locate(frame, "head")["fill"]
    frame.get_by_label("colour by").select_option("grad_norm")
    frame.locator(f"{CANVAS}[data-color-by='grad_norm']").wait_for()
    legend = frame.locator(".ml-legend")
    assert re.search(r"gradient norm at step \d+", legend.inner_text()) and "(log scale)" in legend.inner_text()
    assert locate(frame, "head")["fill"] != before
    click_node(frame, "head")
    wait_title(frame, "head")
    stats = frame.get_by_role("table", name="parameter statistics")
    row = stats.locator("tr", has=frame.locator("button[data-tensor='head.weight']"))
    gradient = float(row.get_by_role("cell").nth(2).inner_text())
    assert gradient > 0
    durations = plugin_frame(page).evaluate(
        "() => performance.getEntriesByName('modellens:layout-graph').map(e => e.duration)"
    )
    assert durations and max(durations) < 5000


def test_hostile_name_export_and_link_to_training_health(structure):
    page, frame = structure
    click_node(frame, XSS_NAME)
    wait_title(frame, XSS_NAME)
    for target in (page, plugin_frame(page)):
        assert target.evaluate("() => window.__pwned") is None
        assert target.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    assert plugin_frame(page).evaluate("() => document.querySelectorAll('img').length") == 0

    with page.expect_download() as download:
        frame.get_by_role("button", name="PNG").click()
    assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as download:
        frame.get_by_role("button", name="SVG").click()
    svg = open(download.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and "&lt;img src=x" in svg and "<img" not in svg

    link = frame.get_by_role("region", name="node details").locator(f"button[data-tensor='{XSS_NAME}.weight']")
    link.click()
    frame.locator("canvas[aria-label='training health heatmap'][data-run='mlp'][data-tag='gradients']").wait_for()
    expect(frame.get_by_label("tensor", exact=True)).to_have_value(f"{XSS_NAME}.weight")
    expect(frame.locator(".ml-detail h2")).to_have_text(f"{XSS_NAME}.weight")


MONITOR = """() => {
  window.__gaps = [];
  let last = performance.now();
  window.__watching = true;
  const tick = (t) => { window.__gaps.push(t - last); last = t; if (window.__watching) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""


def test_expand_all_on_10k_modules_runs_in_the_worker_and_can_be_cancelled(browser, graph_server, request):
    if "load_fast=false" in request.node.name:
        pytest.skip("one data provider is enough for the layout worker")
    with dashboard(browser, graph_server.url, request.node.name, height=1000) as (page, frame):
        frame.get_by_role("button", name="Structure").click()
        frame.get_by_label("run", exact=True).select_option("wide_10k")
        wait_ready(frame, run="wide_10k")
        shown = dataset(frame)
        assert shown["worker"] == "worker" and int(shown["visible"]) == 22
        inner = plugin_frame(page)
        inner.evaluate(MONITOR)

        frame.get_by_role("button", name="expand all").click()
        progress = frame.locator(".ml-progress progress")
        progress.wait_for()
        deadline = time.monotonic() + 30
        while not progress.evaluate("p => p.hasAttribute('value') && p.value > 0"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert "expand all" in frame.locator(".ml-progress").inner_text()
        frame.get_by_role("button", name="Cancel").click()
        wait_ready(frame)
        assert dataset(frame)["visible"] == "22", "cancelling keeps what was shown"

        started = time.monotonic()
        frame.get_by_role("button", name="expand all").click()
        frame.locator(f"{CANVAS}[data-state='ready'][data-visible='10222']").wait_for(timeout=90_000)
        elapsed = time.monotonic() - started
        inner.evaluate("() => window.__watching = false")
        gaps = inner.evaluate("() => window.__gaps")
        assert len(gaps) > 10 and max(gaps) < 250, f"longest frame gap {max(gaps):.0f} ms"
        state = dataset(frame)
        assert int(state["edges"]) == 10001 and float(state["frameMs"]) < 250
        print(f"expand all: {elapsed:.1f} s, layout {state['layoutMs']} ms, longest gap {max(gaps):.0f} ms")


def test_a_keras_graph_and_a_graph_logged_at_two_steps(structure):
    page, frame = structure
    frame.get_by_label("run", exact=True).select_option("keras_functional")
    wait_ready(frame, run="keras_functional")
    for path in ("left", "right", "shared", "shared@1", "merge", "head"):
        assert locate(frame, path), path
    click_node(frame, "shared@1")
    wait_title(frame, "shared@1")
    props = properties(frame)
    assert props["type"] == "Dense" and props["calls"] == "call 2 of 2"
    assert props["total parameters"].startswith("28 (")  # 6 × 4 + 4, the same weights as call 1

    frame.get_by_label("run", exact=True).select_option("surgery")
    wait_ready(frame, run="surgery")
    graph_step = frame.get_by_role("slider", name="graph step")
    expect(graph_step).to_have_attribute("max", "1")
    graph_step.fill("0")
    frame.locator(f"{CANVAS}[data-state='ready'][data-step='0']").wait_for()
    click_node(frame, "2")
    wait_title(frame, "2")
    assert properties(frame)["outputs"] == "[2, 3] float32"
    graph_step.fill("1")
    frame.locator(f"{CANVAS}[data-state='ready'][data-step='7']").wait_for()
    click_node(frame, "2")
    frame.get_by_role("table", name="node properties").get_by_text("[2, 5] float32").wait_for()
