// The Attention dashboard: run and tag pickers, step slider and the compare control in the
// sidebar; the grid of layers × heads (./grid) with the head scores (./scores), the enlarged map
// (./mapview, with its row zoom) and the token view (./tokens). Fetches through ./api (one
// thumbnails request per step, one request per enlarged map), shapes through ./shape.
import { ApiError } from "../../core/api";
import { lookupTable } from "../../core/colors";
import { CompareControl, type Reference } from "../../core/compare";
import { el, labelled, select } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { Legend } from "../../core/legend";
import { RunTagPicker } from "../../core/picker";
import { StepSlider } from "../../core/slider";
import { fetchSeries, fetchStep, fetchTags, fetchThumbnails } from "./api";
import { exportFields } from "./exporting";
import { Grid } from "./grid";
import { MapPanel } from "./mapview";
import { ScoreTable } from "./scores";
import {
  differenceScale,
  formatWeight,
  hasMap,
  mismatch,
  thumbnailAtlas,
  weightScale,
  type GridScale,
  type MapRef,
  type SeriesPoint,
  type StepData,
} from "./shape";
import { TokenView } from "./tokens";
import type { Thumbnails } from "./wire";

const EMPTY_NOTE =
  "No attention maps yet. Log some with modellens.Writer(...).attention(tag, weights, tokens=..., step=...), " +
  "modellens.transformers.log_attention(...) or modellens.torch.attention(model).";

