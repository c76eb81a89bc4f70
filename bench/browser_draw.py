"""Browser: time from a step's data arriving to the whole view drawn (heatmap, table, pairs,
chart), for a 1000 × 1000 matrix, in headless Chromium on a real TensorBoard. Goal: ≤ 100 ms.

Each draw is timed by the dashboard itself (``performance.measure("modellens:draw")``);
switching the normalization redraws from the cached data.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import percentiles, table  # noqa: E402
from harness import TensorBoardProcess, launch_chromium, open_modellens, plugin_frame  # noqa: E402

CLASSES = 1000
REDRAWS = 12


def main() -> str:
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


if __name__ == "__main__":
    print(main())
