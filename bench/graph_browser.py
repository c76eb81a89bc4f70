"""Browser: the Structure view in headless Chromium on a real TensorBoard (``--load_fast=true``).

Graphs, written with ``Writer.graph`` into a temporary logdir: Hugging Face BERT-large from its
config (24 layers, hidden 1024, sequence 128, random weights) and the synthetic model of 10,000
leaf modules of ``graph_capture.py``. The peer is TensorBoard's own Graphs tab on the same
BERT-large, written by torch's ``SummaryWriter.add_graph(model, (ids, mask), use_strict_trace=False)``
into another run.

- First view of BERT-large (goal ≤ 1 s): (a) with the ModelLens tab open, the click on
  "Structure" to the graph drawn (``data-first-draw-ms`` set: tags, series and graph fetched,
  decoded, laid out in the worker and drawn); (b) from the navigation to ``/#modellens`` (the
  page's ``performance.timeOrigin``) to the same point, the click on "Structure" included as soon
  as the button is there. Peer: navigation to ``/#graphs&run=<run>`` until the first
  ``g.node`` exists in ``tf-graph-scene``'s shadow root (polled every animation frame).
- Opening one group of BERT-large (goal ≤ 200 ms): ``encoder`` (its 24 layers appear) and then
  ``encoder.layer.0``, clicked on the canvas: the view's own ``data-layout-ms`` and the wall time
  from the pointer release to ``data-state=ready`` and to the next animation frame (the new scene
  drawn).
- 10k graph: "expand all" in the layout worker (goal: no frame over 100 ms), from the click to
  ``data-state=ready``, with the longest gap between ``requestAnimationFrame`` callbacks of a loop
  running in the plugin frame from the click until 300 ms after the result is drawn. Then pan
  frames (goal ≤ 33 ms): 40 drag steps of ``page.mouse`` (one animation frame each), each frame's
  ``data-frame-ms`` (the draw call's duration), fully zoomed out (fit), and zoomed in ("zoom in",
  ×1.25 a step) until at most 12,000 nodes are in view (``data-drawn``), i.e. still over 10k.

Every page load is a fresh browser context, after one unmeasured warm-up load of each kind.
Times are taken in the page (``performance.timeOrigin + performance.now()`` recorded by a
``MutationObserver`` on the canvas's ``data-*`` state and by capture-phase listeners for the
clicks), so Playwright's own round trips are not included, except in (b), where its click on
"Structure" is part of the path (its delay after the button shows is reported). Medians of ``LOADS`` loads (``EXPAND_ALL_RUNS`` for expand all,
3 if one takes over 5 s).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from graph_capture import bert_large, synthetic_10k  # noqa: E402

from common import percentiles, table  # noqa: E402
from harness import PLUGIN_IFRAME, TensorBoardProcess, launch_chromium, plugin_frame  # noqa: E402

LOADS = 5
EXPAND_ALL_RUNS = 5
PAN_STEPS = 40
CANVAS = "canvas[aria-label='model structure graph']"
ML_RUN, TB_RUN, WIDE_RUN = "bert_large", "bert_large_tb", "wide_10k"

# In the plugin frame, from its first script on: clicks (capture phase, before the view's own
# handlers), every "ready" (with the animation frame after it, which draws the new scene), the
# first draw and every frame drawn, on one clock (epoch ms) shared with the top page.
INIT_SCRIPT = """(() => {
  if (!location.href.includes('plugin_entry')) return;
  const now = () => performance.timeOrigin + performance.now();
  const log = (window.__bench = { clicks: [], ready: [], frames: [], ticks: [], firstDraw: null, tab: 0 });
  const tab = new MutationObserver(() => {
    if (document.querySelector('button[data-view="graph"]')) { log.tab = now(); tab.disconnect(); }
  });
  tab.observe(document, { subtree: true, childList: true });
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('button');
    if (b) log.clicks.push({ text: b.textContent, t: now() });
  }, true);
  document.addEventListener('pointerup', (e) => {
    if (e.target.localName === 'canvas') log.clicks.push({ text: 'canvas', t: now() });
  }, true);
  new MutationObserver((records) => {
    for (const r of records) {
      const c = r.target.dataset;
      if (r.attributeName === 'data-state' && c.state === 'ready') {
        const entry = { t: now(), visible: +c.visible, layoutMs: +c.layoutMs, run: c.run, painted: 0 };
        log.ready.push(entry);
        requestAnimationFrame(() => { entry.painted = now(); });
      } else if (r.attributeName === 'data-first-draw-ms') {
        log.firstDraw = { t: now(), ms: +c.firstDrawMs };
      } else if (r.attributeName === 'data-frame-ms') {
        log.frames.push({ t: now(), ms: +c.frameMs, drawn: +c.drawn });
      }
    }
  }).observe(document, { subtree: true, attributes: true,
                         attributeFilter: ['data-state', 'data-first-draw-ms', 'data-frame-ms'] });
})()"""

TICKS = """() => {
  const log = window.__bench;
  log.watching = true;
  const tick = () => { log.ticks.push(performance.timeOrigin + performance.now()); if (log.watching) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""

NEXT_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"

# TensorBoard's Graphs tab: the first node of the scene, looked for on every animation frame.
TB_DRAWN = """() => new Promise((resolve, reject) => {
  const deep = (root) => {
    for (const e of root.querySelectorAll('*')) {
      if (e.localName === 'tf-graph-scene') return e;
      const found = e.shadowRoot && deep(e.shadowRoot);
      if (found) return found;
    }
    return null;
  };
  let scene = null;
  let ticks = 0;
  const tick = () => {
    ticks++;
    scene = scene || deep(document);
    const nodes = scene && scene.shadowRoot ? scene.shadowRoot.querySelectorAll('g.node') : [];
    if (nodes.length) resolve({ t: performance.now(), nodes: nodes.length, ticks });
    else requestAnimationFrame(tick);
  };
  setTimeout(() => reject(new Error('no g.node in tf-graph-scene after 90 s')), 90000);
  tick();
})"""


def write_logs(logdir: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    import modellens

    model, inputs = bert_large()
    with modellens.Writer(logdir / ML_RUN) as writer:
        writer.graph(model, inputs)
    torch_writer = SummaryWriter(str(logdir / TB_RUN))
    torch_writer.add_graph(model, (inputs["input_ids"], inputs["attention_mask"]), use_strict_trace=False)
    torch_writer.close()
    wide, x = synthetic_10k()
    with modellens.Writer(logdir / WIDE_RUN) as writer:
        writer.graph(wide, x)


def wait_for_tb_graph(server: TensorBoardProcess, timeout: float = 120.0) -> None:
    """The data server loads runs in the background: wait until the Graphs tab lists the run."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/data/plugin/graphs/info", timeout=10) as response:
                if json.loads(response.read()).get(TB_RUN, {}).get("run_graph"):
                    return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Graphs tab does not list {TB_RUN}")
        time.sleep(0.5)


class Page:
    """A fresh browser context with one page, the recorder installed in every plugin frame."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.add_init_script(INIT_SCRIPT)
        self.page = self.context.new_page()
        self.frame = self.page.frame_locator(PLUGIN_IFRAME)
        self.canvas = self.frame.locator(CANVAS)

    def open_modellens(self, url: str) -> None:
        self.page.goto(url + "/#modellens")
        self.frame.get_by_role("button", name="Structure").wait_for(timeout=60_000)
        self.inner = plugin_frame(self.page)

    def log(self) -> dict:
        return self.inner.evaluate("() => window.__bench")

    def last_click(self, text: str) -> float:
        return [c["t"] for c in self.log()["clicks"] if c["text"] == text][-1]

    def structure(self) -> dict:
        """Clicks "Structure"; the first draw (time and ``data-first-draw-ms``) and the click time."""
        self.frame.get_by_role("button", name="Structure").click()
        self.inner.wait_for_function("() => window.__bench.firstDraw", timeout=60_000)
        log = self.log()
        return {"click": [c["t"] for c in log["clicks"] if c["text"] == "Structure"][-1], **log["firstDraw"]}

    def ready_after(self, since: float, timeout: float = 60.0) -> dict:
        """The first "ready" after ``since`` (epoch ms), once its scene is drawn."""
        script = "s => window.__bench.ready.find(r => r.t > s && r.painted)"
        return self.inner.wait_for_function(script, arg=since, timeout=timeout * 1000).json_value()

    def click_group(self, path: str) -> dict:
        """Opens a collapsed group by clicking it (fitting the view first if it is out of it)."""
        box = self.canvas.evaluate("(c, p) => c.locate(p)", path)
        size = self.canvas.bounding_box()
        if not box or not (0 <= box["x"] + 6 < size["width"] and 0 <= box["y"] + 6 < size["height"]):
            self.frame.get_by_role("button", name="fit", exact=True).click()
            self.inner.evaluate(NEXT_FRAME)
            box = self.canvas.evaluate("(c, p) => c.locate(p)", path)
        assert box, f"{path} is not visible"
        self.canvas.click(position={"x": box["x"] + 6, "y": box["y"] + 6})
        click = self.last_click("canvas")
        ready = self.ready_after(click)
        return {
            "layout": ready["layoutMs"],
            "ready": ready["t"] - click,
            "drawn": ready["painted"] - click,
            "visible": ready["visible"],
        }

    def pan(self) -> list[dict]:
        """``PAN_STEPS`` horizontal drag steps across the canvas, one frame each: the frames drawn."""
        box = self.canvas.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        offsets = [*range(1, 11), *range(9, -11, -1), *range(-9, 1)][:PAN_STEPS]
        mouse = self.page.mouse
        mouse.move(x, y)
        self.inner.evaluate(NEXT_FRAME)
        start = self.log()["frames"][-1]["t"] if self.log()["frames"] else 0
        mouse.down()
        for step in offsets:
            mouse.move(x + 12 * step, y)
            self.inner.evaluate(NEXT_FRAME)
        end = self.inner.evaluate("() => performance.timeOrigin + performance.now()")
        mouse.up()
        return [f for f in self.log()["frames"] if start < f["t"] <= end]

    def close(self) -> None:
        self.context.close()


def bert_first_view(browser, url: str) -> dict:
    """(a) and the two expansions on one fresh load."""
    page = Page(browser)
    try:
        page.open_modellens(url)
        page.page.wait_for_timeout(1000)  # the tab settled: the Confusion view has fetched its tags
        first = page.structure()
        encoder = page.click_group("encoder")
        layer = page.click_group("encoder.layer.0")
        return {"click": first["t"] - first["click"], "first_draw_ms": first["ms"], "encoder": encoder, "layer": layer}
    finally:
        page.close()


def bert_navigation(browser, url: str) -> dict:
    """(b): navigation to the Structure view drawn, the click on "Structure" included."""
    page = Page(browser)
    try:
        page.open_modellens(url)
        first = page.structure()
        origin = page.page.evaluate("() => performance.timeOrigin")
        tab = page.log()["tab"]
        return {"total": first["t"] - origin, "to_tab": tab - origin, "playwright": first["click"] - tab}
    finally:
        page.close()


def tb_graphs(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/#graphs&run={TB_RUN}", wait_until="commit")
        drawn = page.evaluate(TB_DRAWN)
        assert drawn["ticks"] > 1, "the Graphs tab was drawn before it was watched"
        requested = page.evaluate(
            "() => performance.getEntriesByType('resource').find(e => e.name.includes('/graphs/graph?')).startTime"
        )
        return {**drawn, "graph": drawn["t"] - requested}
    finally:
        context.close()


def wide_expand_all(browser, url: str, pan: bool) -> dict:
    page = Page(browser)
    try:
        page.open_modellens(url)
        page.structure()
        page.frame.get_by_label("run", exact=True).select_option(WIDE_RUN)
        page.inner.wait_for_function(
            "r => window.__bench.ready.some(e => e.run === r && e.painted)", arg=WIDE_RUN, timeout=60_000
        )
        page.inner.evaluate(TICKS)
        page.frame.get_by_role("button", name="expand all").click()
        click = page.last_click("expand all")
        ready = page.ready_after(click, timeout=180)
        page.page.wait_for_timeout(300)
        page.inner.evaluate("() => { window.__bench.watching = false; }")
        log = page.log()
        ticks = log["ticks"]
        window = [t for t in ticks if click <= t <= ready["painted"] + 300]
        before = [t for t in ticks if t < click][-1:]
        gaps = (
            [b - a for a, b in zip(before + window, window)] if before else [b - a for a, b in zip(window, window[1:])]
        )
        result_frame = next(f for f in log["frames"] if f["t"] >= ready["t"])
        out = {
            "duration": ready["t"] - click,
            "layout": ready["layoutMs"],
            "visible": ready["visible"],
            "gap": max(gaps),
            "gaps": len(gaps),
            "result_frame": result_frame["ms"],
        }
        if pan:
            out["fit"] = page.pan()
            zoom_in = page.frame.get_by_role("button", name="zoom in")
            while True:  # closer, while at least 10k nodes stay in view
                zoom_in.click()
                page.inner.evaluate(NEXT_FRAME)
                if page.log()["frames"][-1]["drawn"] <= 12_000:
                    break
            out["near"] = page.pan()
        return out
    finally:
        page.close()


def ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def spread(values: list[float]) -> str:
    return f"{ms(min(values))} – {ms(max(values))}"


def first_view_table(firsts: list[dict], navigations: list[dict], peers: list[dict]) -> str:
    med = statistics.median
    click = [f["click"] for f in firsts]
    in_hand = [f["first_draw_ms"] for f in firsts]
    total = [n["total"] for n in navigations]
    to_tab = [n["to_tab"] for n in navigations]
    playwright = [n["playwright"] for n in navigations]
    tb = [p["t"] for p in peers]
    tb_graph = [p["graph"] for p in peers]
    rows = [
        [
            "(a) click on Structure → drawn (ModelLens tab open)",
            ms(med(click)),
            spread(click),
            f"{med(click) / 1000:.2f}×",
        ],
        ["of which: graph decoded → laid out (worker) and drawn", ms(med(in_hand)), spread(in_hand), "—"],
        ["(b) navigation to /#modellens → Structure drawn", ms(med(total)), spread(total), f"{med(total) / 1000:.2f}×"],
        [
            "of which: navigation → Structure button shown (TensorBoard, plugin frame)",
            ms(med(to_tab)),
            spread(to_tab),
            "—",
        ],
        ["of which: button shown → Playwright's click on it", ms(med(playwright)), spread(playwright), "—"],
        [
            f"TensorBoard Graphs: navigation to /#graphs&run={TB_RUN} → first node ({peers[0]['nodes']} drawn)",
            ms(med(tb)),
            spread(tb),
            f"{med(tb) / 1000:.2f}×",
        ],
        ["of which: graph requested → first node", ms(med(tb_graph)), spread(tb_graph), "—"],
        ["TensorBoard Graphs ÷ ModelLens (b), navigation to drawn", f"{med(tb) / med(total):.2f}×", "—", "—"],
        ["TensorBoard graph requested → drawn ÷ ModelLens (a)", f"{med(tb_graph) / med(click):.1f}×", "—", "—"],
    ]
    return table(
        f"Browser: BERT-large, navigation to the first drawn graph (headless Chromium, medians of {len(firsts)} "
        "fresh loads, 1 s goal)",
        ["what", "median", "range", "vs goal"],
        rows,
    )


def expand_table(firsts: list[dict]) -> str:
    med = statistics.median
    rows = []
    for key, what in (("encoder", "open encoder (its 24 layers)"), ("layer", "then open encoder.layer.0")):
        runs = [f[key] for f in firsts]
        drawn = med([r["drawn"] for r in runs])
        rows.append(
            [
                f"{what} → {runs[0]['visible']} nodes",
                ms(med([r["layout"] for r in runs])),
                ms(med([r["ready"] for r in runs])),
                ms(drawn),
                spread([r["drawn"] for r in runs]),
                f"{drawn / 200:.2f}×",
            ]
        )
    return table(
        f"Browser: BERT-large, opening one group (medians of {len(firsts)} fresh loads, 200 ms goal)",
        ["click", "layout (data-layout-ms)", "click → ready", "click → drawn", "range (drawn)", "vs goal"],
        rows,
    )


def pan_table(runs: list[dict]) -> str:
    rows = []
    for key, what in (("fit", "fully zoomed out (fit)"), ("near", "one zoom-in step closer")):
        frames = [f for r in runs for f in r[key]]
        drawn = [f["drawn"] for f in frames]
        p50, p95 = percentiles([f["ms"] for f in frames])
        rows.append(
            [
                what,
                f"{min(drawn):,} – {max(drawn):,}",
                str(len(frames)),
                ms(p50),
                ms(p95),
                f"{p95 / 33:.2f}×",
            ]
        )
    return table(
        f"Browser: panning the expanded 10k-module graph ({runs[0]['visible']:,} nodes), drag frames "
        f"(data-frame-ms, {PAN_STEPS} steps × {len(runs)} loads, 33 ms goal)",
        ["view", "nodes in view", "frames", "p50", "p95", "p95 vs goal"],
        rows,
    )


def expand_all_table(runs: list[dict]) -> str:
    med = statistics.median
    gaps = [r["gap"] for r in runs]
    rows = [
        [
            f"expand all → {runs[0]['visible']:,} nodes",
            f"{med([r['duration'] for r in runs]) / 1000:.2f} s",
            f"{med([r['layout'] for r in runs]) / 1000:.2f} s",
            f"{ms(med(gaps))} (worst {ms(max(gaps))})",
            str(int(med([r["gaps"] for r in runs]))),
            ms(med([r["result_frame"] for r in runs])),
            f"{max(gaps) / 100:.2f}×",
        ]
    ]
    return table(
        f"Browser: expand all on the 10k-module graph in the layout worker (medians of {len(runs)} fresh loads, "
        "goal: no frame over 100 ms)",
        [
            "what",
            "click → ready",
            "layout (data-layout-ms)",
            "longest frame gap",
            "frames meanwhile",
            "first frame of the result",
            "worst gap vs goal",
        ],
        rows,
    )


def main() -> str:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        write_logs(logdir)
        server = TensorBoardProcess(logdir, load_fast=True)
        try:
            server.wait_ready(route="graph/tags", runs=2)
            wait_for_tb_graph(server)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                bert_first_view(browser, server.url)  # warm-ups, not counted
                tb_graphs(browser, server.url)
                firsts, navigations, peers = [], [], []
                for _ in range(LOADS):
                    firsts.append(bert_first_view(browser, server.url))
                    navigations.append(bert_navigation(browser, server.url))
                    peers.append(tb_graphs(browser, server.url))
                wide = [wide_expand_all(browser, server.url, pan=True)]
                runs = 3 if wide[0]["duration"] > 5000 else EXPAND_ALL_RUNS
                wide += [wide_expand_all(browser, server.url, pan=True) for _ in range(runs - 1)]
                browser.close()
        finally:
            server.stop()
    return "\n".join(
        [first_view_table(firsts, navigations, peers), expand_table(firsts), expand_all_table(wide), pan_table(wide)]
    )


if __name__ == "__main__":
    print(main())
