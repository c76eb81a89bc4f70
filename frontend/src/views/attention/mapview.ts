// The enlarged map: one map fetched from `attention/map` and drawn by core's Heatmap (one pixel
// per stored cell, scaled; zoom and pan; token labels on both axes when they fit, token ranges
// per block when the step is blocked). Hover shows the query and key token, the stored weight
// and its row's quantization bound; against a reference, the difference on a diverging scale.
// A blocked map with top-k keeps a row zoom (./rowzoom) of the original query rows.
import { ApiError } from "../../core/api";
import type { Reference } from "../../core/compare";
import { lookupTable, packRgba } from "../../core/colors";
import { el } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { Heatmap, type HoverEvent } from "../../core/heatmap";
import { Legend } from "../../core/legend";
import { Tooltip } from "../../core/tooltip";
import { fetchMap } from "./api";
import { RowZoom } from "./rowzoom";
import {
  axisLabels,
  cellLines,
  difference,
  differenceScale,
  formatWeight,
  mapTitle,
  maxAbs,
  mismatch,
  valuePixels,
  weightScale,
  type MapRef,
  type StepData,
} from "./shape";
import { mapFloats, type AttentionMap } from "./wire";

export interface MapRequest {
  run: string;
  tag: string;
  step: StepData;
  wallTime?: number;
  ref: MapRef;
  reference: Reference | null;
  referenceWallTime?: number; // the reference step's version, when known (same run)
}

/** What is drawn, for the tooltip and export. */
export interface DrawnMap {
  request: MapRequest;
  map: AttentionMap;
  values: Float32Array; // the map's stored weights
  shown: Float32Array; // the weights, or their difference against the reference
  rgba: Uint8ClampedArray;
  rowNames: string[];
  columnNames: string[];
  title: string;
  scaleNote: string;
  reference: { label: string; values: Float32Array } | null;
}

export class MapPanel {
  private title = el("h2", { text: "map" });
  private note = el("div", { className: "ml-note" });
  private legend = new Legend();
  private tooltip = new Tooltip(() => this.wrap);
  readonly heatmap: Heatmap = new Heatmap({
    ariaLabel: "attention map",
    xTitle: "key →",
    yTitle: "query →",
    left: 140,
    top: 110,
    overview: (image) => `${image.rows} × ${image.columns} cells`,
    onHover: (event) => this.hover(event),
    onClickCell: (row) => this.clickRow(row),
    onClickRowLabel: (row) => this.clickRow(row),
  });
  private wrap: HTMLElement = el("div", { className: "ml-heatmap-wrap" }, [this.heatmap.canvas, this.tooltip.element]);
  private rowZoom = new RowZoom();
  readonly element = el("section", { className: "ml-attn-map", attrs: { "aria-label": "enlarged map" } }, [
    this.title,
    this.legend.element,
    this.note,
    this.wrap,
    this.rowZoom.element,
  ]);
  private staleness = new Staleness();
  private drawnMap: DrawnMap | null = null;

  /** `onPickQuery(row)`: a stored query row was clicked (its label or a cell). */
  constructor(private readonly onPickQuery: (row: number) => void) {
    this.heatmap.canvas.dataset.state = "empty";
    window.addEventListener("modellens-theme", () => this.heatmap.draw());
    new ResizeObserver(() => this.heatmap.resize(Math.min(this.wrap.clientWidth || 700, 900))).observe(this.wrap);
  }

  get drawn(): DrawnMap | null {
    return this.drawnMap;
  }

  async show(request: MapRequest, keepView: boolean): Promise<void> {
    const token = this.staleness.next();
    this.heatmap.canvas.dataset.state = "loading"; // what a test waits on is the map asked for now
    const { run, tag, step, ref } = request;
    let map: AttentionMap;
    let referenceMap: AttentionMap | null = null;
    let note = "";
    try {
      map = await fetchMap(run, tag, step.step, ref, request.wallTime);
      if (request.reference) {
        try {
          referenceMap = await fetchMap(
            request.reference.run,
            tag,
            request.reference.step,
            ref,
            request.referenceWallTime,
          );
          const why = mismatch(map, referenceMap);
          if (why) {
            note = `${request.reference.label} cannot be subtracted (${why}); showing the weights.`;
            referenceMap = null;
          }
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          note = `${request.reference.label} has no such map for this tag; showing the weights.`;
        }
      }
    } catch (error) {
      if (this.staleness.isCurrent(token)) {
        this.note.textContent = `Could not load the map: ${String(error)}`;
        this.heatmap.canvas.dataset.state = "error";
      }
      return;
    }
    if (!this.staleness.isCurrent(token)) return;
    this.draw(request, map, referenceMap, note, keepView);
  }

