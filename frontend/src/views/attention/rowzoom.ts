// The row zoom of a blocked map (more than 512 tokens): the original query rows of one stored
// row block, each with its exact top-k keys (token, index, weight) as the record keeps them.
// Follows the hovered block until one is clicked (pinned); "query row" jumps to any row.
import { el } from "../../core/dom";
import { blockRange, formatWeight, visibleToken, type StepData } from "./shape";
import { topKeys, type AttentionMap } from "./wire";

function token(text: string): HTMLElement {
  return el("span", { className: "ml-token", text: visibleToken(text), attrs: { dir: "auto" } });
}

export class RowZoom {
  private heading = el("h2", { text: "row zoom" });
  private input = el("input", { attrs: { type: "number", min: "0", value: "0", "aria-label": "query row" } });
  private body = el("tbody");
  readonly element = el("section", { className: "ml-attn-rowzoom", attrs: { "aria-label": "row zoom" } }, [
    this.heading,
    el("div", { className: "ml-row" }, [
      el("label", { className: "ml-row" }, [el("span", { className: "ml-note", text: "query row" }), this.input]),
      el("span", { className: "ml-note", text: "hover a row of the map to follow it, click to pin it" }),
    ]),
    el("div", { className: "ml-table-wrap" }, [
      el("table", { className: "ml-table ml-topk", attrs: { "aria-label": "top keys" } }, [
        el("thead", {}, [el("tr", {}, [el("th", { text: "query" }), el("th", { text: "exact top keys" })])]),
        this.body,
      ]),
    ]),
  ]);
  private map: AttentionMap | null = null;
  private step: StepData | null = null;
  private pinned: number | null = null;
  private shownBlock = -1;
  private marked = -1;

  constructor() {
    this.element.hidden = true;
    this.input.addEventListener("change", () => {
      if (!this.map) return;
      const q = Math.max(0, Math.min(this.map.queries - 1, Math.floor(Number(this.input.value) || 0)));
      this.marked = q;
      this.pinBlock(Math.floor(q / this.map.rowBlock), q);
    });
  }

  setMap(map: AttentionMap, step: StepData): void {
    this.map = map;
    this.step = step;
    this.element.hidden = map.topK === 0;
    if (map.topK === 0) return;
    this.input.max = String(map.queries - 1);
    if (this.pinned !== null && this.pinned >= map.rows) this.pinned = null;
    this.render(this.pinned ?? 0, true);
  }

  hoverBlock(block: number): void {
    if (this.pinned === null) this.render(block, false);
  }

  /** Pins stored row `block`; `row` marks one original query row in it. */
  pinBlock(block: number, row?: number): void {
    if (!this.map || this.map.topK === 0) return;
    this.pinned = block;
    this.marked = row ?? block * this.map.rowBlock;
    this.input.value = String(this.marked);
    this.render(block, true);
  }

  private render(block: number, force: boolean): void {
    const { map, step } = this;
    if (!map || !step || map.topK === 0 || (!force && block === this.shownBlock)) return;
    this.shownBlock = block;
    const [a, b] = blockRange(block, map.rowBlock, map.queries);
    this.heading.textContent =
      `row zoom: queries ${a}–${b} (stored row ${block} of ${map.rows}), exact top-${map.topK} keys each` +
      (this.pinned === block ? " · pinned" : "");
    const rows: HTMLElement[] = [];
    for (let q = a; q <= b; q++) {
      const keys = el("td");
      for (const { key, value } of topKeys(map, q)) {
        keys.append(
          el("span", { className: "ml-topk-key", attrs: { "data-key": String(key) } }, [
            token(step.tokens[key] ?? ""),
            el("span", { className: "ml-note", text: ` #${key} ` }),
            el("span", { text: formatWeight(value) }),
          ]),
        );
      }
      const tr = el("tr", { attrs: { "data-query": String(q) } }, [
        el("td", {}, [el("span", { className: "ml-note", text: `#${q} ` }), token(step.query_tokens[q] ?? "")]),
        keys,
      ]);
      if (q === this.marked) tr.classList.add("ml-active");
      rows.push(tr);
    }
    this.body.replaceChildren(...rows);
  }
}
