// The token view, after bertviz's head_view: queries in a left column, keys in a right one, and
// from the picked query token a line to every key it attends to, one colour per chosen head
// (opacity: the weight against the largest drawn); or the reverse, every query attending to a
// picked key. Drawn on canvas, only the rows in view (a long sequence scrolls); a click on a
// label picks it, hover tells the weights. Geometry on `canvas.dataset` (leftX, rightX, top,
// rowHeight, scroll: CSS pixels) for tests.
import { CATEGORY_COLORS } from "../../core/colors";
import { el, labelled, replaceOptions, select } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { Legend } from "../../core/legend";
import { fitText } from "../../core/text";
import { cssVar } from "../../core/theme";
import { Tooltip } from "../../core/tooltip";
import { fetchMap } from "./api";
import {
  axisLabels,
  formatWeight,
  indexedToken,
  isolate,
  lineAlphas,
  tokenWeights,
  visibleName,
  visibleRows,
  type Direction,
  type MapRef,
  type StepData,
} from "./shape";
import { mapFloats, type AttentionMap } from "./wire";

const ROW = 16;
const PAD = 8;
const LABEL = 190; // each label column, CSS pixels
const SPAN = 220; // between the columns
const WIDTH = 2 * LABEL + SPAN + 16;
const MAX_HEIGHT = 560;

interface Loaded {
  step: StepData;
  heads: Array<number | "mean">;
  maps: AttentionMap[];
  values: Float32Array[];
  rows: string[]; // labels of the stored query rows
  cols: string[];
}

export class TokenView {
  private layerSelect = select([]);
  private directionSelect = select([
    ["query", "from a query token to every key"],
    ["key", "to a key token from every query"],
  ]);
  private tokenSelect = select([]);
  private headBoxes = el("div", { className: "ml-row ml-attn-heads", attrs: { role: "group", "aria-label": "heads" } });
  readonly canvas = el("canvas", { attrs: { "aria-label": "token view" } });
  private spacer = el("div");
  private scroller = el("div", { className: "ml-attn-scroll" }, [this.canvas, this.spacer]);
  private tooltip = new Tooltip(() => this.wrap);
  private wrap: HTMLElement = el("div", { className: "ml-heatmap-wrap" }, [this.scroller, this.tooltip.element]);
  private legend = new Legend();
  private note = el("div", { className: "ml-note" });
  readonly element = el("section", { className: "ml-attn-tokens", attrs: { "aria-label": "token view" } }, [
    el("h2", { text: "token view" }),
    el("div", { className: "ml-row" }, [
      labelled("token view layer", this.layerSelect),
      labelled("direction", this.directionSelect),
      labelled("token", this.tokenSelect),
    ]),
    this.headBoxes,
    this.legend.element,
    this.note,
    this.wrap,
  ]);
  private staleness = new Staleness();
  private source: { run: string; tag: string; step: StepData; wallTime?: number } | null = null;
  private loaded: Loaded | null = null;
  private optionsKey = "";
  private shape = "";

  constructor() {
    this.canvas.dataset.state = "empty";
    this.layerSelect.addEventListener("change", () => void this.load());
    this.directionSelect.addEventListener("change", () => this.pickToken(this.direction, 0));
    this.tokenSelect.addEventListener("change", () => this.reveal());
    this.scroller.addEventListener("scroll", () => this.draw());
    this.canvas.addEventListener("click", (e) => this.click(e.offsetX, e.offsetY));
    this.canvas.addEventListener("pointermove", (e) => this.hover(e.offsetX, e.offsetY));
    this.canvas.addEventListener("pointerleave", () => this.tooltip.hide());
    window.addEventListener("modellens-theme", () => this.draw());
  }

  private get direction(): Direction {
    return this.directionSelect.value as Direction;
  }

