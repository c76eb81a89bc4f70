// The step slider with play: a range input over a series' steps (aria-label "step"), a play
// button (aria-label "play") and a "step S (i of n)" label. Follows the latest step on a reload
// when it was at the last one.

import { el } from "./dom";

export const PLAY_INTERVAL_MS = 600;

export class StepSlider {
  readonly input = el("input", { attrs: { type: "range", min: "0", max: "0", value: "0", "aria-label": "step" } });
  readonly label = el("span", { className: "ml-step-label", text: "step –" });
  readonly playButton = el("button", { text: "▶ play", attrs: { "aria-label": "play" } });
  readonly element: HTMLElement;
  private steps: number[] = [];
  private playTimer: number | undefined;

  /** `onChange` runs on every move: by the user, by play, or by `goTo`. `name` labels the
   * slider ("step"; another name where a view has two, e.g. "graph step"). */
  constructor(
    private readonly onChange: () => void,
    name = "step",
  ) {
    if (name !== "step") {
      this.input.setAttribute("aria-label", name);
      this.playButton.setAttribute("aria-label", `play ${name}`);
    }
    this.element = el("div", { className: "ml-field" }, [
      el("span", { text: name }),
      this.input,
      el("div", { className: "ml-row" }, [this.playButton, this.label]),
    ]);
    this.input.addEventListener("input", () => {
      this.updateLabel();
      this.onChange();
    });
    this.playButton.addEventListener("click", () => this.togglePlay());
  }

  get length(): number {
    return this.steps.length;
  }

  get index(): number {
    return Number(this.input.value);
  }

  /** The selected step, or null without steps. */
  get step(): number | null {
    return this.steps[this.index] ?? null;
  }

  get allSteps(): readonly number[] {
    return this.steps;
  }

  /** Replaces the steps. With `keepPosition`, stays at the same step unless it was at the last
   * one (then follows the latest); otherwise goes to the last step. Does not call `onChange`. */
  setSteps(steps: number[], keepPosition: boolean): void {
    const atEnd = this.index >= this.steps.length - 1;
    const previous = this.step;
    this.steps = steps;
    this.input.max = String(Math.max(0, steps.length - 1));
    let index = steps.length - 1;
    if (keepPosition && !atEnd && previous !== null) {
      const found = steps.indexOf(previous);
      if (found >= 0) index = found;
    }
    this.input.value = String(Math.max(0, index));
    this.updateLabel();
  }

  /** Moves to `step` (the nearest earlier one when it is not in the series) and calls `onChange`. */
  goTo(step: number): void {
    let index = this.steps.indexOf(step);
    if (index < 0) {
      index = 0;
      for (let i = 0; i < this.steps.length; i++) if (this.steps[i] <= step) index = i;
    }
    if (!this.steps.length) return;
    this.input.value = String(index);
    this.updateLabel();
    this.onChange();
  }

  updateLabel(): void {
    const step = this.step;
    if (step !== null) this.label.textContent = `step ${step} (${this.index + 1} of ${this.steps.length})`;
  }

  togglePlay(): void {
    if (this.playTimer !== undefined) {
      clearInterval(this.playTimer);
      this.playTimer = undefined;
      this.playButton.textContent = "▶ play";
      return;
    }
    if (this.index >= this.steps.length - 1) this.input.value = "0";
    this.playButton.textContent = "❚❚ pause";
    this.playTimer = window.setInterval(() => {
      const next = this.index + 1;
      if (next >= this.steps.length) {
        this.togglePlay();
        return;
      }
      this.input.value = String(next);
      this.updateLabel();
      this.onChange();
    }, PLAY_INTERVAL_MS);
  }
}
