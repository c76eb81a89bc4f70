"""One tag's steps as a tensors × steps table of scalar metrics (for the heatmap, the detail
view's bands and the verdicts). Pure numpy; JSON is made in the plugin."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np

from modellens.distributions import Distributions
from modellens.distributions.stats import PERCENTILES

#: Metrics derived from every step's statistics, in the order the view lists them.
METRICS = ("norm", "std", "mean", "max_abs", "min", "max", "zero_fraction", "nonfinite")
COUNTS = ("elements", "zeros", "nan", "posinf", "neginf")
PERCENTILE_NAMES = tuple(f"p{q}" for q in PERCENTILES)


@dataclass(frozen=True)
class TagSeries:
    """``table[name][t, s]`` is the value of tensor ``names[t]`` at ``steps[s]``; NaN where the
    tensor is absent at that step or the value is undefined. Tensors in first-seen order."""

    steps: np.ndarray  # int64 [S]
    wall_times: np.ndarray  # float64 [S]
    names: list[str]
    shapes: list[tuple[int, ...]]
    dtypes: list[str]
    table: dict[str, np.ndarray]  # every metric, count, percentile and extra column → [T, S]
    extras: tuple[str, ...] = ()
    approximate: bool = False
    present: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))  # [T, S]

    @property
    def metrics(self) -> tuple[str, ...]:
        """The heatmap metrics this tag has (extras after the standard ones)."""
        return METRICS + self.extras

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.table.values()) + self.present.nbytes + self.steps.nbytes * 2

    def index(self, name: str) -> int | None:
        try:
            return self.names.index(name)
        except ValueError:
            return None


def step_columns(data: Distributions) -> dict[str, np.ndarray]:
    """Every per-tensor scalar of one step, as columns of length T."""
    counts, values = data.stats.counts, data.stats.values
    elements = counts[:, 0].astype(np.float64)
    nonfinite = np.where((counts[:, 2:5] < 0).any(axis=1), np.nan, counts[:, 2:5].sum(axis=1)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        zero_fraction = np.where((elements > 0) & (counts[:, 1] >= 0), counts[:, 1] / elements, np.nan)
    columns = {
        name: np.where(counts[:, i] < 0, np.nan, counts[:, i]).astype(np.float64) for i, name in enumerate(COUNTS)
    }
    columns.update(
        min=values[:, 0],
        max=values[:, 1],
        mean=values[:, 2],
        std=values[:, 3],
        norm=values[:, 4],
        max_abs=np.fmax(np.abs(values[:, 0]), np.abs(values[:, 1])),
        zero_fraction=zero_fraction,
        nonfinite=nonfinite,
    )
    for q, name in enumerate(PERCENTILE_NAMES):
        columns[name] = data.stats.percentiles[:, q]
    for name, column in data.extras.items():
        columns[name] = column
    return columns


def assemble(steps: Iterable[tuple[int, float, Distributions]], *, approximate: bool = False) -> TagSeries:
    """A ``TagSeries`` from decoded steps in step order, consumed once (each step is reduced to
    its columns before the next is decoded)."""
    order: dict[str, int] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, str] = {}
    extras: dict[str, None] = {}
    reduced = []
    for step, wall_time, data in steps:
        for name, shape, dtype in zip(data.names, data.shapes, data.dtypes):
            if name not in order:
                order[name] = len(order)
            shapes[name], dtypes[name] = shape, dtype  # the latest shape wins (surgery, pruning)
        extras.update(dict.fromkeys(data.extras))
        rows = np.fromiter((order[name] for name in data.names), dtype=np.int64, count=len(data.names))
        reduced.append((step, wall_time, rows, step_columns(data)))
    count, length = len(order), len(reduced)
    names = list(order)
    keys = dict.fromkeys(COUNTS + METRICS + PERCENTILE_NAMES + tuple(extras))
    table = {key: np.full((count, length), np.nan) for key in keys}
    present = np.zeros((count, length), dtype=bool)
    for s, (_, _, rows, columns) in enumerate(reduced):
        present[rows, s] = True
        for key, column in columns.items():
            table[key][rows, s] = column
    return TagSeries(
        steps=np.array([r[0] for r in reduced], dtype=np.int64),
        wall_times=np.array([r[1] for r in reduced], dtype=np.float64),
        names=names,
        shapes=[shapes[n] for n in names],
        dtypes=[dtypes[n] for n in names],
        table=table,
        extras=tuple(extras),
        approximate=approximate,
        present=present,
    )


def subset(series: TagSeries, rows: Sequence[int]) -> TagSeries:
    """The same series restricted to some tensors."""
    index = np.asarray(rows, dtype=np.int64)
    return replace(
        series,
        names=[series.names[t] for t in index],
        shapes=[series.shapes[t] for t in index],
        dtypes=[series.dtypes[t] for t in index],
        table={key: values[index] for key, values in series.table.items()},
        present=series.present[index],
    )
