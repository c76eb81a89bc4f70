"""HTTP routes of the Training health view: distributions of ModelLens records and of standard
TensorBoard histograms (one more tag per run, marked approximate), and the run's verdicts.

Each tag's steps are reduced once per change of the series to a ``TagSeries`` (tensors × steps
of scalar statistics), cached; the heatmap, the bands of the detail view and the verdicts all
read it. Histograms are read from the records only for the one tensor or step asked for.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Hashable, Iterator

import numpy as np
from tensorboard import errors
from werkzeug import wrappers

from modellens import distributions
from modellens.distributions import health
from modellens.distributions import series as series_module
from modellens.distributions import tensorboard_histograms as legacy
from modellens.distributions.series import COUNTS, PERCENTILE_NAMES, TagSeries
from modellens.distributions.stats import PERCENTILES
from modellens.tb_plugin import query
from modellens.tb_plugin.data import LRU, KindReader, Source, Step
from modellens.tb_plugin.routes import KindRoutes, experiment, respond

SERIES_CACHE_BYTES = 256 * 2**20
_VALUES = ("min", "max", "mean", "std", "norm", "max_abs")


def legacy_source() -> Source:
    return Source(legacy.PLUGIN_NAME, lambda content: True, legacy.decode)


def floats(values: np.ndarray) -> list:
    """A float array as JSON numbers, ``None`` for NaN and ±Inf."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, None).tolist()


def _number(value: float) -> float | int | None:
    if not np.isfinite(value):
        return None
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def tensor_at(series: TagSeries, t: int, s: int) -> dict[str, Any]:
    """The scalar statistics of tensor ``t`` at column ``s`` (no histogram)."""
    table = series.table
    entry: dict[str, Any] = {key: _number(table[key][t, s]) for key in COUNTS + _VALUES}
    entry["percentiles"] = {str(q): _number(table[name][t, s]) for q, name in zip(PERCENTILES, PERCENTILE_NAMES)}
    entry["extras"] = {name: _number(table[name][t, s]) for name in series.extras if np.isfinite(table[name][t, s])}
    return entry


def tensor_info(series: TagSeries, t: int) -> dict[str, Any]:
    elements = series.table["elements"][t]
    known = elements[np.isfinite(elements)]
    return {
        "name": series.names[t],
        "shape": list(series.shapes[t]),
        "dtype": series.dtypes[t],
        "elements": int(known[-1]) if known.size else None,
    }


