"""Regenerates the README's screenshots from the demo logs.

Run: ``.venv/bin/python docs/take_screenshots.py [LOGDIR] [--out DIR]`` (defaults: ``demo_logs/``
and ``docs/``). The logdir needs the confusion runs of ``demo_logs/generate.py`` and the
training-health runs of ``demo_logs/distributions_demo.py`` (with their graphs), the runs of
``demo_logs/graph_demo.py`` and, for the Attention view, a run with attention tags (the first one,
by name, from ``demo_logs/attention_demo.py``); ROC / PR, Predictions, Tensors and Alerts use the
digits runs and ``regression_diabetes`` (``demo_logs/evaluation_demo.py``). ``--only NAME ...``
retakes some of them.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from harness import PREFIX, TensorBoardProcess, launch_chromium, open_modellens, plugin_frame  # noqa: E402

HEATMAP = "canvas[aria-label='confusion matrix heatmap']"
HEALTH_HEATMAP = "canvas[aria-label='training health heatmap']"
STRUCTURE = "canvas[aria-label='model structure graph']"
ATTENTION_GRID = "canvas[aria-label='attention grid']"
ATTENTION_MAP = "canvas[aria-label='attention map']"


def confusion(browser, url: str, out: Path) -> None:
    context, page, frame = open_modellens(browser, url, height=900)
    frame.get_by_label("tag").select_option("val/confusion")
    frame.get_by_label("run", exact=True).select_option("mlp_lr0.0003")
    frame.locator(f"{HEATMAP}[data-run='mlp_lr0.0003'][data-tag='val/confusion']").wait_for()
    frame.get_by_label("normalize").select_option("true")
    canvas = frame.locator(HEATMAP)
    left, top, cell = (float(v) for v in canvas.evaluate("c => [c.dataset.left, c.dataset.top, c.dataset.cell]"))
    canvas.hover(position={"x": left + 9.5 * cell, "y": top + 5.5 * cell})  # five → nine
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "confusion-matrix.png"))
    frame.get_by_label("delta").select_option("run")
    frame.get_by_label("reference run").select_option("mlp_lr0.003")
    page.wait_for_timeout(500)
    canvas.hover(position={"x": left + 9.5 * cell, "y": top + 5.5 * cell})
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "confusion-delta.png"))
    context.close()


def _training_health(frame, run: str, tag: str) -> None:
    """Opens the Training health view on ``run`` and ``tag``, and waits for its alerts and detail."""
    frame.get_by_role("button", name="Training health").click()
    frame.get_by_label("run", exact=True).select_option(run)
    frame.get_by_label("tag", exact=True).select_option(tag)
    frame.locator(f"{HEALTH_HEATMAP}[data-run='{run}'][data-tag='{tag}']").wait_for()
    frame.get_by_role("region", name="alerts").get_by_text(f"in run {run}").wait_for()  # the verdicts arrived
    frame.locator("svg[aria-label='tensor histogram']").first.wait_for()


def _shoot_down_to(page, bottom, path: Path) -> None:
    """A screenshot of the page from its top down to just below the element ``bottom``."""
    page.mouse.move(5, page.viewport_size["height"] - 5)  # no hover highlight, no tooltip
    page.wait_for_timeout(800)  # the detail charts
    box = bottom.bounding_box()
    height = min(page.viewport_size["height"], box["y"] + box["height"] + 6)  # less than the gap to what follows
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height})


def training_health(browser, url: str, out: Path) -> None:
    # the diverging run: the alerts, the heatmap with its NaN/Inf cells (red), and the first
    # alert clicked: its first tensor's detail at its first step
    context, page, frame = open_modellens(browser, url, height=1800)
    _training_health(frame, "diverging", "gradients")
    first = frame.get_by_role("region", name="alerts").locator("button.ml-alert").first
    tag = first.get_attribute("data-tag")
    first.click()
    frame.locator(f"{HEALTH_HEATMAP}[data-tag='{tag}']:not([data-step=''])").wait_for()
    _shoot_down_to(page, frame.get_by_role("table", name="tensor statistics"), out / "training-health.png")
    context.close()

    # the deep sigmoid network: vanishing gradients in the early layers, on the gradient norms
    context, page, frame = open_modellens(browser, url, height=1800)
    _training_health(frame, "deep_sigmoid", "gradients")
    frame.get_by_label("metric").select_option("norm")
    frame.get_by_role("region", name="alerts").locator("button[data-kind='vanishing_gradients']").wait_for()
    charts = frame.locator(".ml-detail-row").first  # the first tensor's distributions over steps
    _shoot_down_to(page, charts, out / "training-health-vanishing.png")
    context.close()


def _structure(frame, run: str) -> None:
    frame.get_by_role("button", name="Structure").click()
    frame.get_by_label("run", exact=True).select_option(run)
    frame.locator(f"{STRUCTURE}[data-state='ready'][data-run='{run}']").wait_for()


def _click_node(frame, path: str) -> None:
    """Clicks a visible node near its top left (a group's title bar)."""
    box = frame.locator(STRUCTURE).evaluate("(c, path) => c.locate(path)", path)
    frame.locator(STRUCTURE).click(position={"x": box["x"] + 6, "y": box["y"] + 6})
    frame.locator(f"{STRUCTURE}[data-state='ready']").wait_for()


def structure(browser, url: str, out: Path) -> None:
    # BERT-base from its config: the encoder opened on its 12 identical layers, one layer opened
    context, page, frame = open_modellens(browser, url, height=1000)
    _structure(frame, "bert_base")
    _click_node(frame, "encoder")
    _click_node(frame, "encoder.layer.0")
    page.mouse.move(5, page.viewport_size["height"] - 5)
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "structure.png"))
    context.close()

    # the diverging run, coloured by where NaN/Inf appear first (Training health data)
    context, page, frame = open_modellens(browser, url, height=1000)
    _structure(frame, "diverging")
    frame.get_by_label("colour by").select_option("nonfinite")
    frame.locator(f"{STRUCTURE}[data-color-by='nonfinite']").wait_for()
    page.mouse.move(5, page.viewport_size["height"] - 5)
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "structure-nonfinite.png"))
    context.close()


