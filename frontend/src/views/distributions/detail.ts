// The detail of one tensor: its distribution over steps per shown tag (weights and gradients
// side by side), optionally overlaid with a second run's; the histogram and the statistics table
// at the selected step. Approximate data (standard TensorBoard histograms) is marked as such.
import { ApiError } from "../../core/api";
import { el, labelled, replaceOptions, select } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { fetchTensor } from "./api";
import { BandChart } from "./bands";
import { HistogramChart } from "./histogram";
import { bands, histogramBins, mergeSteps, statRows, statsAt, type TensorSeries } from "./shape";

export interface DetailTarget {
  run: string;
  tags: string[]; // shown side by side
  name: string;
  compareRun: string; // "" for none
  version: string; // changes on every reload
}

interface Panel {
  tag: string;
  tensor: TensorSeries | null;
  compare: TensorSeries | null;
  chart: BandChart;
  histogram: HistogramChart;
}

export class Detail {
  readonly tensorSelect = select([]);
  readonly compareSelect = select([["", "none"]]);
  readonly yScale = select([
    ["linear", "linear"],
    ["asinh", "signed log"],
  ]);
  readonly element: HTMLElement;
  private title = el("h2", { text: "tensor" });
  private badge = el("span", { className: "ml-badge", text: "approximate" });
  private note = el("div", { className: "ml-note", attrs: { role: "status" } });
  private charts = el("div", { className: "ml-detail-row" });
  private histograms = el("div", { className: "ml-detail-row" });
  private tableHead = el("thead");
  private tableBody = el("tbody");
  private panels: Panel[] = [];
  private target: DetailTarget | null = null;
  private staleness = new Staleness();
  private step: number | null = null;

  constructor(
    private readonly onPickStep: (step: number) => void,
    private readonly onChange: () => void,
  ) {
    this.badge.hidden = true;
    this.badge.title = "estimated from histogram buckets: min/max are bucket edges; zeros, NaN and Inf are unknown";
    this.tensorSelect.addEventListener("change", () => this.onChange());
    this.compareSelect.addEventListener("change", () => this.onChange());
    this.yScale.addEventListener("change", () => this.onChange());
    this.element = el("section", { className: "ml-detail", attrs: { "aria-label": "tensor detail" } }, [
      el("div", { className: "ml-row" }, [
        this.title,
        this.badge,
        labelled("tensor", this.tensorSelect),
        labelled("compare with run", this.compareSelect),
        labelled("y scale", this.yScale),
      ]),
      this.note,
      this.charts,
      this.histograms,
      el("div", { className: "ml-table-wrap ml-stats" }, [
        el("table", { className: "ml-table", attrs: { "aria-label": "tensor statistics" } }, [
          this.tableHead,
          this.tableBody,
        ]),
      ]),
    ]);
    window.addEventListener("modellens-theme", () => this.panels.forEach((p) => p.chart.redraw()));
  }

  setOptions(names: string[], runs: string[], run: string): void {
    replaceOptions(
      this.tensorSelect,
      names.map((n) => [n, n]),
      this.tensorSelect.value || names[0],
    );
    const others = runs.filter((r) => r !== run);
    replaceOptions(
      this.compareSelect,
      [["", "none"], ...others.map((r) => [r, r] as [string, string])],
      this.compareSelect.value,
    );
  }

