"""Standard TensorBoard histograms (``tf.summary.histogram``, torch/tensorboardX
``add_histogram``, Keras' ``TensorBoard(histogram_freq=...)``) as approximate distributions.

TensorBoard keeps a histogram as a ``[k, 3]`` tensor of (left edge, right edge, count), NaN and
Inf already dropped by the writer. The statistics are estimated from the buckets (each bucket's
mass at its midpoint; min/max are the outer edges of the non-empty buckets) and the counts of
zeros, NaN and Inf are unknown (-1, shown as null).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modellens._metadata import UnreadableRecord
from modellens.distributions import Distributions
from modellens.distributions.stats import COUNT_FIELDS, PERCENTILES, Stats

PLUGIN_NAME = "histograms"
#: The tag under which a run's standard histograms appear in the Training health view.
TAG = "TensorBoard histograms"
UNKNOWN = -1


def decode(value: Any) -> np.ndarray:
    """The ``[k, 3]`` float64 buckets of one step; ``UnreadableRecord`` for anything else."""
    try:
        buckets = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise UnreadableRecord("a histogram is a [k, 3] array of numbers") from None
    if buckets.ndim != 2 or buckets.shape[1] != 3 or not np.all(np.isfinite(buckets)):
        raise UnreadableRecord(f"a histogram is a finite [k, 3] array, got shape {buckets.shape}")
    if (buckets[:, 2] < 0).any():
        raise UnreadableRecord("a histogram has negative counts")
    return buckets


def stats_of(buckets: np.ndarray) -> Stats:
    """One row of ``Stats`` estimated from the buckets (``histograms`` has no columns: the
    buckets themselves are the histogram, see ``edges_and_counts``)."""
    counts = np.full((1, len(COUNT_FIELDS)), UNKNOWN, dtype=np.int64)
    weights = buckets[:, 2]
    total = float(weights.sum())
    counts[0, 0] = int(round(total))
    values = np.full((1, 5), np.nan)
    percentiles = np.full((1, len(PERCENTILES)), np.nan)
    if total > 0:
        nonempty = np.flatnonzero(weights > 0)
        low, high = float(buckets[nonempty[0], 0]), float(buckets[nonempty[-1], 1])
        mids = np.clip((buckets[:, 0] + buckets[:, 1]) / 2, low, high)
        mean = float((weights * mids).sum() / total)
        squares = float((weights * mids * mids).sum())
        values[0] = [low, high, mean, np.sqrt(max(squares / total - mean * mean, 0.0)), np.sqrt(squares)]
        cumulative = np.cumsum(weights)
        ranks = np.rint((total - 1) * np.asarray(PERCENTILES) / 100.0)
        index = np.minimum(np.searchsorted(cumulative, ranks, side="right"), len(weights) - 1)
        percentiles[0] = mids[index]
    return Stats(counts, values, percentiles, np.zeros((1, 0), dtype=np.int64))


def edges_and_counts(buckets: np.ndarray) -> tuple[list[float], list[float]]:
    """Bucket edges (k + 1) and counts, for drawing the histogram as stored."""
    edges = [float(v) for v in buckets[:, 0]] + ([float(buckets[-1, 1])] if len(buckets) else [])
    return edges, [float(v) for v in buckets[:, 2]]


def as_distributions(named_buckets: list[tuple[str, np.ndarray]]) -> Distributions:
    """One step of several histogram tags as a ``Distributions`` (one tensor per tag)."""
    rows = [stats_of(buckets) for _, buckets in named_buckets]
    stats = Stats(
        *(np.concatenate([getattr(r, f) for r in rows]) for f in ("counts", "values", "percentiles", "histograms"))
    )
    return Distributions(
        names=[name for name, _ in named_buckets],
        shapes=[()] * len(named_buckets),
        dtypes=["unknown"] * len(named_buckets),
        stats=stats,
    )
