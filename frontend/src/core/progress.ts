// A visible note for slow work in a worker (a graph layout): what is happening, a progress bar
// and a Cancel button. Shown only when the work takes longer than `delayMs`, so quick work does
// not flash it.
import { el } from "./dom";

export class ProgressNote {
  readonly bar = el("progress", { attrs: { max: "1", value: "0", "aria-label": "progress" } });
  readonly cancelButton = el("button", { text: "Cancel" });
  private label = el("span");
  readonly element = el("div", { className: "ml-progress", attrs: { role: "status" } }, [
    this.label,
    this.bar,
    this.cancelButton,
  ]);
  private timer: number | undefined;
  private onCancel: (() => void) | null = null;

  constructor() {
    this.element.hidden = true;
    this.cancelButton.addEventListener("click", () => {
      const cancel = this.onCancel;
      this.hide();
      cancel?.();
    });
  }

  /** Starts showing `text` (after `delayMs`); `onCancel` runs when the user cancels. */
  start(text: string, onCancel: () => void, delayMs = 150): void {
    this.hide();
    this.label.textContent = text;
    this.bar.removeAttribute("value"); // indeterminate until the first update
    this.onCancel = onCancel;
    this.timer = window.setTimeout(() => (this.element.hidden = false), delayMs);
  }

  update(done: number, total: number, text?: string): void {
    this.bar.max = Math.max(1, total);
    this.bar.value = done;
    if (text !== undefined) this.label.textContent = text;
  }

  hide(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.onCancel = null;
    this.element.hidden = true;
  }
}
