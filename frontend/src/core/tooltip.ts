// A tooltip (role "tooltip") positioned inside a relatively positioned container; its text is
// set through textContent only.

import { el } from "./dom";

export class Tooltip {
  readonly element = el("div", { className: "ml-tooltip", attrs: { role: "tooltip" } });

  constructor(private readonly container: () => HTMLElement) {
    this.element.hidden = true;
  }

  /** Shows `lines` near (x, y), CSS pixels within the container; flips left near its right edge. */
  show(lines: string[], x: number, y: number, width = 260): void {
    this.element.textContent = lines.join("\n");
    this.element.hidden = false;
    const containerWidth = this.container().clientWidth;
    const left = x + 16 + width > containerWidth ? x - width - 10 : x + 16;
    this.element.style.left = `${Math.max(0, left)}px`;
    this.element.style.top = `${y + 16}px`;
  }

  hide(): void {
    this.element.hidden = true;
  }
}
