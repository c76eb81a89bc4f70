"""Browser: the Attention view's 12 × 12 grid against bertviz ``head_view``, in the same headless Chromium.

Weights: Hugging Face BERT-base from its config (``attention_capture.bert_base``: 12 layers × 12
heads, random weights) on random ids at 128 and 512 tokens. ModelLens: one step of each, written
by ``modellens.transformers.log_attention`` into the runs ``bert_128`` and ``bert_512`` of a
temporary logdir, served by a real TensorBoard (``--load_fast=true``). bertviz 1.4.1: the
HTML of ``head_view(attention, tokens, html_action="return")`` on the same weights (the eager
forward's ``output_attentions``), written to a local file (``attention_capture.bertviz_chunks``,
byte for byte ``head_view``'s page) and opened from ``file://``. bertviz loads require.js, d3 and
jQuery from a CDN, which cannot be reached here: Playwright's ``context.route`` answers those URLs
with the npm packages ``requirejs@2.3.6`` (the CDN's version), ``d3@5.7.0`` (the version
bertviz asks for) and ``jquery@2.1.0`` (bertviz asks for 2.0.0, which npm does not have),
installed by ``npm install --prefix`` into a temporary folder outside the repository.

- ModelLens, per fresh browser context: the ModelLens tab opened, a click on "Attention" (the
  first run, ``bert_128``, is drawn), then ``bert_512`` picked in the run list. Per grid: data
  arrival, the later ``responseEnd`` of its two requests (``attention/step`` and
  ``attention/thumbnails``, resource timing), to the grid drawn (the end of the view's
  ``modellens:draw-attention`` measure, whose duration is the view's own ``data-draw-ms``: data
  in hand to drawn) and to the next animation frame (the grid on screen); and the whole path from
  the click (or the run change) to that frame, requests included. Goal: ≤ 300 ms at 512 tokens.
- bertviz, per fresh browser context: from the navigation to the page (``performance.timeOrigin``)
  and from its data arrival (the document's ``responseEnd``: its weights are inline) to the first
  drawn SVG: a ``MutationObserver`` installed before the page's scripts sees the head view's
  ``<svg>`` with its attention lines (one per head, query and key: 12 · T² of them) and its head
  checkboxes, then the next animation frame. At 512 tokens (a 1.7 GB page) one try, stopped after
  ``BERTVIZ_TIMEOUT_S`` or when Chromium's processes hold more than ``CHROMIUM_RSS_LIMIT`` bytes
  (their renderer is killed, by process id).

Medians of ``LOADS`` loads after one unmeasured warm-up load of each page (bertviz at 256
tokens: one load, where it draws at all; at 512: one try, no warm-up).
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from attention_capture import bert_base, example, mb, ways, write_bertviz_html  # noqa: E402

from common import table  # noqa: E402
from harness import PLUGIN_IFRAME, TensorBoardProcess, launch_chromium, plugin_frame  # noqa: E402

LOADS = 5
SIZES = (128, 512)
BERTVIZ_SIZES = (128, 256, 512)
BERTVIZ_TIMEOUT_S = 300
CHROMIUM_RSS_LIMIT = 8 * 2**30
GRID = "canvas[aria-label='attention grid']"
TAG = "attention"
CDN = {  # the URL's file name → (npm package spec, file in the package)
    "require.min.js": ("requirejs@2.3.6", "requirejs/require.js"),
    "d3.min.js": ("d3@5.7.0", "d3/dist/d3.min.js"),
    "jquery.min.js": ("jquery@2.1.0", "jquery/dist/jquery.min.js"),
}

# In the plugin frame: every grid drawn (the view sets data-draw-ms as it finishes drawing), with
# the animation frame after it, on the frame's performance clock.
ML_SCRIPT = """(() => {
  if (!location.href.includes('plugin_entry')) return;
  const log = (window.__bench = { draws: [], clicks: [] });
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('button');
    if (b) log.clicks.push({ text: b.textContent, t: performance.now() });
  }, true);
  document.addEventListener('change', (e) => log.clicks.push({ text: 'change', t: performance.now() }), true);
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName !== 'data-draw-ms') continue;
      const c = r.target.dataset;
      const entry = { t: performance.now(), drawMs: +c.drawMs, run: c.run, layers: +c.layers, heads: +c.heads,
                      rollout: c.rollout, painted: 0 };
      log.draws.push(entry);
      requestAnimationFrame(() => { entry.painted = performance.now(); });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-draw-ms'] });
})()"""

# The data of one draw: its measure and its two requests' resource timing.
ML_TIMING = """(run) => {
  const measures = performance.getEntriesByName('modellens:draw-attention');
  const draws = window.__bench.draws.filter(d => d.run === run);
  const measure = measures.filter(m => m.startTime <= draws[0].t).pop();
  const requests = performance.getEntriesByType('resource').filter(e =>
    (e.name.includes('/attention/step?') || e.name.includes('/attention/thumbnails?'))
    && new URL(e.name).searchParams.get('run') === run);
  return { draw: draws[0], measure: { start: measure.startTime, duration: measure.duration,
           detail: measure.detail }, requests: requests.map(e => ({ name: e.name, start: e.startTime,
           end: e.responseEnd, bytes: e.encodedBodySize })), clicks: window.__bench.clicks };
}"""

# In bertviz's page: the first head-view SVG with its attention lines and head checkboxes.
BERTVIZ_SCRIPT = """(() => {
  const log = (window.__bench = { drawn: null, painted: null });
  const look = () => {
    if (log.drawn) return;
    const svg = document.querySelector('#vis svg');
    if (!svg || !svg.querySelector('#attention line')) return;
    const boxes = svg.lastElementChild && svg.lastElementChild.querySelectorAll('rect').length;
    if (!boxes) return;
    log.drawn = { t: performance.now(), lines: svg.querySelectorAll('line').length, boxes,
                  tokens: svg.querySelectorAll('#left text').length };
    requestAnimationFrame(() => { log.painted = performance.now(); });
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true });
})()"""


# ---------------------------------------------------------------------------- set-up


def cdn_files(folder: Path) -> dict[str, Path]:
    """The CDN's scripts from npm, installed under ``folder`` (kept between runs when it exists)."""
    files = {name: folder / "node_modules" / path for name, (_, path) in CDN.items()}
    if not all(path.exists() for path in files.values()):
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("the bertviz comparison needs npm (for require.js, d3 and jQuery)")
        subprocess.run(
            [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error"]
            + [spec for spec, _ in CDN.values()],
            check=True,
        )
    return files


def write_logs(logdir: Path, pages: Path) -> dict[int, dict]:
    """ModelLens runs and bertviz pages of the same weights; their sizes."""
    import modellens
    from modellens.transformers import log_attention

    model = bert_base()
    out = {}
    for size in sorted(set(SIZES) | set(BERTVIZ_SIZES)):
        inputs, tokens = example(size)
        info = {}
        if size in SIZES:
            with modellens.Writer(logdir / f"bert_{size}") as writer:
                log_attention(writer, model, inputs, tokens=tokens, step=0)
            info["event_file"] = sum(f.stat().st_size for f in (logdir / f"bert_{size}").iterdir())
        attentions = ways(model, inputs, tokens, None)["eager"]()
        info["html"] = write_bertviz_html(pages / f"head_view_{size}.html", attentions, tokens)
        del attentions
        out[size] = info
    return out


# ---------------------------------------------------------------------------- ModelLens


def modellens_load(browser, url: str) -> dict[int, dict]:
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    context.add_init_script(ML_SCRIPT)
    try:
        page = context.new_page()
        page.goto(url + "/#modellens")
        frame = page.frame_locator(PLUGIN_IFRAME)
        frame.get_by_role("button", name="Attention").wait_for(timeout=60_000)
        inner = plugin_frame(page)
        out = {}
        for size in SIZES:
            run = f"bert_{size}"
            if size == SIZES[0]:
                frame.get_by_role("button", name="Attention").click()
            else:
                frame.get_by_label("run", exact=True).select_option(run)
            inner.wait_for_function(
                "r => window.__bench.draws.some(d => d.run === r && d.painted)", arg=run, timeout=60_000
            )
            timing = inner.evaluate(ML_TIMING, run)
            trigger = "Attention" if size == SIZES[0] else "change"
            start = [c["t"] for c in timing["clicks"] if c["text"] == trigger][-1]
            arrival = max(r["end"] for r in timing["requests"])
            draw, measure = timing["draw"], timing["measure"]
            end = measure["start"] + measure["duration"]
            assert (draw["layers"], draw["heads"]) == (12, 12), draw
            assert measure["detail"]["queries"] == size, measure
            out[size] = {
                "in_hand": measure["duration"],
                "arrival_drawn": end - arrival,
                "arrival_painted": draw["painted"] - arrival,
                "total": draw["painted"] - start,
                "bytes": sum(r["bytes"] for r in timing["requests"]),
                "requests": len(timing["requests"]),
            }
        return out
    finally:
        context.close()


# ---------------------------------------------------------------------------- bertviz


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            out.append(child)
            queue.append(child)
    return out


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Watchdog:
    """Sums the RSS of this process's Chromium processes; over ``limit``, kills the largest
    renderer (``--type=renderer``), so the page crashes instead of the machine running out."""

    def __init__(self, limit: int) -> None:
        self.limit, self.peak, self.killed = limit, 0, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            pids = [p for p in _descendants(os.getpid()) if _is_chromium(p)]
            sizes = {p: _rss(p) for p in pids}
            total = sum(sizes.values())
            self.peak = max(self.peak, total)
            if total > self.limit:
                renderers = [p for p in pids if _is_renderer(p)]
                if renderers:
                    os.kill(max(renderers, key=sizes.get), signal.SIGKILL)
                    self.killed = True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _is_chromium(pid: int) -> bool:
    return "chrom" in _cmdline(pid).split(" ", 1)[0]


def _is_renderer(pid: int) -> bool:
    return "--type=renderer" in _cmdline(pid)


def bertviz_load(browser, page_path: Path, cdn: dict[str, Path], timeout_s: float) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(BERTVIZ_SCRIPT)
    served: list[str] = []

    def answer(route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        if name in cdn:
            served.append(name)
            route.fulfill(path=str(cdn[name]), content_type="text/javascript")
        else:
            route.abort()

    context.route("https://cdnjs.cloudflare.com/**", answer)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)[:200]))
        page.on("crash", lambda _: errors.append("the page crashed"))
        start = time.monotonic()
        with Watchdog(CHROMIUM_RSS_LIMIT) as watchdog:
            try:
                page.goto(page_path.as_uri(), wait_until="commit", timeout=timeout_s * 1000)
                page.wait_for_function("() => window.__bench && window.__bench.painted", timeout=timeout_s * 1000)
                drawn = page.evaluate(
                    "() => ({ ...window.__bench, response: performance.getEntriesByType('navigation')[0].responseEnd })"
                )
            except Exception as error:  # timeout, crash, or the renderer killed by the watchdog
                return {
                    "drawn": False,
                    "after": time.monotonic() - start,
                    "why": "renderer killed at the memory limit"
                    if watchdog.killed
                    else (errors or ["no SVG" if "Timeout" in type(error).__name__ else type(error).__name__])[0],
                    "peak_rss": watchdog.peak,
                    "errors": errors,
                }
        return {
            "drawn": True,
            "total": drawn["painted"],
            "svg": drawn["drawn"]["t"],
            "arrival_painted": drawn["painted"] - drawn["response"],
            "lines": drawn["drawn"]["lines"],
            "tokens": drawn["drawn"]["tokens"],
            "served": sorted(set(served)),
            "peak_rss": watchdog.peak,
            "errors": errors,
        }
    finally:
        context.close()


