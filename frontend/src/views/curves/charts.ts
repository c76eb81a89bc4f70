// The ROC and PR charts of the shown curves (core's XYChart): one line per class, the micro
// average in the foreground colour, a reference's curves dashed in the same colours, the chance
// line, and the operating point of the threshold slider. Hover on either chart rings the same
// stored point on the other one; a click on a point moves the threshold slider there.
import { CATEGORY_COLORS } from "../../core/colors";
import { formatScore } from "../../core/format";
import { cutText, XYChart, type PointHit, type XYChartSpec, type XYSeries } from "../../core/xychart";
import { pointLines, type ClassKey, type Curve } from "./shape";

export interface Shown {
  curve: Curve;
  color: string;
  reference: boolean; // a reference's curve (dashed)
}

export interface Operating {
  curve: Curve; // the focused curve of the threshold slider
  index: number;
  color: string;
}

const LEGEND_LIMIT = 10;
const SIZE = { width: 450, height: 430 };

/** A class's colour: by its position in the selection; the micro average in the foreground. */
export function curveColor(key: ClassKey, position: number): string {
  return key === "micro" ? "--ml-fg" : CATEGORY_COLORS[position % CATEGORY_COLORS.length];
}

function chartSpec(
  shown: Shown[],
  which: "roc" | "pr",
  operating: Operating | null,
  referenceLabel: string,
): XYChartSpec {
  let legends = 0;
  const series: XYSeries[] = shown.map(({ curve, color, reference }) => {
    const score = which === "roc" ? `AUC ${formatScore(curve.auc)}` : `AP ${formatScore(curve.ap)}`;
    const legend = !reference && legends++ < LEGEND_LIMIT ? `${cutText(curve.name, 24)} (${score})` : undefined;
    return {
      color,
      x: which === "roc" ? curve.fpr : curve.tpr,
      y: which === "roc" ? curve.tpr : curve.precision,
      mode: "line",
      dash: reference ? "5 4" : undefined,
      width: reference ? 1.4 : curve.key === "micro" ? 2.4 : 1.8,
      legend,
    };
  });
  const own = shown.filter((s) => !s.reference).length;
  const notes = [
    ...(own > LEGEND_LIMIT ? [{ color: "--ml-muted", label: `+${own - LEGEND_LIMIT} more (see the table)` }] : []),
    ...(referenceLabel ? [{ color: "--ml-muted", label: `dashed: ${referenceLabel}`, dash: "5 4" }] : []),
  ];
  const guides =
    which === "roc"
      ? [{ x1: 0, y1: 0, x2: 1, y2: 1 }]
      : operating && operating.curve.positives + operating.curve.negatives > 0
        ? (() => {
            // a classifier without skill: precision = the positive rate, at every recall
            const rate = operating.curve.positives / (operating.curve.positives + operating.curve.negatives);
            return [{ x1: 0, y1: rate, x2: 1, y2: rate }];
          })()
        : [];
  const marker = operating
    ? which === "roc"
      ? { x: operating.curve.fpr[operating.index], y: operating.curve.tpr[operating.index] }
      : { x: operating.curve.tpr[operating.index], y: operating.curve.precision[operating.index] }
    : null;
  return {
    ...SIZE,
    xDomain: [0, 1],
    yDomain: [0, 1],
    xTitle: which === "roc" ? "false positive rate" : "recall",
    yTitle: which === "roc" ? "true positive rate" : "precision",
    series,
    guides,
    notes,
    markers: marker ? [{ ...marker, color: "--ml-accent", radius: 5.5 }] : [],
  };
}

/** The two charts, linked. `onPick(shownIndex, pointIndex)`: a click on a point. */
export class CurveCharts {
  readonly roc: XYChart;
  readonly pr: XYChart;
  private shown: Shown[] = [];
  private referenceLabel = "";

  constructor(onPick: (shown: Shown, index: number) => void) {
    const lines = (hit: PointHit | null) => {
      if (!hit) return null;
      const s = this.shown[hit.series];
      return s ? pointLines(s.curve, hit.index, s.reference ? this.referenceLabel : "") : null;
    };
    const pick = (hit: PointHit | null) => {
      if (hit && this.shown[hit.series]) onPick(this.shown[hit.series], hit.index);
    };
    this.roc = new XYChart({
      ariaLabel: "ROC curve",
      hover: (info) => lines(info.point),
      onPoint: (hit) => this.ring(this.pr, hit, "pr"),
      click: (info) => pick(info.point),
    });
    this.pr = new XYChart({
      ariaLabel: "PR curve",
      hover: (info) => lines(info.point),
      onPoint: (hit) => this.ring(this.roc, hit, "roc"),
      click: (info) => pick(info.point),
    });
  }

  update(shown: Shown[], operating: Operating | null, referenceLabel: string): void {
    this.shown = shown;
    this.referenceLabel = referenceLabel;
    this.roc.update(chartSpec(shown, "roc", operating, referenceLabel));
    this.pr.update(chartSpec(shown, "pr", operating, referenceLabel));
  }

  /** Rings the hovered point of one chart on the other. */
  private ring(other: XYChart, hit: PointHit | null, which: "roc" | "pr"): void {
    const s = hit ? this.shown[hit.series] : undefined;
    if (!hit || !s) {
      other.setHighlights([]);
      return;
    }
    const c = s.curve;
    const [x, y] = which === "roc" ? [c.fpr[hit.index], c.tpr[hit.index]] : [c.tpr[hit.index], c.precision[hit.index]];
    other.setHighlights([{ x, y, color: s.color }]);
  }
}
