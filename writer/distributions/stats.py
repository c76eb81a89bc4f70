"""Statistics of many tensors at once: the numpy path (the torch path is ``torch_stats``).

Both paths return the same ``Stats`` and follow one definition, checked against a float64
reference in the tests:

- ``counts[t]`` = elements, exact zeros, NaN, +Inf, -Inf (``COUNT_FIELDS``);
- ``values[t]`` = min, max, mean, std (population), L2 norm of the *finite* values
  (``VALUE_FIELDS``); NaN when the tensor has no finite value;
- ``histograms[t]`` = ``BINS`` equal bins spanning exactly [min, max] of the finite values
  (``max`` falls in the last bin; a constant tensor puts everything in bin 0); every finite
  element is counted exactly once;
- ``percentiles[t]`` = ``PERCENTILES`` by nearest rank (``round(q * (n - 1))``), read from
  ``FINE_BINS`` internal bins (each bin's midpoint), so within one stored bin of the exact value.

NaN and Inf never raise and are never dropped: they are counted, and the rest describe the
finite values. Scratch memory is chunked (``CHUNK`` elements) and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

BINS = 64
FINE_BINS = 256  # internal resolution; merged 4:1 into BINS for storage
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
COUNT_FIELDS = ("elements", "zeros", "nan", "posinf", "neginf")
VALUE_FIELDS = ("min", "max", "mean", "std", "norm")
CHUNK = 1 << 22  # elements per chunk of the torch path (float32 scratch)
NUMPY_CHUNK = 1 << 20  # of the numpy path, which works in float64: 8 MB per chunk and temporary


@dataclass(frozen=True)
class Stats:
    """Statistics of T tensors as column arrays; row t describes tensor t."""

    counts: np.ndarray  # int64 [T, len(COUNT_FIELDS)]
    values: np.ndarray  # float64 [T, len(VALUE_FIELDS)]
    percentiles: np.ndarray  # float64 [T, len(PERCENTILES)]
    histograms: np.ndarray  # int64 [T, BINS]

    def __len__(self) -> int:
        return self.counts.shape[0]


def empty_stats(count: int) -> Stats:
    """``count`` rows of "no finite value": zero counts, NaN values and percentiles."""
    return Stats(
        counts=np.zeros((count, len(COUNT_FIELDS)), dtype=np.int64),
        values=np.full((count, len(VALUE_FIELDS)), np.nan),
        percentiles=np.full((count, len(PERCENTILES)), np.nan),
        histograms=np.zeros((count, BINS), dtype=np.int64),
    )


def concatenate(parts: Sequence[Stats]) -> Stats:
    return Stats(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("counts", "values", "percentiles", "histograms"))
    )


def select(stats: Stats, order: Sequence[int]) -> Stats:
    index = np.asarray(order, dtype=np.int64)
    return Stats(stats.counts[index], stats.values[index], stats.percentiles[index], stats.histograms[index])


def percentiles_from_fine(fine: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Nearest-rank percentiles of rows of ``FINE_BINS`` counts over [low, high]: the midpoint of
    the bin holding rank ``round(q * (n - 1))``, clipped to [low, high]."""
    fine = np.asarray(fine, dtype=np.int64)
    total = fine.sum(axis=1)
    cumulative = np.cumsum(fine, axis=1)
    ranks = np.rint(np.outer(np.maximum(total - 1, 0), np.asarray(PERCENTILES) / 100.0)).astype(np.int64)
    bins = (
        np.stack([np.searchsorted(row, r, side="right") for row, r in zip(cumulative, ranks)])
        if len(fine)
        else np.zeros((0, len(PERCENTILES)), np.int64)
    )
    width = (high - low) / FINE_BINS
    values = low[:, None] + (np.minimum(bins, FINE_BINS - 1) + 0.5) * width[:, None]
    values = np.clip(values, low[:, None], high[:, None])
    values[total == 0] = np.nan
    return values