def attention_run(url: str, preferred: str = "reverse_transformer") -> str | None:
    """``preferred`` (the demo run whose attention forms over training) when it has attention
    tags, else the first run (by name) that has, or None."""
    with urllib.request.urlopen(f"{url}{PREFIX}/attention/tags", timeout=10) as response:
        runs = json.loads(response.read())["runs"]
    if runs.get(preferred):
        return preferred
    return next((run for run in sorted(runs) if runs[run]), None)


def attention(browser, url: str, out: Path) -> None:
    run = attention_run(url)
    if run is None:
        print("no run with attention tags: attention screenshots skipped")
        return
    # the grid at the last step, the head scores sorted by entropy (focused heads first), the
    # most focused head enlarged with a cell hovered
    context, page, frame = open_modellens(browser, url, height=1500)
    frame.get_by_role("button", name="Attention").click()
    frame.get_by_label("run", exact=True).select_option(run)
    frame.locator(f"{ATTENTION_GRID}[data-state='ready'][data-run='{run}']").wait_for()
    scores = frame.get_by_role("table", name="head scores")
    scores.locator("th[data-key='entropy']").click()
    scores.locator("tbody tr").first.click()
    frame.locator(f"{ATTENTION_MAP}[data-state='ready'][data-run='{run}']").wait_for()
    plugin_frame(page).evaluate("() => window.scrollTo(0, 0)")  # the grid on top, not the map
    canvas = frame.locator(ATTENTION_MAP)
    shown = canvas.evaluate("c => ({...c.dataset})")
    left, top, width, height = (float(shown[k]) for k in ("left", "top", "cellw", "cellh"))
    rows, cols = int(shown["rows"]), int(shown["cols"])
    canvas.hover(position={"x": left + (cols // 2 + 0.5) * width, "y": top + (rows // 2 + 0.5) * height})
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "attention.png"))
    # the token view: a late query token's attention to every key of that head
    frame.get_by_label("token", exact=True).select_option(str(rows * 3 // 4))
    tokens = frame.get_by_role("region", name="token view")
    tokens.scroll_into_view_if_needed()
    page.mouse.move(5, page.viewport_size["height"] - 5)
    page.wait_for_timeout(300)
    tokens.screenshot(path=str(out / "attention-tokens.png"))
    context.close()


def _open_tab(browser, url: str, tab: str, height: int = 1300):
    context, page, frame = open_modellens(browser, url, height=height)
    frame.get_by_role("button", name=tab, exact=True).click()
    return context, page, frame


def _pick(frame, tag: str, run: str) -> None:
    frame.get_by_label("tag", exact=True).select_option(tag)
    frame.get_by_label("run", exact=True).select_option(run)


def _hover_middle(frame, selector: str, fraction: tuple[float, float] = (0.5, 0.5)) -> None:
    target = frame.locator(selector).first
    box = target.bounding_box()
    target.hover(position={"x": box["width"] * fraction[0], "y": box["height"] * fraction[1]}, force=True)


def curves(browser, url: str, out: Path) -> None:
    # the digits classifier's validation curves at its last epoch, the worst classes, hovered
    context, page, frame = _open_tab(browser, url, "ROC / PR")
    _pick(frame, "val/curves", "mlp_lr0.0003")
    frame.locator(
        "div.ml-xychart[data-run='mlp_lr0.0003'][data-tag='val/curves']:has(> svg[aria-label='ROC curve'])"
    ).wait_for()
    page.wait_for_timeout(800)
    _hover_middle(frame, "svg[aria-label='ROC curve']", (0.25, 0.3))
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "curves.png"))
    context.close()


def predictions(browser, url: str, out: Path) -> None:
    # the diabetes regression at its last epoch; the digits classifier's calibration
    for run, tag, name in (
        ("regression_diabetes", "val/predictions", "predictions-regression.png"),
        ("mlp_lr0.0003", "val/predictions", "predictions-classification.png"),
    ):
        context, page, frame = _open_tab(browser, url, "Predictions")
        _pick(frame, tag, run)
        frame.locator(f".ml-view[data-run='{run}'][data-tag='{tag}']").wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(out / name))
        context.close()


