// Which groups are expanded. The view opens on the top-level modules (a single top-level group,
// the model itself, is opened so that its children show); a group keeps its flag while an
// ancestor is collapsed, so reopening the ancestor shows it as it was. Pure, unit-tested.
import { isGroup, MODULE, SECTION, type GraphModel } from "./wire";

function loneChild(model: GraphModel, i: number): number {
  const children = model.children[i];
  return children.length === 1 && isGroup(model, children[0]) ? children[0] : -1;
}

export class Expansion {
  readonly expanded: Uint8Array;
  /** Groups opened by default: the chain of lone top-level groups. */
  readonly initial: number[] = [];

  constructor(readonly model: GraphModel) {
    this.expanded = new Uint8Array(model.size);
    this.expanded[model.root] = 1;
    let level = model.children[model.root];
    for (;;) {
      const groups = level.filter((i) => isGroup(model, i));
      const modules = level.filter((i) => model.kind[i] === MODULE);
      if (groups.length !== 1 || modules.length !== 1) break;
      this.initial.push(groups[0]);
      level = model.children[groups[0]];
    }
    this.reset();
  }

  isExpanded(i: number): boolean {
    return this.expanded[i] === 1;
  }

  /** Back to the opening state. */
  reset(): void {
    this.expanded.fill(0);
    this.expanded[this.model.root] = 1;
    for (const i of this.initial) this.expanded[i] = 1;
  }

  /** Opens or closes a group. Opening a group whose only child is a group (a ModuleList in
   * its block) opens that child too, and so on. */
  set(i: number, open: boolean): boolean {
    if (!isGroup(this.model, i) || i === this.model.root) return false;
    const before = this.expanded[i];
    this.expanded[i] = open ? 1 : 0;
    for (let only = loneChild(this.model, i); open && only >= 0; only = loneChild(this.model, only)) {
      this.expanded[only] = 1;
    }
    return before !== this.expanded[i];
  }

  toggle(i: number): boolean {
    return this.set(i, !this.isExpanded(i));
  }

  /** Every group above level `depth` open (the top level is 0: depth 1 opens the top-level groups),
   * everything deeper closed; the opening chain stays open. */
  expandToDepth(depth: number): void {
    this.reset();
    const { model } = this;
    for (let i = 0; i < model.size; i++) {
      if (i === model.root || !isGroup(model, i)) continue;
      // a section holds nodes of its own level: open it where those nodes show
      const limit = model.kind[i] === SECTION ? depth + 1 : depth;
      if (model.level[i] < limit) this.expanded[i] = 1;
    }
  }

  expandAll(): void {
    for (let i = 0; i < this.model.size; i++) if (isGroup(this.model, i)) this.expanded[i] = 1;
  }

  /** Opens every ancestor of `i` (sections included), so that `i` is visible. */
  reveal(i: number): boolean {
    let changed = false;
    for (let p = this.model.parent[i]; p >= 0; p = this.model.parent[p]) {
      if (!isGroup(this.model, p) && p !== this.model.root) continue; // a sealed module stays shut
      if (!this.expanded[p]) changed = true;
      this.expanded[p] = 1;
    }
    return changed;
  }

  snapshot(): Uint8Array {
    return this.expanded.slice();
  }

  restore(state: Uint8Array): void {
    this.expanded.set(state);
  }

  /** How many groups are open (the root excluded). */
  get openCount(): number {
    let n = 0;
    for (let i = 0; i < this.expanded.length; i++) n += this.expanded[i];
    return n - 1;
  }
}
