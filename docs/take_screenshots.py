"""Regenerates the README's screenshots from demo_logs/ (run: .venv/bin/python docs/take_screenshots.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from harness import TensorBoardProcess, launch_chromium, open_modellens  # noqa: E402

HEATMAP = "canvas[aria-label='confusion matrix heatmap']"


def main() -> None:
    from playwright.sync_api import sync_playwright

    server = TensorBoardProcess(ROOT / "demo_logs", load_fast=True)
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            _, page, frame = open_modellens(browser, server.url, height=900)
            frame.get_by_label("tag").select_option("val/confusion")
            frame.get_by_label("run", exact=True).select_option("mlp_lr0.0003")
            frame.locator(f"{HEATMAP}[data-run='mlp_lr0.0003'][data-tag='val/confusion']").wait_for()
            frame.get_by_label("normalize").select_option("true")
            canvas = frame.locator(HEATMAP)
            left, top, cell = (
                float(v) for v in canvas.evaluate("c => [c.dataset.left, c.dataset.top, c.dataset.cell]")
            )
            canvas.hover(position={"x": left + 9.5 * cell, "y": top + 5.5 * cell})  # five → nine
            page.wait_for_timeout(300)
            page.screenshot(path=str(ROOT / "docs" / "confusion-matrix.png"))
            frame.get_by_label("delta").select_option("run")
            frame.get_by_label("reference run").select_option("mlp_lr0.003")
            page.wait_for_timeout(500)
            canvas.hover(position={"x": left + 9.5 * cell, "y": top + 5.5 * cell})
            page.wait_for_timeout(300)
            page.screenshot(path=str(ROOT / "docs" / "confusion-delta.png"))
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