def tensors(browser, url: str, out: Path) -> None:
    # each hidden unit's 8 × 8 receptive field of the digits MLP, at the last epoch, hovered
    context, page, frame = _open_tab(browser, url, "Tensors")
    _pick(frame, "heatmaps/hidden_fields", "mlp_lr0.003")
    frame.locator("canvas[data-state='ready']").first.wait_for()
    page.wait_for_timeout(800)
    _hover_middle(frame, "canvas[data-state='ready']", (0.4, 0.45))
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "tensors.png"))
    context.close()


def alerts_page(browser, url: str, out: Path) -> None:
    context, page, frame = _open_tab(browser, url, "Alerts", height=1000)
    frame.get_by_role("button", name="open in", exact=False).first.wait_for(timeout=120_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / "alerts.png"))
    context.close()


SHOTS = {
    "confusion": confusion,
    "training_health": training_health,
    "structure": structure,
    "attention": attention,
    "curves": curves,
    "predictions": predictions,
    "tensors": tensors,
    "alerts": alerts_page,
}


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logdir", nargs="?", type=Path, default=ROOT / "demo_logs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the PNGs go (default: docs/)")
    parser.add_argument("--only", nargs="*", choices=sorted(SHOTS), help="take only these screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    server = TensorBoardProcess(args.logdir, load_fast=True)
    try:
        server.wait_ready(route="confusion/tags")
        server.wait_ready(route="distributions/tags")
        server.wait_ready(route="graph/tags")
        for slug in ("attention", "curves", "predictions", "heatmap"):
            server.wait_ready(route=f"{slug}/tags")
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for name in args.only or SHOTS:
                SHOTS[name](browser, server.url, args.out)
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
