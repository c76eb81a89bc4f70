// The run's verdicts as severity-coloured buttons in a region labelled "alerts" (a click opens
// the verdict's tag, first tensor and first step), and the thresholds they were computed with,
// editable: a change refetches `distributions/verdicts` with them as query parameters.
import { el } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { fetchVerdicts } from "./api";
import { parseThreshold, sortVerdicts, type Verdict } from "./shape";

export class Alerts {
  readonly element: HTMLElement;
  private list = el("div", { className: "ml-alert-list" });
  private status = el("span", { className: "ml-note" });
  private thresholdsBox = el("div", { className: "ml-row ml-thresholds" });
  private inputs = new Map<string, HTMLInputElement>();
  private overrides: Record<string, number> = {};
  private staleness = new Staleness();
  private run = "";

  constructor(private readonly onOpen: (verdict: Verdict) => void) {
    const details = el("details", { className: "ml-thresholds-details" }, [
      el("summary", { text: "thresholds" }),
      this.thresholdsBox,
    ]);
    this.element = el("section", { className: "ml-alerts", attrs: { "aria-label": "alerts" } }, [
      el("div", { className: "ml-row" }, [el("h2", { text: "Alerts" }), this.status]),
      this.list,
      details,
    ]);
  }

  async load(run: string): Promise<void> {
    const token = this.staleness.next();
    this.run = run;
    let answer;
    try {
      answer = await fetchVerdicts(run, this.overrides);
    } catch (error) {
      if (this.staleness.isCurrent(token))
        this.status.textContent = `could not load verdicts: ${error instanceof Error ? error.message : String(error)}`;
      return;
    }
    if (!this.staleness.isCurrent(token)) return;
    this.renderThresholds(answer.thresholds);
    const verdicts = sortVerdicts(answer.verdicts);
    this.status.textContent = verdicts.length
      ? `${verdicts.length} in run ${run}`
      : `no problems found in run ${run} with these thresholds`;
    this.list.replaceChildren(
      ...verdicts.map((verdict) => {
        const button = el("button", {
          className: `ml-alert ml-severity-${verdict.severity === "error" ? "error" : "warning"}`,
          text: `${verdict.severity === "error" ? "✖" : "⚠"} ${verdict.message}`,
          title: `${verdict.kind} · ${verdict.tag} · steps ${verdict.first_step}–${verdict.last_step} · ${verdict.tensors.length} tensors: ${verdict.tensors.slice(0, 8).join(", ")}${verdict.tensors.length > 8 ? ", …" : ""}`,
          attrs: { "data-kind": verdict.kind, "data-severity": verdict.severity, "data-tag": verdict.tag },
        });
        button.addEventListener("click", () => this.onOpen(verdict));
        return button;
      }),
    );
  }

  private renderThresholds(thresholds: Record<string, number>): void {
    for (const [name, value] of Object.entries(thresholds)) {
      let input = this.inputs.get(name);
      if (!input) {
        input = el("input", { attrs: { type: "text", inputmode: "decimal", size: "8", "aria-label": name } });
        const field = el("label", { className: "ml-field" }, [el("span", { text: name.replace(/_/g, " ") }), input]);
        const target = input;
        target.addEventListener("change", () => this.onThreshold(name, target));
        this.inputs.set(name, input);
        this.thresholdsBox.appendChild(field);
      }
      if (document.activeElement !== input) input.value = String(value);
      input.classList.remove("ml-invalid");
    }
  }

  private onThreshold(name: string, input: HTMLInputElement): void {
    const value = parseThreshold(input.value);
    if (value === null) {
      input.classList.add("ml-invalid");
      input.title = "a positive number";
      return;
    }
    input.classList.remove("ml-invalid");
    this.overrides[name] = value;
    if (this.run) void this.load(this.run);
  }
}
