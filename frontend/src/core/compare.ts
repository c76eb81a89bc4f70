// The "difference against" control the views share: off, another step of the same run, or
// another run at the same step, with the reference step and run pickers shown as they apply.
import { labelled, replaceOptions, select } from "./dom";

export type CompareMode = "off" | "step" | "run";

/** What a view subtracts: a run and step, and how to name it ("step 3", "run b, step 10"). */
export interface Reference {
  run: string;
  step: number;
  label: string;
}

export class CompareControl {
  readonly mode: HTMLSelectElement;
  readonly referenceStep = select([]);
  readonly referenceRun = select([]);
  private stepField = labelled("reference step", this.referenceStep);
  private runField = labelled("reference run", this.referenceRun);
  /** The sidebar fields, in order. */
  readonly fields: HTMLElement[];

  /** `labels`: the option texts of the three modes; `title`: the field's label. */
  constructor(title: string, labels: Record<CompareMode, string>, onChange: () => void) {
    this.mode = select([
      ["off", labels.off],
      ["step", labels.step],
      ["run", labels.run],
    ]);
    this.fields = [labelled(title, this.mode), this.stepField, this.runField];
    for (const control of [this.mode, this.referenceStep, this.referenceRun]) {
      control.addEventListener("change", onChange);
    }
    this.sync();
  }

  /** The runs a reference may come from; `preferred` is picked when none was yet. */
  setRuns(runs: string[], preferred: string | undefined = runs[0]): void {
    replaceOptions(
      this.referenceRun,
      runs.map((r) => [r, r]),
      this.referenceRun.value || preferred || runs[0],
    );
  }

  /** The steps of the current series. */
  setSteps(steps: number[]): void {
    const options = steps.map((s) => [String(s), String(s)] as [string, string]);
    replaceOptions(this.referenceStep, options, this.referenceStep.value || options[0]?.[0]);
  }

  /** Shows the pickers that apply to the chosen mode, and returns it. */
  sync(): CompareMode {
    const mode = this.mode.value as CompareMode;
    this.stepField.hidden = mode !== "step";
    this.runField.hidden = mode !== "run";
    return mode;
  }

  /** The reference for `run` at `step`, or null when not comparing (or nothing to pick). */
  reference(run: string, step: number): Reference | null {
    const mode = this.sync();
    if (mode === "step" && this.referenceStep.value !== "") {
      const s = Number(this.referenceStep.value);
      return { run, step: s, label: `step ${s}` };
    }
    if (mode === "run" && this.referenceRun.value) {
      return { run: this.referenceRun.value, step, label: `run ${this.referenceRun.value}, step ${step}` };
    }
    return null;
  }
}
