// The threshold panel: which shown curve (a class or the micro average), a slider over its stored
// thresholds (left: the lowest, everything positive; right: +Inf, nothing positive), and the 2 × 2
// confusion matrix at that threshold with precision, recall and F1; a button opens the
// Confusion matrices view of the run. The threshold is kept across steps and classes: each
// curve shows its point with the smallest threshold ≥ the chosen one.
import { el, labelled, replaceOptions, select } from "../../core/dom";
import { formatExact, formatScore } from "../../core/format";
import { confusionAt, pointAtThreshold, pointOfPosition, positionOfPoint, type Confusion, type Curve } from "./shape";

const DEFAULT_THRESHOLD = 0.5;

export class ThresholdPanel {
  readonly focus = select([]);
  readonly slider = el("input", {
    attrs: { type: "range", min: "0", max: "0", value: "0", "aria-label": "threshold" },
  });
  readonly element: HTMLElement;
  readonly openButton = el("button", { text: "open in Confusion matrices", className: "ml-curves-open" });
  private label = el("div", { className: "ml-curves-threshold", attrs: { "aria-live": "polite" } });
  private cells = {
    tp: el("td", { attrs: { "data-cell": "tp" } }),
    fn: el("td", { attrs: { "data-cell": "fn" } }),
    fp: el("td", { attrs: { "data-cell": "fp" } }),
    tn: el("td", { attrs: { "data-cell": "tn" } }),
  };
  private metrics = el("div", { className: "ml-curves-metrics" });
  private curve: Curve | null = null;
  private threshold = DEFAULT_THRESHOLD;
  private pointIndex = 0;

  /** `onChange`: the focused curve or its point changed (redraw the operating point). */
  constructor(
    private readonly onChange: () => void,
    onOpen: () => void,
  ) {
    const head = (text: string) => el("th", { text, attrs: { scope: "col" } });
    const rowHead = (text: string) => el("th", { text, attrs: { scope: "row" } });
    const matrix = el("table", { className: "ml-curves-matrix", attrs: { "aria-label": "confusion at threshold" } }, [
      el("thead", {}, [el("tr", {}, [el("th"), head("predicted positive"), head("predicted negative")])]),
      el("tbody", {}, [
        el("tr", {}, [rowHead("actual positive"), this.cells.tp, this.cells.fn]),
        el("tr", {}, [rowHead("actual negative"), this.cells.fp, this.cells.tn]),
      ]),
    ]);
    this.element = el("section", { className: "ml-curves-panel", attrs: { "aria-label": "operating point" } }, [
      el("h2", { text: "at a threshold" }),
      el("div", { className: "ml-note", text: "a score ≥ the threshold counts as positive" }),
      labelled("threshold of", this.focus),
      this.slider,
      this.label,
      matrix,
      this.metrics,
      this.openButton,
    ]);
    this.focus.setAttribute("aria-label", "threshold class");
    this.slider.addEventListener("input", () => {
      if (!this.curve) return;
      this.pointIndex = pointOfPosition(this.curve, Number(this.slider.value));
      this.threshold = this.curve.threshold[this.pointIndex];
      this.render();
      this.onChange();
    });
    this.focus.addEventListener("change", () => this.onChange());
    this.openButton.addEventListener("click", onOpen);
  }

  /** The shown curves that the slider may follow (value: a curve key as text); the followed one
   * stays unless it is gone (then `preferred`) or `force`. */
  setOptions(options: Array<[string, string]>, preferred?: string, force = false): void {
    const stays = !force && options.some(([v]) => v === this.focus.value);
    const keep = stays ? this.focus.value : (preferred ?? options[0]?.[0]);
    replaceOptions(this.focus, options, keep);
  }

  get focusKey(): string {
    return this.focus.value;
  }

  /** Follows `curve` at the kept threshold. */
  show(curve: Curve | null): void {
    this.curve = curve;
    if (!curve) {
      this.element.hidden = true;
      return;
    }
    this.element.hidden = false;
    this.pointIndex = pointAtThreshold(curve, this.threshold);
    this.slider.max = String(curve.threshold.length - 1);
    this.slider.value = String(positionOfPoint(curve, this.pointIndex));
    this.render();
  }

  /** Moves to a point of the focused curve (a click on the chart). */
  setPoint(index: number): void {
    if (!this.curve) return;
    this.pointIndex = Math.max(0, Math.min(this.curve.threshold.length - 1, index));
    this.threshold = this.curve.threshold[this.pointIndex];
    this.slider.value = String(positionOfPoint(this.curve, this.pointIndex));
    this.render();
  }

  get index(): number {
    return this.pointIndex;
  }

  get confusion(): Confusion | null {
    return this.curve ? confusionAt(this.curve, this.pointIndex) : null;
  }

  private render(): void {
    const curve = this.curve;
    if (!curve) return;
    const c = confusionAt(curve, this.pointIndex);
    const n = curve.threshold.length;
    this.label.textContent =
      this.pointIndex === 0
        ? `threshold: +Inf (nothing positive) · point 1 of ${n}`
        : `threshold: ${formatExact(c.threshold)} · point ${this.pointIndex + 1} of ${n}`;
    this.slider.dataset.threshold = this.pointIndex === 0 ? "inf" : String(c.threshold);
    this.slider.dataset.point = String(this.pointIndex);
    const set = (cell: HTMLElement, label: string, count: number, help: string) => {
      cell.textContent = `${label}: ${count}`;
      cell.title = help;
      cell.dataset.value = String(count);
    };
    set(this.cells.tp, "TP", c.tp, "true positives: positive samples scored ≥ the threshold");
    set(this.cells.fn, "FN", c.fn, "false negatives: positive samples scored below it");
    set(this.cells.fp, "FP", c.fp, "false positives: negative samples scored ≥ the threshold");
    set(this.cells.tn, "TN", c.tn, "true negatives: negative samples scored below it");
    const parts: Array<[string, number]> = [
      ["precision", c.precision],
      ["recall", c.recall],
      ["F1", c.f1],
      ["FPR", c.fpr],
      ["accuracy", c.accuracy],
    ];
    this.metrics.replaceChildren(
      ...parts.map(([name, value]) =>
        el("span", { text: `${name} ${formatScore(value)}`, title: `${name}: ${formatExact(value)}` }),
      ),
    );
  }
}
