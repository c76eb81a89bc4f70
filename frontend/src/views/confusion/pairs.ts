// The most-confused pairs (true → predicted) of one step, as buttons: a click highlights the
// pair's cell in the heatmap (or clears it), the highlighted pair is marked active.
import { el } from "../../core/dom";
import { formatPercent, topConfused, type StepData } from "./shape";

const SHOWN = 10;

export class ConfusedPairs {
  readonly element = el("ol", { className: "ml-pairs" });

  constructor(private readonly onPick: (trueIndex: number, predictedIndex: number) => void) {}

  /** Lists the pairs of `data`; `highlight` is the highlighted true and predicted class names. */
  update(data: StepData, highlight: [string, string] | null): void {
    const items = topConfused(data, SHOWN).map((pair) => {
      const button = el("button", {
        text: `${data.class_names[pair.trueIndex]} → ${data.class_names[pair.predictedIndex]}: ${pair.count} (${formatPercent(pair.rowFraction)} of true)`,
      });
      const names = [data.class_names[pair.trueIndex], data.class_names[pair.predictedIndex]];
      if (highlight?.[0] === names[0] && highlight?.[1] === names[1]) button.classList.add("ml-active");
      button.addEventListener("click", () => this.onPick(pair.trueIndex, pair.predictedIndex));
      return el("li", {}, [button]);
    });
    if (!items.length) items.push(el("li", { className: "ml-note", text: "no confusions at this step" }));
    this.element.replaceChildren(...items);
  }
}
