"""Browser: data arrival → drawn for the evaluation views, in headless Chromium on a real
TensorBoard (``--load_fast=true``) over the logdir of ``evaluation_routes.py`` (written once).

Per fresh browser context (one warm-up load, then ``LOADS`` measured ones), the ModelLens tab
is opened and, in this order:

- ROC / PR (``curves``, 20 steps × 1,000 classes): the tab clicked (the default selection at
  1,000 classes: the 5 worst classes by AUC and the micro average), then "search by name" for
  "class 9" (its first 20 matches, the search's limit), then k = 50 (the k field's ``max``), then
  k = 1,000 typed (the field's ``max`` is not enforced): every class. "All classes" itself is
  offered only up to 10 classes (``ALL_LIMIT``);
- Predictions: the 10 M-sample regression (the 128 × 128 density only) and the 50,000-point one
  (every point drawn);
- Tensors: a 1024 × 1024 weight (exact) and a 4096 × 4096 one (block-reduced to 1024²);
- Alerts: the page over every run.

Per draw: data arrival (the last ``responseEnd`` of the view's requests since its trigger,
resource timing) to the end of the view's ``performance.measure`` (``modellens:draw-curves``,
``-predictions``, ``-heatmap``) and to the next frame rendered (on screen: a task posted from
the next animation frame callback runs once that frame's style, layout and paint are done on the
main thread, which a view's measure does not include); the measure's own
duration (the view's "data in hand → drawn": for Tensors from the parsed JSON, shaping
included); and from the trigger (tab click, select or input change) to on screen, requests
included. The Alerts view has no measure of its own: its draw ends when it sets the main
element's ``data-alerts`` (after rendering its table), seen by a ``MutationObserver``.
``performance.measure`` is wrapped by an init script (never the views' code) to see each draw
end as it happens. Medians of ``LOADS`` loads.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import evaluation_routes  # noqa: E402

from common import table  # noqa: E402
from harness import PLUGIN_IFRAME, TensorBoardProcess, launch_chromium, plugin_frame  # noqa: E402

LOADS = 5
TIMEOUT_MS = 180_000

# In the plugin frame: every draw (measure wrapped: its end and the next frame rendered),
# Alerts renders (data-alerts set), and the triggers (clicks, changes, inputs) with their times.
INIT_SCRIPT = """(() => {
  if (!location.href.includes('plugin_entry')) return;
  performance.setResourceTimingBufferSize(100000);
  const log = (window.__bench = { draws: [], triggers: [] });
  // The next frame's rendering done (style, layout, paint on the main thread): a task posted
  // from its animation frame callback runs after it.
  const afterNextFrame = (entry) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { entry.painted = performance.now(); };
    channel.port2.postMessage(0);
  });
  const measure = performance.measure.bind(performance);
  performance.measure = (...args) => {
    const m = measure(...args);
    if (m && m.name.startsWith('modellens:draw')) {
      const entry = { name: m.name, start: m.startTime, end: m.startTime + m.duration, duration: m.duration,
                      detail: m.detail, painted: 0 };
      log.draws.push(entry);
      afterNextFrame(entry);
    }
    return m;
  };
  for (const type of ['click', 'change', 'input']) {
    document.addEventListener(type, (e) => {
      const b = e.target.closest && e.target.closest('button');
      log.triggers.push({ type, text: b ? b.textContent : '', t: performance.now() });
    }, true);
  }
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName !== 'data-alerts') continue;
      const t = performance.now();
      const entry = { name: 'alerts', start: t, end: t, duration: null, detail: { alerts: +r.target.dataset.alerts },
                      painted: 0 };
      log.draws.push(entry);
      afterNextFrame(entry);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-alerts'] });
})()"""

# The draws since index n whose name and detail match, painted.
WAIT = """([n, name, detail]) => window.__bench.draws.slice(n).some(d => d.name === name && d.painted
  && Object.entries(detail).every(([k, v]) => d.detail && d.detail[k] === v))"""

# A draw's data: the first matching draw since n, the trigger before it, the requests in between.
TIMING = """([n, name, detail, routes]) => {
  const draw = window.__bench.draws.slice(n).find(d => d.name === name && d.painted
    && Object.entries(detail).every(([k, v]) => d.detail && d.detail[k] === v));
  const trigger = window.__bench.triggers.filter(t => t.t <= draw.end).pop();
  const requests = performance.getEntriesByType('resource').filter(e =>
    routes.some(r => e.name.includes(r)) && e.startTime >= trigger.t && e.responseEnd <= draw.end);
  return { draw, trigger, requests: requests.map(e => ({ name: e.name, start: e.startTime, end: e.responseEnd,
           bytes: e.encodedBodySize })) };
}"""


# An input's value set and its "change" fired, as a person's edit would, without focusing it.
SET_VALUE = "(e, v) => { e.value = v; e.dispatchEvent(new Event('change', { bubbles: true })); }"


def mark(inner) -> int:
    return inner.evaluate("() => window.__bench.draws.length")


def timed(inner, since: int, name: str, detail: dict, routes: list[str]) -> dict:
    """Waits for the draw and returns its times (ms) and the bytes fetched for it."""
    inner.wait_for_function(WAIT, arg=[since, name, detail], timeout=TIMEOUT_MS)
    found = inner.evaluate(TIMING, [since, name, detail, routes])
    draw, requests = found["draw"], found["requests"]
    if not requests:
        raise RuntimeError(f"no request of {routes} before the draw {draw}")
    arrival = max(r["end"] for r in requests)
    return {
        "in_hand": draw["duration"],
        "arrival_drawn": draw["end"] - arrival,
        "arrival_painted": draw["painted"] - arrival,
        "total": draw["painted"] - found["trigger"]["t"],
        "to_request": min(r["start"] for r in requests) - found["trigger"]["t"],
        "bytes": sum(r["bytes"] for r in requests),
        "requests": len(requests),
        "detail": draw["detail"],
    }


def tab_cases(inner, frame, tab: str, name: str, routes: list[str], cases: list[tuple], out: dict) -> None:
    """Opens ``tab``; the tag it shows first is timed from the click, each other one from its
    pick in the tag list. ``cases``: (tag, detail to match, row name)."""
    n = mark(inner)
    frame.get_by_role("button", name=tab).click()
    inner.wait_for_function(WAIT, arg=[n, name, {}], timeout=TIMEOUT_MS)
    tag_select = frame.get_by_label("tag", exact=True)
    shown = tag_select.input_value()
    ordered = sorted(cases, key=lambda case: case[0] != shown)
    for tag, detail, label in ordered:
        if tag != shown:
            n = mark(inner)
            tag_select.select_option(tag)
            shown = tag
        out[label] = timed(inner, n, name, detail, routes)


def one_load(browser, url: str) -> dict[str, dict]:
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    context.add_init_script(INIT_SCRIPT)
    out: dict[str, dict] = {}
    try:
        page = context.new_page()
        page.goto(url + "/#modellens")
        frame = page.frame_locator(PLUGIN_IFRAME)
        frame.get_by_role("button", name="ROC / PR").wait_for(timeout=60_000)
        inner = plugin_frame(page)
        curves = ["/curves/step?", "/curves/curve?", "/curves/series?"]
        classes = evaluation_routes.CLASSES

        # ROC / PR: the default selection (worst 5 + micro), a search (20 classes), k = 50, k = 1000 (all).
        n = mark(inner)
        frame.get_by_role("button", name="ROC / PR").click()
        out["ROC / PR: worst 5 + micro (default)"] = timed(
            inner, n, "modellens:draw-curves", {"classes": classes, "curves": 6}, curves
        )
        n = mark(inner)
        frame.get_by_label("classes", exact=True).select_option("search")  # an empty query: micro only
        inner.wait_for_function(WAIT, arg=[n, "modellens:draw-curves", {"curves": 1}], timeout=TIMEOUT_MS)
        n = mark(inner)
        frame.get_by_label("search classes", exact=True).fill("class 9")
        out["ROC / PR: search 'class 9' (its first 20 matches + micro)"] = timed(
            inner, n, "modellens:draw-curves", {"classes": classes}, curves
        )
        n = mark(inner)
        frame.get_by_label("classes", exact=True).select_option("worst")
        inner.wait_for_function(WAIT, arg=[n, "modellens:draw-curves", {"curves": 6}], timeout=TIMEOUT_MS)
        k = frame.get_by_label("k", exact=True)
        for value, label in ((50, "worst 50 + micro"), (classes, f"all {classes:,} (k = {classes:,} typed) + micro")):
            n = mark(inner)
            # Set without focusing the field: a focused, edited field fires another "change" when
            # it loses focus (at the next tab's click), redrawing the hidden view meanwhile.
            k.evaluate(SET_VALUE, str(value))
            out[f"ROC / PR: {label}"] = timed(
                inner, n, "modellens:draw-curves", {"classes": classes, "curves": value + 1}, curves
            )

        # Predictions: 10 M density, 50k exact points.
        tab_cases(
            inner,
            frame,
            "Predictions",
            "modellens:draw-predictions",
            ["/predictions/step?", "/predictions/series?"],
            [
                (
                    "val/10M",
                    {"samples": evaluation_routes.DENSITY_POINTS},
                    "Predictions: regression, 10 M samples (density)",
                ),
                (
                    "val/50k",
                    {"samples": evaluation_routes.EXACT_POINTS},
                    "Predictions: regression, 50,000 points (exact)",
                ),
            ],
            out,
        )

        # Tensors: 1024² exact, 4096² reduced.
        tab_cases(
            inner,
            frame,
            "Tensors",
            "modellens:draw-heatmap",
            ["/heatmap/step?", "/heatmap/series?"],
            [
                ("weights/1024", {"reduced": False}, "Tensors: 1024² (exact)"),
                ("weights/4096", {"reduced": True}, "Tensors: 4096² (reduced to 1024²)"),
            ],
            out,
        )

        # Alerts.
        n = mark(inner)
        frame.get_by_role("button", name="Alerts").click()
        out["Alerts: every run"] = timed(inner, n, "alerts", {}, ["/alerts"])
        return out
    finally:
        context.close()


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def mb(value: float) -> str:
    return f"{value / 2**20:.2f} MB" if value >= 2**20 else f"{value / 2**10:.0f} KB"


def main() -> str:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        start = time.perf_counter()
        evaluation_routes.write_logs(logdir)
        print(f"  logs written in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        server = TensorBoardProcess(logdir, load_fast=True)
        try:
            server.wait_ready(route="curves/tags", timeout=300)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for attempt in range(60):  # the data server loads in the background: warm up until it has all
                    try:
                        one_load(browser, server.url)
                        break
                    except Exception as error:  # a tag or step not there yet
                        print(f"  warm-up {attempt}: {type(error).__name__}: {str(error)[:200]}", file=sys.stderr)
                        time.sleep(5)
                loads = []
                for index in range(LOADS):
                    loads.append(one_load(browser, server.url))
                    print(f"  load {index + 1} done", file=sys.stderr, flush=True)
                browser.close()
        finally:
            server.stop()
    med = statistics.median
    rows = []
    for case in loads[0]:
        runs = [load[case] for load in loads]
        painted = [r["arrival_painted"] for r in runs]
        in_hand = [r["in_hand"] for r in runs if r["in_hand"] is not None]
        rows.append(
            [
                case,
                f"{mb(runs[0]['bytes'])} in {runs[0]['requests']}",
                ms(med(in_hand)) if in_hand else "— (no measure)",
                ms(med([r["arrival_drawn"] for r in runs])),
                f"{ms(med(painted))} ({ms(min(painted))} – {ms(max(painted))})",
                ms(med([r["total"] for r in runs])),
                ms(med([r["to_request"] for r in runs])),
            ]
        )
    return table(
        f"Browser: evaluation views, data arrival → drawn (headless Chromium, real TensorBoard, medians of "
        f"{LOADS} fresh loads; 1 MB = 2^20 bytes, gzipped bodies)",
        [
            "view and case",
            "fetched (requests)",
            "data in hand → drawn (view's measure)",
            "data arrival → drawn",
            "data arrival → on screen (range)",
            "trigger → on screen (requests included)",
            "trigger → its first request",
        ],
        rows,
    )


if __name__ == "__main__":
    print(main())
