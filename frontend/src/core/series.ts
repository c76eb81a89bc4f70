// Loads the selected run and tag's series for a step-slider view: ignores a "change" to the same
// selection, drops draws still in flight for the previous one, keeps the slider's position on a
// reload, and renders the step (or goes to the one another view asked for).

import type { CompareControl } from "./compare";
import type { Staleness } from "./guard";
import type { RunTagPicker } from "./picker";
import type { StepSlider } from "./slider";

export interface SeriesLoaderOptions<P> {
  picker: RunTagPicker;
  slider: StepSlider;
  compare: CompareControl;
  staleness: Staleness;
  fetch: (run: string, tag: string) => Promise<P[]>;
  fail: (error: unknown) => void;
  /** The series arrived for `run`/`tag` (and is still the selection); the slider is not set yet. */
  loaded: (series: P[], run: string, tag: string) => void;
  render: () => Promise<void>;
}

export class SeriesLoader<P extends { step: number; wall_time: number }> {
  series: P[] = [];
  private key = ""; // the run and tag whose series is loaded

  constructor(private readonly options: SeriesLoaderOptions<P>) {}

  /** Loads the selection's series; `keepPosition` on a reload, `goTo` a step to show. */
  async load(keepPosition: boolean, goTo: number | null = null): Promise<void> {
    const { picker, slider, compare, staleness } = this.options;
    const { run, tag } = picker;
    if (!run || !tag) return;
    const key = JSON.stringify([run, tag]);
    if (!keepPosition && key === this.key && goTo === null) return; // a "change" to the same value
    const sameSelection = key === this.key;
    this.key = key;
    if (!keepPosition) staleness.invalidate();
    let series: P[];
    try {
      series = await this.options.fetch(run, tag);
    } catch (error) {
      this.options.fail(error);
      return;
    }
    if (JSON.stringify([picker.run, picker.tag]) !== key) return; // the selection moved on
    this.series = series;
    this.options.loaded(series, run, tag);
    const steps = series.map((p) => p.step);
    slider.setSteps(steps, keepPosition && sameSelection);
    compare.setSteps(steps);
    if (goTo !== null) slider.goTo(goTo);
    else await this.options.render();
  }

  /** The wall time of a loaded step (the step cache's version), if it is loaded. */
  wallTime(step: number): number | undefined {
    return this.series.find((p) => p.step === step)?.wall_time;
  }
}