def nonfinite_runs(counts: np.ndarray) -> list[list[int]]:
    """``[tensor, first column, last column]`` of each run of consecutive cells holding NaN/Inf
    (a diverged run stays non-finite: a few runs instead of a pair per cell)."""
    flags = np.nan_to_num(counts, nan=0.0) > 0
    padded = np.zeros((flags.shape[0], flags.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = flags
    edges = np.diff(padded, axis=1)
    starts, ends = np.argwhere(edges == 1), np.argwhere(edges == -1)
    return [[int(t), int(a), int(b) - 1] for (t, a), (_, b) in zip(starts, ends)]


def series_body(run: str, tag: str, series: TagSeries, metric: str, downsampled: bool) -> dict[str, Any]:
    return {
        "run": run,
        "tag": tag,
        "metric": metric,
        "approximate": series.approximate,
        "downsampled": downsampled,
        "metrics": list(series.metrics),
        "steps": series.steps.tolist(),
        "wall_times": series.wall_times.tolist(),
        "tensors": [tensor_info(series, t) for t in range(len(series.names))],
        "values": floats(series.table[metric]),
        "nonfinite": nonfinite_runs(series.table["nonfinite"]),
    }


class DistributionsRoutes(KindRoutes):
    slug = "distributions"

    def __init__(self, reader: KindReader, legacy_reader: KindReader) -> None:
        super().__init__(reader)
        self.legacy = legacy_reader
        self._cache = LRU(SERIES_CACHE_BYTES)

    def extra_routes(self):
        return {"/distributions/tensor": self._tensor, "/distributions/verdicts": self._verdicts}

    # ---------------------------------------------------------------- reading

    def tags(self, request: wrappers.Request) -> dict[str, list[str]]:
        return self._tags_of(*experiment(request))

    def _tags_of(self, ctx, experiment_id: str) -> dict[str, list[str]]:
        tags = self.reader.tags(ctx, experiment_id)
        for run in self.legacy.tags(ctx, experiment_id):
            tags.setdefault(run, []).append(legacy.TAG)
        return dict(sorted(tags.items()))

    def _is_legacy(self, ctx, experiment_id: str, run: str, tag: str) -> bool:
        if tag != legacy.TAG:
            return False
        return run in self.legacy.tags(ctx, experiment_id) and tag not in self.reader.tags(ctx, experiment_id).get(
            run, []
        )

    def _legacy_steps(self, ctx, experiment_id: str, run: str) -> tuple[Hashable, Iterator[tuple[int, float, Any]]]:
        """The run's standard histograms, one ``Distributions`` per step (one tensor per tag)."""
        names = self.legacy.tags(ctx, experiment_id).get(run)
        if not names:
            raise errors.NotFoundError(f"no TensorBoard histograms for run {run!r}")
        versions = tuple(self.legacy.version(ctx, experiment_id, run, name) for name in names)

        def steps() -> Iterator[tuple[int, float, Any]]:  # read and decoded only on a cache miss
            by_step: dict[int, tuple[float, list]] = {}
            for name in names:
                for item in self.legacy.steps(ctx, experiment_id, run, name)[1]:
                    wall_time, named = by_step.get(item.step, (item.wall_time, []))
                    named.append((name, item.value))
                    by_step[item.step] = (max(wall_time, item.wall_time), named)
            for step, (wall, named) in sorted(by_step.items()):
                yield step, wall, legacy.as_distributions(named)

        return versions, steps()

    def tag_series(self, ctx, experiment_id: str, run: str, tag: str) -> TagSeries:
        """The cached ``TagSeries`` of a tag; 404 for an unknown run or tag."""
        if self._is_legacy(ctx, experiment_id, run, tag):
            version, steps = self._legacy_steps(ctx, experiment_id, run)
            approximate = True
        else:
            version, decoded = self.reader.steps(ctx, experiment_id, run, tag)
            steps = ((item.step, item.wall_time, item.value) for item in decoded)
            approximate = False
        key = (experiment_id, run, tag)
        cached = self._cache.get(key, version)
        if cached is None:
            cached = series_module.assemble(steps, approximate=approximate)
            self._cache.put(key, version, cached, cached.nbytes)
        return cached

    def histograms(self, ctx, experiment_id: str, run: str, tag: str) -> HistogramCube:
        """Every histogram of a tag as one ``[steps, tensors, bins]`` array in the narrowest
        unsigned type, built on the first request for one of its tensors and cached: reading one
        tensor over every step otherwise decompresses every record."""
        version, decoded = self.reader.steps(ctx, experiment_id, run, tag)
        key = (experiment_id, run, tag, "histograms")
        cached = self._cache.get(key, version)
        if cached is None:
            cached = HistogramCube.build(decoded)
            self._cache.put(key, version, cached, cached.counts.nbytes)
        return cached

    def _tensor_index(self, series: TagSeries, name: str) -> int:
        t = series.index(name)
        if t is None:
            raise errors.NotFoundError(f"no tensor {name!r} in this tag")
        return t

    # ---------------------------------------------------------------- the kind's two functions

    @staticmethod
    def detail(item: Step) -> dict[str, Any]:
        """Every tensor of one step, with its histogram."""
        data: distributions.Distributions = item.value
        one = series_module.assemble([(item.step, item.wall_time, data)])
        tensors = []
        for t in range(len(data.names)):
            entry = {**tensor_info(one, t), **tensor_at(one, t, 0)}
            entry["histogram"] = data.stats.histograms[t].tolist()
            tensors.append(entry)
        return {
            "step": item.step,
            "wall_time": item.wall_time,
            "bins": int(data.stats.histograms.shape[1]),
            "approximate": False,
            "tensors": tensors,
        }

    # ---------------------------------------------------------------- handlers

    def series_body(self, request: wrappers.Request) -> dict[str, Any]:
        ctx, experiment_id, run, tag = self.run_tag(request)
        series = self.tag_series(ctx, experiment_id, run, tag)
        metric = query.choice(request, "metric", series.metrics, "norm")
        if series.approximate:
            names = self.legacy.tags(ctx, experiment_id).get(run, [])
            downsampled = any(self.legacy.downsampled(ctx, experiment_id, run, name) for name in names)
        else:
            downsampled = self.reader.downsampled(ctx, experiment_id, run, tag)
        return series_body(run, tag, series, metric, downsampled)

    def step_body(self, request: wrappers.Request) -> dict[str, Any]:
        ctx, experiment_id, run, tag = self.run_tag(request)
        step = query.integer(request, "step")
        if not self._is_legacy(ctx, experiment_id, run, tag):
            return {"run": run, "tag": tag, **self.detail(self.reader.step(ctx, experiment_id, run, tag, step))}
        series = self.tag_series(ctx, experiment_id, run, tag)
        column = np.flatnonzero(series.steps == step)
        if not column.size:
            raise errors.NotFoundError(f"no step {step} for run {run!r}, tag {tag!r}")
        tensors = []
        for t, name in enumerate(series.names):
            if not series.present[t, column[0]]:
                continue
            edges, counts = legacy.edges_and_counts(self.legacy.step(ctx, experiment_id, run, name, step).value)
            tensors.append(
                {**tensor_info(series, t), **tensor_at(series, t, column[0]), "histogram": counts, "edges": edges}
            )
        wall_time = float(series.wall_times[column[0]])
        return {
            "run": run,
            "tag": tag,
            "step": step,
            "wall_time": wall_time,
            "bins": None,
            "approximate": True,
            "tensors": tensors,
        }

    def tensor_body(self, request: wrappers.Request) -> dict[str, Any]:
        ctx, experiment_id, run, tag = self.run_tag(request)
        name = query.required(request, "name")
        series = self.tag_series(ctx, experiment_id, run, tag)
        t = self._tensor_index(series, name)
        columns = np.flatnonzero(series.present[t])
        steps = [
            {"step": int(series.steps[s]), "wall_time": float(series.wall_times[s]), **tensor_at(series, t, s)}
            for s in columns
        ]
        by_step = {entry["step"]: entry for entry in steps}
        bins = None
        if series.approximate:
            _, items = self.legacy.steps(ctx, experiment_id, run, name)
            for item in items:
                if item.step in by_step:
                    edges, counts = legacy.edges_and_counts(item.value)
                    by_step[item.step].update(histogram=counts, edges=edges)
        else:
            cube = self.histograms(ctx, experiment_id, run, tag)
            bins = int(cube.counts.shape[2]) if cube.counts.size else None
            for entry in steps:
                histogram = cube.histogram(entry["step"], name)
                if histogram is not None:
                    entry["histogram"] = histogram
        return {
            "run": run,
            "tag": tag,
            **tensor_info(series, t),
            "approximate": series.approximate,
            "bins": bins,
            "steps": steps,
        }

    def verdicts_body(self, request: wrappers.Request) -> dict[str, Any]:
        ctx, experiment_id = experiment(request)
        run = query.required(request, "run")
        defaults = health.Thresholds()
        thresholds = health.Thresholds(
            **{
                name: query.positive_number(request, name, getattr(defaults, name))
                for name in health.Thresholds.names()
            }
        )
        tags = self._tags_of(ctx, experiment_id).get(run)
        if not tags:
            raise errors.NotFoundError(f"no distributions for run {run!r}")
        return {
            "run": run,
            "thresholds": {name: getattr(thresholds, name) for name in health.Thresholds.names()},
            "verdicts": [v.as_dict() for v in self.run_verdicts(ctx, experiment_id, run, tags, thresholds)],
        }

    def runs(self, ctx, experiment_id: str) -> dict[str, list[str]]:
        """``{run: [tag, ...]}`` of every run with distributions (ModelLens or TensorBoard's own)."""
        return self._tags_of(ctx, experiment_id)

    def run_verdicts(
        self, ctx, experiment_id: str, run: str, tags: list[str], thresholds: health.Thresholds
    ) -> list[health.Verdict]:
        """The training-health verdicts of one run over its distribution ``tags``."""
        by_tag: dict[str, TagSeries] = {}
        for tag in tags:
            series = self.tag_series(ctx, experiment_id, run, tag)
            if series.approximate:
                by_tag.update(legacy_roles(series))
            else:
                by_tag[tag] = series
        return [
            dataclasses.replace(v, tag=legacy.TAG) if v.tag.startswith(legacy.TAG) else v
            for v in health.verdicts(by_tag, thresholds)
        ]

    @wrappers.Request.application
    def _tensor(self, request: wrappers.Request) -> wrappers.Response:
        return respond(request, self.tensor_body(request))

    @wrappers.Request.application
    def _verdicts(self, request: wrappers.Request) -> wrappers.Response:
        return respond(request, self.verdicts_body(request))


@dataclasses.dataclass(frozen=True)
class HistogramCube:
    """Every histogram of a tag, ``counts[column[step], row[name]]``, built from one snapshot of
    the series (so it never disagrees with itself when steps arrive meanwhile)."""

    counts: np.ndarray  # [steps, tensors, bins], narrowest unsigned type that holds the counts
    column: dict[int, int]
    row: dict[str, int]

    def histogram(self, step: int, name: str) -> list[int] | None:
        s, t = self.column.get(step), self.row.get(name)
        return None if s is None or t is None else self.counts[s, t].tolist()

    @classmethod
    def build(cls, steps: Iterator[Step]) -> HistogramCube:
        items = [(item.step, item.value.names, item.value.stats.histograms) for item in steps]
        row: dict[str, int] = {}
        for _, names, _ in items:
            for name in names:
                row.setdefault(name, len(row))
        bins = max((h.shape[1] for _, _, h in items), default=0)
        largest = max((int(h.max()) for _, _, h in items if h.size), default=0)
        dtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if largest <= np.iinfo(t).max)
        counts = np.zeros((len(items), len(row), bins), dtype=dtype)
        column = {}
        for s, (step, names, histograms) in enumerate(items):
            column[step] = s
            if histograms.shape[1] == bins:  # a step of another bin count keeps no histogram here
                counts[s, [row[name] for name in names]] = histograms
        return cls(counts, column, row)


def legacy_roles(series: TagSeries) -> dict[str, TagSeries]:
    """Standard histograms carry no role: names with "grad" are read as gradients, the rest as
    weights, each as its own pseudo-tag under ``TensorBoard histograms/``."""
    gradients = [t for t, name in enumerate(series.names) if "grad" in name.lower()]
    weights = [t for t in range(len(series.names)) if t not in set(gradients)]
    roles = {}
    for role, rows in (("gradients", gradients), ("weights", weights)):
        if rows:
            roles[f"{legacy.TAG}/{role}"] = series_module.subset(series, rows)
    return roles