  private draw(
    request: MapRequest,
    map: AttentionMap,
    referenceMap: AttentionMap | null,
    note: string,
    keepView: boolean,
  ): void {
    const { step, ref } = request;
    const values = mapFloats(map);
    const referenceValues = referenceMap ? mapFloats(referenceMap) : null;
    const shown = referenceValues ? difference(values, referenceValues) : values;
    const bound = maxAbs(shown);
    const scale = referenceValues ? differenceScale(bound) : weightScale(bound);
    const table = new Uint32Array(lookupTable(referenceValues ? "diverging" : "viridis").buffer);
    const rgba = valuePixels(shown, scale, table, packRgba(128, 128, 128, 60));
    const rowNames = axisLabels(step.query_tokens, map.rowBlock, map.rows);
    const columnNames = axisLabels(step.tokens, map.colBlock, map.cols);
    const title = `${mapTitle(step, ref)} · step ${step.step}`;
    const reference =
      referenceValues && request.reference ? { label: request.reference.label, values: referenceValues } : null;
    const scaleNote = reference
      ? `difference against ${reference.label}: ${formatWeight(-bound)} … +${formatWeight(bound)}`
      : `weight 0 … ${formatWeight(bound)}`;
    this.drawnMap = { request, map, values, shown, rgba, rowNames, columnNames, title, scaleNote, reference };
    this.tooltip.hide(); // it described the previous map
    this.title.textContent = title;
    const blocked = map.rowBlock > 1 || map.colBlock > 1;
    this.note.textContent = [
      note,
      blocked
        ? `${map.queries} × ${map.keys} tokens stored in blocks of ${map.rowBlock} × ${map.colBlock} (${map.rows} × ${map.cols} cells)` +
          (map.topK ? `; each query row keeps its exact top-${map.topK} keys (row zoom below)` : "")
        : "",
      "scroll to zoom, drag to pan, double-click to fit; click a query to follow it in the token view",
    ]
      .filter(Boolean)
      .join(" · ");
    this.legend.update(
      reference ? "diverging" : "viridis",
      scale,
      formatWeight,
      [],
      reference ? "difference" : "weight",
    );
    this.heatmap.setImage({ rows: map.rows, columns: map.cols, rgba, rowNames, columnNames }, keepView);
    Object.assign(this.heatmap.canvas.dataset, {
      run: request.run,
      tag: request.tag,
      step: String(step.step),
      layer: String(ref.layer),
      head: String(ref.layer === "rollout" ? "mean" : ref.head),
      rows: String(map.rows),
      cols: String(map.cols),
      rowBlock: String(map.rowBlock),
      colBlock: String(map.colBlock),
      compare: reference ? reference.label : "",
      state: "ready",
    });
    this.rowZoom.setMap(map, step);
  }

  private hover(event: HoverEvent | null): void {
    const drawn = this.drawnMap;
    if (!event || !drawn) {
      this.tooltip.hide();
      return;
    }
    const { map, request } = drawn;
    const lines = cellLines(
      {
        map,
        queryTokens: request.step.query_tokens,
        keyTokens: request.step.tokens,
        title: mapTitle(request.step, request.ref),
        values: drawn.values,
        reference: drawn.reference,
      },
      event.row,
      event.column,
    );
    this.tooltip.show(lines, event.x, event.y, 340);
    this.rowZoom.hoverBlock(event.row);
  }

  private clickRow(row: number): void {
    this.rowZoom.pinBlock(row);
    this.onPickQuery(row);
  }
}