  /** Loads the target's tensors (cached per reload) and draws them. */
  async show(target: DetailTarget): Promise<void> {
    const token = this.staleness.next();
    const load = (run: string, tag: string) =>
      fetchTensor(run, tag, target.name, target.version).catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return null; // this run or tag lacks the tensor
        throw error;
      });
    let loaded: Array<[TensorSeries | null, TensorSeries | null]>;
    try {
      loaded = await Promise.all(
        target.tags.map(
          async (tag) =>
            [await load(target.run, tag), target.compareRun ? await load(target.compareRun, tag) : null] as [
              TensorSeries | null,
              TensorSeries | null,
            ],
        ),
      );
    } catch (error) {
      if (this.staleness.isCurrent(token))
        this.note.textContent = `Could not load the tensor: ${error instanceof Error ? error.message : String(error)}`;
      return;
    }
    if (!this.staleness.isCurrent(token)) return;
    this.target = target;
    this.title.textContent = target.name;
    const sameLayout =
      this.panels.length === target.tags.length && this.panels.every((p, i) => p.tag === target.tags[i]);
    if (!sameLayout) {
      this.panels = target.tags.map((tag) => ({
        tag,
        tensor: null,
        compare: null,
        chart: new BandChart(`${tag} distribution over steps`, (step) => this.onPickStep(step)),
        histogram: new HistogramChart(tag),
      }));
    }
    this.panels.forEach((panel, i) => ([panel.tensor, panel.compare] = loaded[i]));
    const approximate = this.panels.some((p) => p.tensor?.approximate || p.compare?.approximate);
    this.badge.hidden = !approximate;
    const missing = this.panels.filter((p) => !p.tensor).map((p) => p.tag);
    this.note.textContent = missing.length ? `${target.name} is not in ${missing.join(", ")} of ${target.run}.` : "";
    const width = Math.max(320, Math.floor((this.element.clientWidth || 900) / this.panels.length) - 16);
    this.charts.replaceChildren(
      ...this.panels.map((panel) => {
        const steps = mergeSteps(
          panel.tensor?.steps.map((s) => s.step) ?? [],
          panel.compare?.steps.map((s) => s.step) ?? [],
        );
        if (panel.tensor) {
          panel.chart.update(
            bands(panel.tensor, steps),
            panel.compare ? bands(panel.compare, steps) : null,
            target.compareRun,
            width,
            this.yScale.value === "asinh",
          );
        }
        return el("figure", { className: "ml-figure" }, [
          el("figcaption", {
            text: `${panel.tag}${panel.tensor?.approximate ? " (approximate)" : ""}: p1–p99, p5–p95, p25–p75, median; min/max dashed`,
          }),
          panel.tensor ? panel.chart.element : el("div", { className: "ml-note", text: "not logged" }),
        ]);
      }),
    );
    this.histograms.replaceChildren(
      ...this.panels.map((panel) =>
        el("figure", { className: "ml-figure" }, [
          el("figcaption", { text: `${panel.tag} histogram` }),
          panel.histogram.element,
        ]),
      ),
    );
    this.setStep(this.step);
  }

  /** Redraws the step-dependent parts: the histograms, the table and the charts' markers. */
  setStep(step: number | null): void {
    this.step = step;
    const target = this.target;
    if (!target) return;
    for (const panel of this.panels) {
      panel.chart.setStep(step);
      const stats = statsAt(panel.tensor, step);
      const other = statsAt(panel.compare, step);
      panel.histogram.update(
        stats ? histogramBins(stats, panel.tensor?.edges) : [],
        panel.tensor ? `${target.name} was not logged at step ${step}` : "not logged",
        other ? histogramBins(other, panel.compare?.edges) : [],
        target.compareRun,
      );
    }
    const columns: Array<[string, TensorSeries | null]> = [];
    for (const panel of this.panels) {
      columns.push([panel.tag, panel.tensor]);
      if (target.compareRun) columns.push([`${panel.tag} · ${target.compareRun}`, panel.compare]);
    }
    this.tableHead.replaceChildren(
      el("tr", {}, [
        el("th", { text: `step ${step ?? "–"}` }),
        ...columns.map(([label, t]) => el("th", { text: t?.approximate ? `${label} (approx.)` : label, title: label })),
      ]),
    );
    const rows = statRows(columns.map(([, tensor]) => statsAt(tensor, step)));
    this.tableBody.replaceChildren(
      ...rows.map(([label, cells]) =>
        el("tr", {}, [el("td", { text: label }), ...cells.map((c) => el("td", { text: c }))]),
      ),
    );
  }
}