# ---------------------------------------------------------------------------- tables


def ms(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def spread(values: list[float]) -> str:
    return f"{ms(min(values))} – {ms(max(values))}"


def modellens_table(loads: list[dict[int, dict]], sizes: dict[int, dict]) -> str:
    med = statistics.median
    rows = []
    for size in SIZES:
        runs = [load[size] for load in loads]
        painted = [r["arrival_painted"] for r in runs]
        trigger = "click on Attention" if size == SIZES[0] else "run picked"
        rows.append(
            [
                f"{size:,}",
                mb(sizes[size]["event_file"]),
                f"{mb(runs[0]['bytes'])} in {runs[0]['requests']}",
                ms(med([r["in_hand"] for r in runs])),
                ms(med([r["arrival_drawn"] for r in runs])),
                f"{ms(med(painted))} ({spread(painted)})",
                f"{med(painted) / 300:.2f}×",
                f"{ms(med([r['total'] for r in runs]))} ({trigger})",
            ]
        )
    return table(
        f"Browser: ModelLens Attention view, BERT-base 12 × 12 grid (headless Chromium, medians of {len(loads)} "
        "fresh loads, goal ≤ 300 ms from data arrival)",
        [
            "tokens",
            "event file",
            "fetched (step + thumbnails)",
            "data in hand → drawn (data-draw-ms)",
            "data arrival → drawn",
            "data arrival → on screen (range)",
            "vs goal",
            "trigger → on screen (requests included)",
        ],
        rows,
    )


def bertviz_table(results: dict[int, list[dict]], sizes: dict[int, dict], ours: list[dict[int, dict]]) -> str:
    med = statistics.median
    rows = []
    for size, loads in results.items():
        drawn = [r for r in loads if r["drawn"]]
        ml = med([load[size]["arrival_painted"] for load in ours]) if size in SIZES else None
        if drawn:
            total = [r["total"] for r in drawn]
            arrival = [r["arrival_painted"] for r in drawn]
            rows.append(
                [
                    f"{size:,}",
                    mb(sizes[size]["html"]),
                    f"{len(drawn)} of {len(loads)}",
                    f"{ms(med(total))} ({spread(total)})",
                    ms(med(arrival)),
                    f"{drawn[0]['lines']:,}",
                    mb(max(r["peak_rss"] for r in loads)),
                    f"{med(arrival) / ml:,.0f}×" if ml else "—",
                ]
            )
        else:
            failure = loads[0]
            rows.append(
                [
                    f"{size:,}",
                    mb(sizes[size]["html"]),
                    f"0 of {len(loads)}",
                    f"not drawn: {failure['why']} after {failure['after']:.0f} s",
                    "—",
                    "—",
                    mb(max(r["peak_rss"] for r in loads)),
                    "never",
                ]
            )
    return table(
        "Browser: bertviz 1.4.1 head_view on the same weights, same Chromium (page from file://, CDN scripts "
        f"answered locally; medians of the loads that drew; stopped after {BERTVIZ_TIMEOUT_S} s or "
        f"{mb(CHROMIUM_RSS_LIMIT)} of Chromium RSS; 1 MB = 2^20 bytes)",
        [
            "tokens",
            "HTML",
            "drew",
            "navigation → first SVG on screen (range)",
            "page data arrival → on screen",
            "SVG lines",
            "peak Chromium RSS",
            "÷ ModelLens (data arrival → on screen)",
        ],
        rows,
    )


def main() -> str:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        logdir, pages = root / "logs", root / "pages"
        logdir.mkdir()
        pages.mkdir()
        cdn = cdn_files(Path(tempfile.gettempdir()) / "modellens-bench-cdn")
        sizes = write_logs(logdir, pages)
        server = TensorBoardProcess(logdir, load_fast=True)
        try:
            server.wait_ready(route="attention/tags", runs=len(SIZES))
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                modellens_load(browser, server.url)  # warm-ups, not counted
                bertviz_load(browser, pages / "head_view_128.html", cdn, BERTVIZ_TIMEOUT_S)
                ours = [modellens_load(browser, server.url) for _ in range(LOADS)]
                peers: dict[int, list[dict]] = {}
                for size in BERTVIZ_SIZES:
                    loads = LOADS if size <= 128 else 1
                    peers[size] = []
                    for _ in range(loads):
                        result = bertviz_load(browser, pages / f"head_view_{size}.html", cdn, BERTVIZ_TIMEOUT_S)
                        peers[size].append(result)
                        if not result["drawn"]:
                            break
                        assert result["served"] == sorted(CDN), result["served"]
                    if size != BERTVIZ_SIZES[-1]:
                        (pages / f"head_view_{size}.html").unlink()
                browser.close()
        finally:
            server.stop()
    return "\n".join([modellens_table(ours, sizes), bertviz_table(peers, sizes, ours)])


if __name__ == "__main__":
    print(main())
