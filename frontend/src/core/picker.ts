// Run and tag pickers fed by `<kind>/tags`, polled (tags and series every 30 s). Either the tag
// is picked first and the runs having it are offered ("tag"), or the run first ("run").
// `onSelect(keepPosition)` asks the view to load the selected series: `false` when the user
// changed the selection, `true` on a poll (stay at the same step, or follow the latest one).

import { labelled, replaceOptions, select } from "./dom";
import type { TagListing } from "./api";

export const POLL_INTERVAL_MS = 30_000;

export interface PickerOptions {
  load: () => Promise<TagListing>;
  first: "tag" | "run";
  onSelect: (keepPosition: boolean) => void | Promise<void>;
  onEmpty: () => void;
  onError: (error: unknown) => void;
  /** Called after the options were refreshed, before `onSelect`. */
  onOptions?: () => void;
}

export class RunTagPicker {
  readonly tagSelect = select([]);
  readonly runSelect = select([]);
  readonly tagField = labelled("tag", this.tagSelect);
  readonly runField = labelled("run", this.runSelect);
  listing: TagListing = {};
  private timer: number | undefined;

  constructor(private readonly options: PickerOptions) {
    const outer = options.first === "tag" ? this.tagSelect : this.runSelect;
    const inner = options.first === "tag" ? this.runSelect : this.tagSelect;
    outer.addEventListener("change", () => {
      this.updateInner();
      this.options.onOptions?.();
      void this.options.onSelect(false);
    });
    inner.addEventListener("change", () => void this.options.onSelect(false));
  }

  /** The two fields in their picking order. */
  get fields(): HTMLElement[] {
    return this.options.first === "tag" ? [this.tagField, this.runField] : [this.runField, this.tagField];
  }

  get run(): string {
    return this.runSelect.value;
  }

  get tag(): string {
    return this.tagSelect.value;
  }

  /** Loads the listing now and then every `interval` ms. */
  async start(interval = POLL_INTERVAL_MS): Promise<void> {
    await this.refresh();
    if (this.timer === undefined) this.timer = window.setInterval(() => void this.refresh(), interval);
  }

  /** Reloads the listing and asks for the current series again. */
  async refresh(): Promise<void> {
    try {
      this.listing = await this.options.load();
    } catch (error) {
      this.options.onError(error);
      return;
    }
    const outer = this.options.first === "tag" ? this.allTags() : Object.keys(this.listing).sort();
    if (!outer.length || !this.allTags().length) {
      this.options.onEmpty();
      return;
    }
    const select = this.options.first === "tag" ? this.tagSelect : this.runSelect;
    replaceOptions(
      select,
      outer.map((v) => [v, v]),
      select.value || outer[0],
    );
    this.updateInner();
    this.options.onOptions?.();
    await this.options.onSelect(true);
  }

  /** Selects a run and tag (both must be listed), as a user change would. */
  choose(run: string, tag: string): boolean {
    if (!this.listing[run]?.includes(tag)) return false;
    if (this.options.first === "tag") {
      this.tagSelect.value = tag;
      this.updateInner();
      this.runSelect.value = run;
    } else {
      this.runSelect.value = run;
      this.updateInner();
      this.tagSelect.value = tag;
    }
    this.options.onOptions?.();
    return true;
  }

  allTags(): string[] {
    return [...new Set(Object.values(this.listing).flat())].sort();
  }

  /** Runs that have the selected tag. */
  runsWithTag(tag = this.tag): string[] {
    return Object.keys(this.listing).filter((run) => this.listing[run].includes(tag));
  }

  private updateInner(): void {
    if (this.options.first === "tag") {
      const runs = this.runsWithTag();
      replaceOptions(
        this.runSelect,
        runs.map((r) => [r, r]),
        this.runSelect.value || runs[0],
      );
    } else {
      const tags = [...(this.listing[this.run] ?? [])].sort();
      replaceOptions(
        this.tagSelect,
        tags.map((t) => [t, t]),
        this.tagSelect.value || tags[0],
      );
    }
  }
}
