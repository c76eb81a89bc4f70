"""Browser: time from data arriving to the view drawn, in headless Chromium on a real TensorBoard.
Goal: ≤ 100 ms.

- Confusion matrices: the whole view (heatmap, table, pairs, chart) for a 1000 × 1000 matrix;
  switching the normalization redraws from the cached data (``modellens:draw``).
- Training health: the layer × step heatmap of one run of 3 tags × 224 tensors × 2,000 steps
  (synthetic statistics, written the way ``distributions_routes.py`` writes them); each metric
  change fetches that metric's series and redraws (``modellens:draw-distributions``).

Each draw is timed by the dashboard itself (``performance.measure``), from the data in hand to
the drawing done: server and network time are not included.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import percentiles, table, write_synthetic_run  # noqa: E402
from harness import TensorBoardProcess, launch_chromium, open_modellens, plugin_frame  # noqa: E402

CLASSES = 1000
REDRAWS = 12

TENSORS = 224  # a ResNet-101-sized model
STEPS = 2000
TAGS = ("weights", "gradients", "updates")
METRICS = ("std", "mean", "max_abs", "min", "max", "zero_fraction", "nonfinite", "norm")
METRIC_REDRAWS = 10
HEALTH_HEATMAP = "canvas[aria-label='training health heatmap']"


def confusion_case() -> str:
    from playwright.sync_api import sync_playwright

    import modellens

    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        rng = np.random.default_rng(0)
        truth = rng.integers(0, CLASSES, 300_000)
        predicted = np.where(rng.random(truth.size) < 0.3, rng.integers(0, CLASSES, truth.size), truth)
        with modellens.Writer(logdir / "big") as writer:
            writer.confusion_matrix("val/confusion", truth, predicted, labels=np.arange(CLASSES), step=0)
        server = TensorBoardProcess(logdir, load_fast=True)
        try:
            server.wait_ready()
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                _, page, frame = open_modellens(browser, server.url)
                frame.locator("canvas[data-step='0']").wait_for(timeout=60_000)
                modes = ["true", "pred", "none"]
                for i in range(REDRAWS):
                    frame.get_by_label("normalize").select_option(modes[i % 3])
                    page.wait_for_timeout(150)
                durations = plugin_frame(page).evaluate(
                    "() => performance.getEntriesByName('modellens:draw').map(e => e.duration)"
                )
                browser.close()
        finally:
            server.stop()
    first, redraws = durations[0], durations[1:]
    p50, p95 = percentiles(redraws)
    rows = [
        ["first draw after the data arrived", f"{first:.0f} ms", f"{first / 100:.2f}× the goal"],
        [f"redraw on normalization change, p50 of {len(redraws)}", f"{p50:.0f} ms", f"{p50 / 100:.2f}× the goal"],
        [f"redraw on normalization change, p95 of {len(redraws)}", f"{p95:.0f} ms", f"{p95 / 100:.2f}× the goal"],
    ]
    return table(
        f"Browser: drawing a {CLASSES} × {CLASSES} matrix (headless Chromium, 100 ms goal)",
        ["what", "time", "vs goal"],
        rows,
    )


def write_health_logs(logdir: Path) -> None:
    write_synthetic_run(logdir / "big", tensors=TENSORS, steps=STEPS, tags=TAGS)


def wait_for_every_step(server: TensorBoardProcess, timeout: float = 600.0) -> None:
    """The data server loads in the background: wait until every tag has every step."""
    deadline = time.monotonic() + timeout
    for tag in TAGS:
        url = f"{server.url}/data/plugin/modellens/distributions/series?run=big&tag={tag}&metric=norm"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    if len(json.loads(response.read())["steps"]) == STEPS:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{tag}: not every step arrived")
            time.sleep(1)


def health_case() -> str:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        write_health_logs(logdir)
        server = TensorBoardProcess(logdir, load_fast=True)
        try:
            server.wait_ready(route="distributions/tags")
            wait_for_every_step(server)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                _, page, frame = open_modellens(browser, server.url)
                frame.get_by_role("button", name="Training health").click()
                frame.locator(f"{HEALTH_HEATMAP}[data-run='big'][data-tag='gradients']").wait_for(timeout=120_000)
                plugin = plugin_frame(page)
                count = "() => performance.getEntriesByName('modellens:draw-distributions').length"
                for i in range(METRIC_REDRAWS):
                    drawn = plugin.evaluate(count)
                    frame.get_by_label("metric").select_option(METRICS[i % len(METRICS)])
                    plugin.wait_for_function(f"n => ({count})() > n", arg=drawn, timeout=120_000)
                    page.wait_for_timeout(150)
                entries = plugin.evaluate(
                    "() => performance.getEntriesByName('modellens:draw-distributions')"
                    ".map(e => ({duration: e.duration, detail: e.detail}))"
                )
                browser.close()
        finally:
            server.stop()
    shown = entries[0]["detail"]
    durations = [e["duration"] for e in entries]
    first, redraws = durations[0], durations[1:]
    p50, p95 = percentiles(redraws)
    rows = [
        ["first draw after the data arrived", f"{first:.0f} ms", f"{first / 100:.2f}× the goal"],
        [f"redraw on metric change, p50 of {len(redraws)}", f"{p50:.0f} ms", f"{p50 / 100:.2f}× the goal"],
        [f"redraw on metric change, p95 of {len(redraws)}", f"{p95:.0f} ms", f"{p95 / 100:.2f}× the goal"],
    ]
    return table(
        f"Browser: Training health heatmap of {shown['tensors']} tensors × {shown['steps']} steps "
        "(headless Chromium, 100 ms goal)",
        ["what", "time", "vs goal"],
        rows,
    )


def main() -> str:
    return confusion_case() + "\n" + health_case()


if __name__ == "__main__":
    print(main())