export class AttentionView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private series: SeriesPoint[] = [];
  private seriesKey = "";
  private staleness = new Staleness();
  private step: StepData | null = null;
  private selected: MapRef | null = null;

  private picker = new RunTagPicker({
    load: fetchTags,
    first: "run",
    onSelect: (keepPosition) => this.loadSeries(keepPosition),
    onEmpty: () => {
      this.status.textContent = EMPTY_NOTE;
      this.content.hidden = true;
    },
    onError: (error) => this.fail(error),
    onOptions: () => this.compare.setRuns(this.picker.runsWithTag().filter((r) => r !== this.picker.run)),
  });
  private slider = new StepSlider(() => void this.renderStep(true));
  private compare = new CompareControl(
    "compare",
    { off: "off", step: "difference against another step", run: "difference against another run (same step)" },
    () => void this.renderStep(true),
  );
  private gridScale = select([
    ["own", "each map 0 … its largest weight"],
    ["shared", "one scale for all maps"],
  ]);
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private summary = el("div", { className: "ml-summary" });
  private gridLegend = new Legend();
  private grid = new Grid((ref) => void this.openMap(ref));
  private scores = new ScoreTable((ref) => void this.openMap(ref, true));
  private tokens = new TokenView();
  private mapPanel = new MapPanel((row) => this.tokens.pickToken("query", row));
  private content = el("div", { className: "ml-view-content" });

  constructor() {
    this.sidebar.append(
      ...this.picker.fields,
      this.slider.element,
      ...this.compare.fields,
      labelled("grid colour scale", this.gridScale),
      ...exportFields({
        gridCanvas: this.grid.canvas,
        mapCanvas: this.mapPanel.heatmap.canvas,
        grid: () => this.grid.drawn,
        map: () => this.mapPanel.drawn,
      }),
    );
    this.content.append(
      this.summary,
      el("div", { className: "ml-panels" }, [
        el("section", { className: "ml-attn-grid-panel", attrs: { "aria-label": "layers and heads" } }, [
          el("h2", { text: "layers × heads (click one to enlarge it)" }),
          this.gridLegend.element,
          this.grid.wrap,
        ]),
        el("section", { className: "ml-attn-scores", attrs: { "aria-label": "head scores" } }, [
          el("h2", { text: "head scores (click a header to sort, a row to open)" }),
          this.scores.element,
        ]),
      ]),
      el("div", { className: "ml-panels" }, [this.mapPanel.element, this.tokens.element]),
    );
    this.main.append(this.status, this.content);
    this.gridScale.addEventListener("change", () => void this.renderStep(true));
  }

  async start(): Promise<void> {
    await this.picker.start();
  }

  private async loadSeries(keepPosition: boolean): Promise<void> {
    const { run, tag } = this.picker;
    if (!run || !tag) return;
    const key = JSON.stringify([run, tag]);
    if (!keepPosition && key === this.seriesKey) return; // a "change" to the same value
    const sameSelection = key === this.seriesKey;
    this.seriesKey = key;
    if (!keepPosition) this.staleness.invalidate();
    let series: SeriesPoint[];
    try {
      series = await fetchSeries(run, tag);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (JSON.stringify([this.picker.run, this.picker.tag]) !== key) return; // the selection moved on
    this.series = series;
    this.content.hidden = false;
    this.slider.setSteps(
      series.map((p) => p.step),
      keepPosition && sameSelection,
    );
    this.compare.setSteps(series.map((p) => p.step));
    if (!series.length) this.status.textContent = `No steps in ${tag} of ${run} yet.`;
    await this.renderStep(keepPosition && sameSelection);
  }

  /** The reference of the difference, or null when not comparing. */
  private reference(step: number): Reference | null {
    return this.compare.reference(this.picker.run, step);
  }

  private wallTime(step: number): number | undefined {
    return this.series.find((p) => p.step === step)?.wall_time;
  }

  private async renderStep(keepView: boolean): Promise<void> {
    const token = this.staleness.next();
    const step = this.slider.step;
    const { run, tag } = this.picker;
    if (step === null || !run || !tag) return;
    const reference = this.reference(step);
    let data: StepData;
    let thumbs: Thumbnails;
    let referenceThumbs: Thumbnails | null = null;
    let note = "";
    try {
      const wallTime = this.wallTime(step);
      [data, thumbs] = await Promise.all([
        fetchStep(run, tag, step, wallTime),
        fetchThumbnails(run, tag, step, wallTime),
      ]);
      if (reference) {
        try {
          const version = reference.run === run ? this.wallTime(reference.step) : undefined;
          referenceThumbs = await fetchThumbnails(reference.run, tag, reference.step, version);
          const why = mismatch(thumbs, referenceThumbs);
          if (why) {
            note = `${reference.label} cannot be subtracted (${why}); showing the weights.`;
            referenceThumbs = null;
          }
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          note = `${reference.label} has no step of this tag; showing the weights.`;
        }
      }
    } catch (error) {
      if (this.staleness.isCurrent(token)) this.fail(error);
      return;
    }
    if (!this.staleness.isCurrent(token)) return; // a newer request superseded this one
    this.status.textContent = note;
    this.status.classList.remove("ml-error");
    this.step = data;
    const compare = referenceThumbs && reference ? reference.label : "";
    this.drawGrid(run, tag, data, thumbs, referenceThumbs, compare);
    if (!this.selected || !hasMap(data, this.selected)) this.selected = { layer: 0, head: 0 };
    this.grid.setSelected(this.selected);
    this.scores.update(data, this.selected);
    this.summary.textContent = summaryText(data, compare);
    const wallTime = this.wallTime(step);
    await Promise.all([
      this.mapPanel.show(
        {
          run,
          tag,
          step: data,
          wallTime,
          ref: this.selected,
          reference,
          referenceWallTime: reference && reference.run === run ? this.wallTime(reference.step) : undefined,
        },
        keepView,
      ),
      this.tokens.setStep(run, tag, data, wallTime),
    ]);
  }

  private drawGrid(
    run: string,
    tag: string,
    data: StepData,
    thumbs: Thumbnails,
    reference: Thumbnails | null,
    compare: string,
  ): void {
    const started = performance.now();
    const scale = this.gridScale.value as GridScale;
    const tables = {
      weights: new Uint32Array(lookupTable("viridis").buffer),
      diverging: new Uint32Array(lookupTable("diverging").buffer),
    };
    const atlas = thumbnailAtlas(thumbs, scale, tables, reference);
    this.grid.update({ run, tag, step: data, thumbs, atlas, compare });
    const bound = atlas.bounds[0] ?? 1;
    const perMap = scale === "own";
    const format = (v: number) => (perMap ? (v === 0 ? "0" : v < 0 ? "−max" : "max") : formatWeight(v));
    if (reference) this.gridLegend.update("diverging", differenceScale(bound), format, [], "difference");
    else this.gridLegend.update("viridis", weightScale(bound), format, [], perMap ? "weight (each map)" : "weight");
    const elapsed = performance.now() - started;
    this.grid.canvas.dataset.drawMs = elapsed.toFixed(1);
    // data arrival → grid drawn; read by the e2e test and bench/
    performance.measure("modellens:draw-attention", {
      start: started,
      end: performance.now(),
      detail: { layers: data.layers, heads: data.heads, queries: data.queries, keys: data.keys },
    });
  }

  /** Enlarges a map; the token view follows its layer and head. */
  private async openMap(ref: MapRef, reveal = false): Promise<void> {
    const data = this.step;
    if (!data || !hasMap(data, ref)) return;
    this.selected = ref;
    this.grid.setSelected(ref);
    this.scores.setSelected(ref);
    if (reveal) this.mapPanel.element.scrollIntoView({ block: "nearest" });
    const { run, tag } = this.picker;
    const wallTime = this.wallTime(data.step);
    await Promise.all([
      this.mapPanel.show({ run, tag, step: data, wallTime, ref, reference: this.reference(data.step) }, false),
      this.tokens.openMap(ref),
    ]);
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}

function summaryText(data: StepData, compare: string): string {
  const blocked = data.row_block > 1 || data.col_block > 1;
  return [
    `step ${data.step}`,
    `${data.layers} layers × ${data.heads} heads`,
    `${data.queries} × ${data.keys} tokens`,
    data.self_attention ? "self-attention" : "cross-attention",
    `stored as uint8 per row (|error| ≤ row max / 510, here ≤ ${formatWeight(data.max_error)})`,
    ...(blocked
      ? [
          `block-averaged to ${data.rows} × ${data.cols} (blocks of ${data.row_block} × ${data.col_block}), exact top-${data.top_k} keys per query`,
        ]
      : []),
    ...(data.rollout && !data.rollout_exact ? ["rollout multiplied per block (over 2,048 tokens)"] : []),
    ...(compare ? [`difference against ${compare}`] : []),
  ].join(" · ");
}