  /** A new step: keeps the layer, heads and token where the step has them. */
  setStep(run: string, tag: string, step: StepData, wallTime?: number): Promise<void> {
    this.source = { run, tag, step, wallTime };
    const key = JSON.stringify([step.layers, step.heads, step.rollout, step.layer_names]);
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      const layers: Array<[string, string]> = step.layer_names.map((name, l) => [
        String(l),
        `${l}: ${isolate(visibleName(name))}`,
      ]);
      if (step.rollout) layers.push(["rollout", "rollout"]);
      replaceOptions(this.layerSelect, layers, this.layerSelect.value || "0");
      const checked = new Set(this.checkedHeads().map(String));
      const boxes = [...Array.from({ length: step.heads }, (_, h) => String(h)), "mean"].map((h, k) => {
        const box = el("input", { attrs: { type: "checkbox", value: h, "aria-label": `head ${h}` } });
        box.checked = checked.size ? checked.has(h) : k === 0;
        box.addEventListener("change", () => void this.load());
        const swatch = el("span", { className: "ml-swatch" });
        swatch.style.background = this.headColor(h === "mean" ? "mean" : Number(h));
        return el("label", { className: "ml-row" }, [
          box,
          swatch,
          el("span", { text: h === "mean" ? "mean" : `${h}` }),
        ]);
      });
      this.headBoxes.replaceChildren(el("span", { className: "ml-note", text: "heads" }), ...boxes);
    }
    return this.load();
  }

  /** Shows a map's layer with that head only (a map was enlarged). */
  openMap(ref: MapRef): Promise<void> {
    this.layerSelect.value = String(ref.layer);
    for (const box of this.headBoxes.querySelectorAll("input")) box.checked = box.value === String(ref.head);
    return this.load();
  }

  /** Picks a stored query row (direction "query") or key column ("key"). */
  pickToken(direction: Direction, index: number): void {
    this.directionSelect.value = direction;
    this.updateTokenOptions();
    this.tokenSelect.value = String(index);
    this.reveal();
  }

  /** Draws, scrolled so that the picked token is in view. */
  private reveal(): void {
    this.draw();
    const y = this.rowY(this.picked);
    const height = this.scroller.clientHeight;
    if (y < ROW || y > height - ROW) {
      this.scroller.scrollTop = Math.max(0, PAD + this.picked * ROW - height / 2);
      this.draw();
    }
  }

  private checkedHeads(): Array<number | "mean"> {
    return [...this.headBoxes.querySelectorAll("input")]
      .filter((box) => box.checked)
      .map((box) => (box.value === "mean" ? "mean" : Number(box.value)));
  }

  private headColor(head: number | "mean"): string {
    return head === "mean" ? cssVar("--ml-fg") || "#222" : CATEGORY_COLORS[head % CATEGORY_COLORS.length];
  }

  private async load(): Promise<void> {
    const source = this.source;
    if (!source) return;
    const token = this.staleness.next();
    const rollout = this.layerSelect.value === "rollout";
    const heads: Array<number | "mean"> = rollout ? ["mean"] : this.checkedHeads();
    const layer = rollout ? "rollout" : Number(this.layerSelect.value);
    let maps: AttentionMap[];
    try {
      maps = await Promise.all(
        heads.map((head) => fetchMap(source.run, source.tag, source.step.step, { layer, head }, source.wallTime)),
      );
    } catch (error) {
      if (this.staleness.isCurrent(token)) this.note.textContent = `Could not load the maps: ${String(error)}`;
      return;
    }
    if (!this.staleness.isCurrent(token)) return;
    const step = source.step;
    const first = maps[0];
    this.loaded = {
      step,
      heads,
      maps,
      values: maps.map(mapFloats),
      rows: first ? axisLabels(step.query_tokens, first.rowBlock, first.rows) : [],
      cols: first ? axisLabels(step.tokens, first.colBlock, first.cols) : [],
    };
    this.note.textContent = heads.length ? "click a token to pick it · hover a token for its weights" : "Pick a head.";
    this.legend.categories(
      heads.map((h) => ({
        label: h === "mean" ? (rollout ? "rollout" : "head mean") : `head ${h}`,
        color: this.headColor(h),
      })),
    );
    this.updateTokenOptions();
    this.draw();
  }

  private updateTokenOptions(): void {
    const loaded = this.loaded;
    if (!loaded) return;
    const labels = this.direction === "query" ? loaded.rows : loaded.cols;
    const tokens = this.direction === "query" ? loaded.step.query_tokens : loaded.step.tokens;
    const map = loaded.maps[0];
    const block = map ? (this.direction === "query" ? map.rowBlock : map.colBlock) : 1;
    const key = JSON.stringify([this.direction, labels.length, block, tokens]);
    if (key === this.shape) return;
    this.shape = key;
    const previous = this.tokenSelect.value;
    replaceOptions(
      this.tokenSelect,
      labels.map((label, i) => [String(i), block > 1 ? label : indexedToken(tokens, i)]),
      previous || "0",
    );
  }

  private get picked(): number {
    return Number(this.tokenSelect.value) || 0;
  }

  /** Where the rows are: the view's height, the scroll and the y of row `i`. */
  private rowY(i: number): number {
    return PAD + i * ROW + ROW / 2 - this.scroller.scrollTop;
  }

  draw(): void {
    const context = this.canvas.getContext("2d");
    const loaded = this.loaded;
    if (!context || !loaded) return;
    const map = loaded.maps[0];
    const rows = map?.rows ?? 0;
    const cols = map?.cols ?? 0;
    const total = PAD * 2 + Math.max(rows, cols) * ROW;
    const height = Math.min(MAX_HEIGHT, total);
    this.scroller.style.height = `${height}px`;
    this.spacer.style.height = `${Math.max(0, total - height)}px`;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${WIDTH}px`;
    this.canvas.style.height = `${height}px`;
    if (this.canvas.width !== Math.round(WIDTH * dpr)) this.canvas.width = Math.round(WIDTH * dpr);
    if (this.canvas.height !== Math.round(height * dpr)) this.canvas.height = Math.round(height * dpr);
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.fillStyle = cssVar("--ml-bg") || "#fff";
    context.fillRect(0, 0, WIDTH, height);
    const leftX = 8 + LABEL;
    const rightX = leftX + SPAN;
    const scroll = this.scroller.scrollTop;
    const picked = this.picked;
    const fromQuery = this.direction === "query";
    // lines first, labels on top
    const weights = loaded.values.map((values, k) =>
      tokenWeights(values, loaded.maps[k].rows, loaded.maps[k].cols, this.direction, picked),
    );
    const alphas = lineAlphas(weights);
    let lines = 0;
    context.lineWidth = 2;
    alphas.forEach((alpha, k) => {
      context.strokeStyle = this.headColor(loaded.heads[k]);
      const y0 = this.rowY(picked);
      for (let t = 0; t < alpha.length; t++) {
        if (alpha[t] <= 0) continue;
        const y1 = this.rowY(t);
        if ((y0 < 0 && y1 < 0) || (y0 > height && y1 > height)) continue;
        context.globalAlpha = alpha[t];
        context.beginPath();
        context.moveTo(fromQuery ? leftX : rightX, y0);
        context.lineTo(fromQuery ? rightX : leftX, y1);
        context.stroke();
        lines++;
      }
    });
    context.globalAlpha = 1;
    const fg = cssVar("--ml-fg") || "#222";
    const accent = cssVar("--ml-accent") || "#f57c00";
    context.font = "12px sans-serif";
    context.textBaseline = "middle";
    const column = (labels: string[], x: number, align: "left" | "right", isPicked: (i: number) => boolean) => {
      context.textAlign = align;
      const [a, b] = visibleRows(labels.length, ROW, Math.max(0, scroll - PAD), height);
      for (let i = a; i <= b; i++) {
        context.fillStyle = isPicked(i) ? accent : fg;
        context.font = isPicked(i) ? "bold 12px sans-serif" : "12px sans-serif";
        context.fillText(fitText(context, labels[i], LABEL - 12), x, this.rowY(i));
      }
    };
    column(loaded.rows, leftX - 6, "right", (i) => fromQuery && i === picked);
    column(loaded.cols, rightX + 6, "left", (i) => !fromQuery && i === picked);
    Object.assign(this.canvas.dataset, {
      leftX: String(leftX),
      rightX: String(rightX),
      top: String(PAD + ROW / 2),
      rowHeight: String(ROW),
      scroll: String(scroll),
      direction: this.direction,
      token: String(picked),
      layer: this.layerSelect.value,
      heads: loaded.heads.join(","),
      lines: String(lines),
      rows: String(rows),
      cols: String(cols),
      step: String(loaded.step.step),
      state: "ready",
    });
  }

  /** The label under a point: which side and which row, or null. */
  private labelAt(x: number, y: number): { side: Direction; index: number } | null {
    const loaded = this.loaded;
    if (!loaded) return null;
    const index = Math.floor((y + this.scroller.scrollTop - PAD) / ROW);
    const leftX = 8 + LABEL;
    if (x < leftX && index >= 0 && index < loaded.rows.length) return { side: "query", index };
    if (x > leftX + SPAN && index >= 0 && index < loaded.cols.length) return { side: "key", index };
    return null;
  }

  private click(x: number, y: number): void {
    const label = this.labelAt(x, y);
    if (label) this.pickToken(label.side, label.index);
  }

  private hover(x: number, y: number): void {
    const loaded = this.loaded;
    const label = this.labelAt(x, y);
    this.canvas.style.cursor = label ? "pointer" : "";
    if (!loaded || !label) {
      this.tooltip.hide();
      return;
    }
    const lines = [label.side === "query" ? `query ${loaded.rows[label.index]}` : `key ${loaded.cols[label.index]}`];
    if (label.side !== this.direction) {
      const [q, k] = label.side === "key" ? [this.picked, label.index] : [label.index, this.picked];
      lines.push(`attention of query ${loaded.rows[q]} to key ${loaded.cols[k]}:`);
      loaded.heads.forEach((head, n) => {
        const map = loaded.maps[n];
        const name = head === "mean" ? "mean" : `head ${head}`;
        lines.push(`  ${name}: ${formatWeight(loaded.values[n][q * map.cols + k])}`);
      });
    } else {
      lines.push("click to pick it");
    }
    this.tooltip.show(lines, x, y, 320); // the canvas sticks to the top of the scrolled box
  }
}