def finish(
    counts: np.ndarray,
    total: np.ndarray,
    total_squares: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    fine: np.ndarray,
    centred_squares: np.ndarray | None = None,
) -> Stats:
    """Derives ``Stats`` from per-tensor sums over the finite values (shared by both paths).

    ``counts`` [T, 5]; ``total``/``total_squares`` sums of x and x²; ``low``/``high`` min/max;
    ``fine`` [T, FINE_BINS] counts; ``centred_squares`` Σ(x − mean)² where the caller computed it
    (NaN where not), which replaces the one-pass variance.
    """
    finite = counts[:, 0] - counts[:, 2] - counts[:, 3] - counts[:, 4]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / finite
        variance = np.maximum(total_squares / finite - mean * mean, 0.0)
        if centred_squares is not None:
            variance = np.where(np.isnan(centred_squares), variance, centred_squares / finite)
    none = finite == 0
    values = np.stack([low, high, mean, np.sqrt(variance), np.sqrt(total_squares)], axis=1).astype(np.float64)
    values[none] = np.nan
    percentiles = percentiles_from_fine(fine, low, high)
    histograms = fine.reshape(len(fine), BINS, FINE_BINS // BINS).sum(axis=2).astype(np.int64)
    return Stats(counts=counts.astype(np.int64), values=values, percentiles=percentiles, histograms=histograms)


def needs_centred_pass(total: float, total_squares: float, finite: int) -> bool:
    """One-pass variance loses digits when the mean dominates (BatchNorm γ ≈ 1)."""
    if finite == 0:
        return False
    mean = total / finite
    return mean * mean > 30 * max(total_squares / finite - mean * mean, 0.0)


def _chunks(array: np.ndarray) -> Iterator[np.ndarray]:
    """1-D float64 chunks of ``array`` of at most ``NUMPY_CHUNK`` elements, without copying it whole."""
    if array.ndim == 0:
        array = array.reshape(1)
    if array.flags.c_contiguous:
        flat = array.reshape(-1)
        for start in range(0, flat.size, NUMPY_CHUNK):
            yield flat[start : start + NUMPY_CHUNK].astype(np.float64)
        return
    rows = max(1, NUMPY_CHUNK // max(1, int(np.prod(array.shape[1:]))))
    for start in range(0, array.shape[0], rows):
        block = array[start : start + rows].reshape(-1)
        for offset in range(0, block.size, NUMPY_CHUNK):
            yield block[offset : offset + NUMPY_CHUNK].astype(np.float64)


def _as_numeric(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "b":
        return array.view(np.uint8)
    return array  # bfloat16 (ml_dtypes, from TensorFlow and JAX) converts chunk by chunk


def tensor_stats(arrays: Sequence[np.ndarray]) -> Stats:
    """``Stats`` of numpy arrays (any real dtype), two passes over chunks of each array."""
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/Inf are counted, not warned about
        return _tensor_stats(arrays)


def _tensor_stats(arrays: Sequence[np.ndarray]) -> Stats:
    count = len(arrays)
    counts = np.zeros((count, len(COUNT_FIELDS)), dtype=np.int64)
    total = np.zeros(count)
    squares = np.zeros(count)
    low = np.full(count, np.nan)
    high = np.full(count, np.nan)
    centred = np.full(count, np.nan)
    fine = np.zeros((count, FINE_BINS), dtype=np.int64)
    for t, raw in enumerate(arrays):
        array = _as_numeric(np.asarray(raw))
        counts[t, 0] = array.size
        lo, hi, s, sq, zeros = np.inf, -np.inf, 0.0, 0.0, 0
        exact = array.dtype.kind in "iu"
        for chunk in _chunks(array):
            chunk_sum = chunk.sum()
            if not np.isfinite(chunk_sum):
                finite_mask = np.isfinite(chunk)
                counts[t, 2] += int(np.isnan(chunk).sum())
                counts[t, 3] += int(np.isposinf(chunk).sum())
                counts[t, 4] += int(np.isneginf(chunk).sum())
                chunk = chunk[finite_mask]
                chunk_sum = chunk.sum()
            if chunk.size == 0:
                continue
            s += float(chunk_sum)
            sq += float(np.dot(chunk, chunk))
            lo = min(lo, float(chunk.min()))
            hi = max(hi, float(chunk.max()))
            zeros += chunk.size - int(np.count_nonzero(chunk))
        counts[t, 1] = zeros
        finite = int(counts[t, 0] - counts[t, 2:].sum())
        if finite == 0:
            continue
        low[t], high[t], total[t], squares[t] = lo, hi, s, sq
        if not exact and needs_centred_pass(s, sq, finite):
            mean = s / finite
            centred[t] = sum(float(np.dot(d, d)) for d in (_finite(c) - mean for c in _chunks(array)))
        half_width = hi / 2 - lo / 2  # halves: hi - lo can overflow (±1e308), and its inverse (denormals)
        for chunk in _chunks(array):
            chunk = _finite(chunk)
            if half_width > 0:
                position = (chunk / 2 - lo / 2) / half_width * FINE_BINS
                index = np.clip(position, 0, FINE_BINS - 1).astype(np.int64)
            else:
                index = np.zeros(chunk.size, dtype=np.int64)
            fine[t] += np.bincount(index, minlength=FINE_BINS)
    return finish(counts, total, squares, low, high, fine, centred)


def _finite(chunk: np.ndarray) -> np.ndarray:
    return chunk if np.isfinite(chunk.sum()) else chunk[np.isfinite(chunk)]
