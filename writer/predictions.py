"""Predictions against ground truth: validation, the regression and classification reductions,
and the wire format (encode and decode).

A step is one ``Summary.Value`` of ``DATA_CLASS_BLOB_SEQUENCE`` whose rank-1 ``DT_STRING`` tensor
holds two blobs, so a series reads only the small part:

- blob 0: the header, a ``PredictionsStep`` (``modellens._proto``): the task, the sample count,
  class names, and every metric and small array (named ``Array`` messages, listed below);
- blob 1: the body, an ``Arrays`` message: for regression the ``[128, 128]`` ``density``
  (narrowest unsigned counts) and, when the step has at most ``EXACT_POINTS`` samples, every
  point (``true``, ``pred`` in float32 when given float32 or float16, else float64) with its id
  (``id_utf8`` bytes and ``id_ends`` byte offsets); for classification it is empty.

Header arrays. Regression: ``metrics`` f8 [5] (``REGRESSION_METRICS``), ``range`` f8 [2],
``residual_edges`` f8 [61], ``residual_counts`` i8 [60], ``quantile_edges`` f8 [11],
``quantile_counts`` i8 [10], ``quantile_errors`` f8 [3, 10] (mae, rmse, mean error).
Classification: ``metrics`` f8 [3] (``CLASSIFICATION_METRICS``), ``reliability_counts`` i8 [15],
``reliability`` f8 [2, 15] (mean confidence, accuracy; NaN in an empty bin),
``confidence_counts`` i8 [2, 20] (right, wrong), ``wrong_index`` i8 [k], ``wrong_labels``
i8 [2, k] (true, predicted), ``wrong_scores`` f8 [2, k] (confidence, probability of the true
class); the header's ``ids`` name the k wrong samples (empty without ``ids``).

Every reduction is vectorized and walks the samples in chunks of ``CHUNK`` elements, so memory
beyond the inputs stays bounded at any sample count (the decile edges come from an exact
selection in two passes, ``order_statistics``, not from a sorted copy).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator, Sequence, Union

import numpy as np
from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _packing, _proto
from modellens._convert import to_numpy
from modellens._metadata import UnreadableRecord

KIND = "PREDICTIONS"
#: The newest format of this kind that this code writes and reads.
VERSION = 1
DATA_CLASS = summary_pb2.DATA_CLASS_BLOB_SEQUENCE
#: What ``decode`` reads of a step: its header (the plugin reads the body when asked).
HEADER_BLOBS = 1
BODY_BLOB = 1

#: Regression steps with at most this many samples keep every point; larger ones the density only.
EXACT_POINTS = 50_000
DENSITY_BINS = 128
RESIDUAL_BINS = 60
#: Decile edges of ``y_true`` (numpy's default "linear" quantiles, in float64).
QUANTILES = np.arange(11) / 10
RELIABILITY_BINS = 15
CONFIDENCE_BINS = 20
#: The most confidently wrong samples kept per classification step.
TOP_WRONG = 100
#: Rows of probabilities may sum to 1 within this.
SUM_TOLERANCE = 1e-3
MAX_CLASSES = 100_000
#: Elements handled at once by every reduction.
CHUNK = 1 << 18
REGRESSION_METRICS = ("mae", "rmse", "r2", "mean_error", "max_abs_error")
CLASSIFICATION_METRICS = ("accuracy", "ece", "mce")


@dataclass(frozen=True)
class RegressionBody:
    """Blob 1 of a regression step: the density and, when exact, every point."""

    density: np.ndarray  # int64 [DENSITY_BINS, DENSITY_BINS]: row = true bin, column = predicted bin
    true: np.ndarray | None  # [samples] float32 or float64 when exact
    pred: np.ndarray | None
    ids: list[str] | None  # when exact and ids were given


@dataclass(frozen=True)
class Regression:
    """One regression step. ``body`` is ``None`` when only the header was read."""

    samples: int
    mae: float
    rmse: float
    r2: float  # NaN when y_true is constant
    mean_error: float  # mean(pred - true)
    max_abs_error: float
    range: tuple[float, float]  # the edges of the density (numpy's rule when all values are equal)
    residual_edges: np.ndarray  # f8 [61] over [min, max] of pred - true
    residual_counts: np.ndarray  # i8 [60]
    quantile_edges: np.ndarray  # f8 [11]: deciles of y_true; bin j is [e_j, e_j+1), the last closed
    quantile_counts: np.ndarray  # i8 [10]
    quantile_errors: np.ndarray  # f8 [3, 10]: mae, rmse, mean error per bin (NaN when empty)
    exact_points: bool
    body: RegressionBody | None

    task = "regression"


@dataclass(frozen=True)
class Classification:
    """One classification step (it has no body)."""

    samples: int
    class_names: list[str]
    accuracy: float
    ece: float
    mce: float  # NaN never: some bin holds a sample
    reliability_counts: np.ndarray  # i8 [15]: bins (lo, hi] of confidence (the first from 0)
    reliability: np.ndarray  # f8 [2, 15]: mean confidence, accuracy (NaN when empty)
    confidence_counts: np.ndarray  # i8 [2, 20]: right, wrong on [0, 1] (np.histogram's bins)
    wrong_index: np.ndarray  # i8 [k], by confidence descending, then index
    wrong_labels: np.ndarray  # i8 [2, k]: true, predicted
    wrong_scores: np.ndarray  # f8 [2, k]: confidence, probability of the true class
    wrong_ids: list[str] | None

    task = "classification"
    body = None


Predictions = Union[Regression, Classification]


def reliability_edges() -> np.ndarray:
    return np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)


def confidence_edges() -> np.ndarray:
    return np.linspace(0.0, 1.0, CONFIDENCE_BINS + 1)


def _slices(n: int, size: int = CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _histogram_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """``np.histogram``'s edges: equal ends widened by 0.5 each way."""
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, bins + 1)


def _bin_index(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.histogram``'s bins of values inside ``[edges[0], edges[-1]]`` (equal widths):
    ``[e_i, e_i+1)``, the last closed. numpy's own fast computation, with its one-step fix-up at
    the edges, so the counts equal ``np.histogram``'s and ``np.histogram2d``'s."""
    bins = edges.size - 1
    first, last = edges[0], edges[-1]
    index = np.minimum(((values - first) / (last - first) * bins).astype(np.intp), bins - 1)
    index -= values < edges[index]
    index += (values >= edges[index + 1]) & (index != bins - 1)
    return index


# ---------------------------------------------------------------------------- validation


def _real_vector(value: Any, argument: str) -> np.ndarray:
    array = to_numpy(value, argument)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{argument} must be [n] (or [n, 1]) values for regression; got shape {list(array.shape)}")
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{argument} must hold real numbers for regression, got dtype {array.dtype}")
    return array


def _stored_float(array: np.ndarray) -> np.dtype:
    return np.dtype("<f4") if array.dtype.kind == "f" and array.dtype.itemsize <= 4 else np.dtype("<f8")


def _is_id_type(kind: type) -> bool:
    return issubclass(kind, (str, int, np.integer)) and not issubclass(kind, (bool, np.bool_))


def _check_ids(ids: Any, n: int) -> np.ndarray | None:
    if ids is None:
        return None
    if isinstance(ids, (str, bytes)):
        raise TypeError("ids must be a sequence of one str or int per sample, not a single string")
    # a list stays Python objects: numpy's str arrays drop trailing NUL characters
    array = np.array(ids, dtype=object) if isinstance(ids, (list, tuple)) else to_numpy(ids, "ids")
    if array.ndim != 1:
        raise ValueError(f"ids must be 1-D, one per sample; got shape {list(array.shape)}")
    if array.shape[0] != n:
        raise ValueError(f"ids has {array.shape[0]} entries but there are {n} samples; give one id per sample")
    if array.dtype.kind == "O":
        bad = sorted(k.__name__ for k in set(map(type, array)) if not _is_id_type(k))
        if bad:
            raise TypeError(f"ids must all be str or int (stored as str); found {', '.join(bad)}")
    elif array.dtype.kind not in "iuU":
        raise TypeError(f"ids must be str or int (stored as str), got dtype {array.dtype}")
    return array


def _id_strings(ids: np.ndarray | None, index: np.ndarray) -> list[str] | None:
    """The ids at ``index`` as str, checked to be valid Unicode."""
    if ids is None:
        return None
    picked = ids[index]
    values = picked.astype(str).tolist() if picked.dtype.kind != "O" else [str(v) for v in picked.tolist()]
    try:
        "".join(values).encode("utf-8")
    except UnicodeEncodeError:
        for value in values:
            _packing.check_text(value, "ids")
    return values


def _class_labels(value: Any, num_classes: int, class_names: list[str] | None) -> np.ndarray:
    """``y_true`` of a classification step as int64 class indices in ``[0, num_classes)``."""
    array = to_numpy(value, "y_true")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"y_true must be [n] class labels for classification (y_pred is [n, C]); got shape {list(array.shape)}"
        )
    kind = array.dtype.kind
    types = set(map(type, array)) if kind == "O" else set()
    if kind == "S" or (types and types <= {bytes}):
        try:
            array = np.array([v.decode("utf-8") for v in array.tolist()])
        except UnicodeDecodeError:
            raise ValueError("y_true holds bytes labels that are not UTF-8 text; decode them first") from None
        kind = array.dtype.kind
    elif types and types <= {str}:
        array, kind = array.astype(str), "U"
    elif types and all(_is_id_type(t) and not issubclass(t, str) for t in types):
        array, kind = array.astype(np.int64), "i"
    elif types:
        raise TypeError(f"y_true mixes {', '.join(sorted(t.__name__ for t in types))}; use one kind of label")
    if kind == "U":
        if class_names is None:
            raise ValueError("y_true holds strings; give class_names (one per column of y_pred) to map them")
        order = np.argsort(np.array(class_names))
        names = np.array(class_names)[order]
        position = np.minimum(np.searchsorted(names, array), names.size - 1)
        missing = names[position] != array
        if missing.any():
            raise ValueError(
                f"y_true contains the label {str(array[np.argmax(missing)])!r}, which is not in class_names"
            )
        return order[position].astype(np.int64)
    if kind == "f":
        lo, hi = (array.min(), array.max()) if array.size else (0.0, 0.0)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError("y_true contains NaN or Inf; labels must be finite class indices")
        if not np.array_equal(array, np.floor(array)):
            raise ValueError("y_true holds non-integer floats; give integer class indices in [0, C)")
    elif kind not in "iub":
        raise TypeError(f"y_true must hold integer class indices (or str with class_names), got dtype {array.dtype}")
    if array.size:
        lo, hi = array.min(), array.max()
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"y_true contains the label {bad.item()!r}; labels index the {num_classes} columns of y_pred, "
                f"so they lie in [0, {num_classes})"
            )
    return array.astype(np.int64, copy=False)


def from_input(
    y_true: Any,
    y_pred: Any,
    *,
    ids: Any = None,
    class_names: Sequence[str] | None = None,
    logits: bool = False,
) -> Predictions:
    """Checks and reduces one step (see ``Writer.predictions``); raises ``ValueError``/
    ``TypeError`` naming the argument before anything is written."""
    if not isinstance(logits, (bool, np.bool_)):
        raise TypeError(f"logits must be True or False, got {logits!r}")
    scores = to_numpy(y_pred, "y_pred")
    if scores.ndim == 2 and scores.shape[1] >= 2:
        return _classification(y_true, scores, ids, class_names, bool(logits))
    if scores.ndim not in (1, 2):
        raise ValueError(
            "y_pred must be [n] (or [n, 1]) values for regression or [n, C] probabilities for "
            f"classification; got shape {list(scores.shape)}"
        )
    if class_names is not None:
        raise ValueError("class_names is for classification, where y_pred is [n, C]; this y_pred is regression")
    if logits:
        raise ValueError("logits=True is for classification, where y_pred is [n, C] logits")
    return _regression(y_true, scores, ids)


# ---------------------------------------------------------------------------- regression


#: Bins of the first selection pass, and how many values it may then gather to sort.
SELECT_BINS = 1 << 16
GATHER_LIMIT = 1 << 20


def _sortable_keys(values: np.ndarray) -> np.ndarray:
    """uint64 keys ordered as the float64 values are (``-0.0`` taken as ``0.0``)."""
    bits = (np.asarray(values, np.float64) + 0.0).view(np.uint64)
    negative = bits >> np.uint64(63)
    return bits ^ (negative * np.uint64(0x7FFF_FFFF_FFFF_FFFF) | np.uint64(1 << 63))


def _key_values(keys: np.ndarray) -> np.ndarray:
    positive = (keys >> np.uint64(63)).astype(bool)
    bits = np.where(positive, keys ^ np.uint64(1 << 63), ~keys)
    return bits.view(np.float64)


def _radix_order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The selection for any data (many equal or clustered values): a radix selection over
    order-preserving 64-bit keys, 16 bits per pass (four passes)."""
    prefix = np.zeros(ranks.size, np.uint64)  # the key bits found so far, per rank
    offset = ranks.copy()  # the rank among the keys sharing that prefix
    for shift in (48, 32, 16, 0):
        groups, member = np.unique(prefix, return_inverse=True)
        hist = np.zeros(groups.size << 16, np.int64)
        for part in _slices(values.shape[0]):
            keys = _sortable_keys(values[part])
            if shift == 48:
                hist += np.bincount((keys >> np.uint64(48)).astype(np.intp), minlength=hist.size)
                continue
            high = keys >> np.uint64(shift + 16)
            position = np.minimum(np.searchsorted(groups, high), groups.size - 1)
            hit = groups[position] == high
            digit = ((keys[hit] >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.intp)
            hist += np.bincount((position[hit] << 16) | digit, minlength=hist.size)
        cumulative = np.cumsum(hist.reshape(groups.size, 1 << 16), axis=1)[member]
        digit = (cumulative <= offset[:, None]).sum(axis=1)
        offset -= np.where(digit > 0, cumulative[np.arange(ranks.size), np.maximum(digit - 1, 0)], 0)
        prefix = (prefix << np.uint64(16)) | digit.astype(np.uint64)
    return _key_values(prefix)


def order_statistics(values: np.ndarray, ranks: Any, lo: float, hi: float) -> np.ndarray:
    """The float64 values at ``ranks`` of ``values`` sorted ascending (``lo``/``hi`` their
    extremes), exactly, in bounded memory: one pass counts the values in ``SELECT_BINS`` equal
    bins of ``[lo, hi]`` (a monotone bin index is all that exactness needs), a second gathers the
    bins holding the ranks and sorts only those; when they would hold more than
    ``GATHER_LIMIT`` values, a radix selection instead."""
    ranks = np.asarray(ranks, np.int64)
    if lo == hi:
        return np.full(ranks.size, lo + 0.0)
    span = hi - lo
    scale = SELECT_BINS / span if np.isfinite(span) else np.inf
    if not np.isfinite(scale):  # a span beyond float64, or one of a few subnormals
        return _radix_order_statistics(values, ranks) + 0.0

    def bin_of(part: slice) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(values[part], np.float64)
        return x, np.minimum(((x - lo) * scale).astype(np.intp), SELECT_BINS - 1)

    counts = np.zeros(SELECT_BINS, np.int64)
    for part in _slices(values.shape[0]):
        counts += np.bincount(bin_of(part)[1], minlength=SELECT_BINS)
    cumulative = np.cumsum(counts)
    target = np.searchsorted(cumulative, ranks, side="right")
    bins, slot = np.unique(target, return_inverse=True)
    if counts[bins].sum() > GATHER_LIMIT:
        return _radix_order_statistics(values, ranks) + 0.0
    table = np.full(SELECT_BINS, -1, np.intp)
    table[bins] = np.arange(bins.size)
    found, found_slot = [], []
    for part in _slices(values.shape[0]):
        x, index = bin_of(part)
        where = table[index]
        keep = where >= 0
        found.append(x[keep])
        found_slot.append(where[keep])
    gathered, gathered_slot = np.concatenate(found), np.concatenate(found_slot)
    ordered = gathered[np.lexsort((gathered, gathered_slot))]
    starts = np.concatenate([[0], np.cumsum(counts[bins])[:-1]])
    below = cumulative[target] - counts[target]  # values in the bins under each rank's
    return ordered[starts[slot] + ranks - below] + 0.0


def quantiles(values: np.ndarray, q: np.ndarray = QUANTILES, lo: float | None = None, hi: float | None = None):
    """``np.quantile(values.astype(float64), q)`` (its default "linear" method), in bounded
    memory; ``lo``/``hi``, the extremes of ``values``, save a pass when known."""
    n = values.shape[0]
    if lo is None or hi is None:
        lo = min(float(np.asarray(values[part], np.float64).min()) for part in _slices(n))
        hi = max(float(np.asarray(values[part], np.float64).max()) for part in _slices(n))
    q = np.asarray(q, np.float64)
    virtual = (n - 1) * q
    previous = np.floor(virtual).astype(np.int64)
    following = np.minimum(previous + 1, n - 1)
    ranks, inverse = np.unique(np.concatenate([previous, following]), return_inverse=True)
    found = order_statistics(values, ranks, lo, hi)[inverse]
    a, b = found[: q.size], found[q.size :]
    gamma = virtual - previous
    difference = b - a
    result = np.where(gamma >= 0.5, b - difference * (1 - gamma), a + difference * gamma)  # numpy's _lerp
    return np.where(previous >= n - 1, b, result)


@np.errstate(over="ignore", invalid="ignore")  # overflow is refused, or an inf sum, below
def _regression(y_true: Any, y_pred: np.ndarray, ids: Any) -> Regression:
    pred = _real_vector(y_pred, "y_pred")
    true = _real_vector(y_true, "y_true")
    n = true.shape[0]
    if pred.shape[0] != n:
        raise ValueError(f"y_true has {n} samples but y_pred has {pred.shape[0]}; they must describe the same samples")
    if n < 2:
        raise ValueError(f"regression needs at least 2 samples, got {n}")
    id_array = _check_ids(ids, n)

    # pass 1: extremes (which also prove every value finite), error sums, Chan's running variance
    t_lo = p_lo = e_lo = np.inf
    t_hi = p_hi = e_hi = -np.inf
    sum_abs = sum_sq = sum_err = 0.0
    count, mean, m2 = 0, 0.0, 0.0
    for part in _slices(n):
        t = np.asarray(true[part], np.float64)
        p = np.asarray(pred[part], np.float64)
        extremes = []
        for values, argument in ((t, "y_true"), (p, "y_pred")):
            low, high = values.min(), values.max()  # NaN propagates: finite extremes prove all finite
            if not (np.isfinite(low) and np.isfinite(high)):
                raise ValueError(f"{argument} contains NaN or Inf; every value must be finite")
            extremes.append((low, high))
        e = p - t
        e_min, e_max = e.min(), e.max()
        if not (np.isfinite(e_min) and np.isfinite(e_max)):
            raise ValueError("y_pred - y_true overflows float64; rescale the values before logging")
        (t_min, t_max), (p_min, p_max) = extremes
        t_lo, t_hi = min(t_lo, t_min), max(t_hi, t_max)
        p_lo, p_hi = min(p_lo, p_min), max(p_hi, p_max)
        e_lo, e_hi = min(e_lo, e_min), max(e_hi, e_max)
        sum_abs += float(np.abs(e).sum())
        sum_sq += float(e @ e)
        sum_err += float(e.sum())
        size, part_mean = t.size, float(t.mean())
        part_m2 = float(((t - part_mean) ** 2).sum())
        delta, total = part_mean - mean, count + size
        mean += delta * size / total
        m2 += part_m2 + delta * delta * count * size / total
        count = total
    lo, hi = float(min(t_lo, p_lo)), float(max(t_hi, p_hi))
    if not (np.isfinite(hi - lo) and np.isfinite(e_hi - e_lo)):
        raise ValueError(
            "y_true, y_pred or their errors span more than float64 can hold (max - min overflows); rescale them"
        )

    # pass 2: residual histogram, density, error by decile of y_true
    density_edges = _histogram_edges(lo, hi, DENSITY_BINS)
    residual_edges = _histogram_edges(float(e_lo), float(e_hi), RESIDUAL_BINS)
    quantile_edges = quantiles(true, QUANTILES, float(t_lo), float(t_hi))
    inner = quantile_edges[1:-1]
    residual_counts = np.zeros(RESIDUAL_BINS, np.int64)
    density = np.zeros(DENSITY_BINS * DENSITY_BINS, np.int64)
    q_count = np.zeros(inner.size + 1, np.int64)
    q_sums = np.zeros((3, inner.size + 1))
    for part in _slices(n):
        t = np.asarray(true[part], np.float64)
        p = np.asarray(pred[part], np.float64)
        e = p - t
        residual_counts += np.bincount(_bin_index(residual_edges, e), minlength=RESIDUAL_BINS)
        cell = _bin_index(density_edges, t) * DENSITY_BINS + _bin_index(density_edges, p)
        density += np.bincount(cell, minlength=density.size)
        decile = np.searchsorted(inner, t, side="right")
        q_count += np.bincount(decile, minlength=q_count.size)
        for row, weights in enumerate((np.abs(e), e * e, e)):
            q_sums[row] += np.bincount(decile, weights=weights, minlength=q_count.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_bin = q_sums / q_count
    per_bin[1] = np.sqrt(per_bin[1])

    exact = n <= EXACT_POINTS
    body = RegressionBody(
        density=density.reshape(DENSITY_BINS, DENSITY_BINS),
        true=np.array(true, dtype=_stored_float(true)) if exact else None,
        pred=np.array(pred, dtype=_stored_float(pred)) if exact else None,
        ids=_id_strings(id_array, np.arange(n)) if exact else None,
    )
    return Regression(
        samples=n,
        mae=sum_abs / n,
        rmse=float(np.sqrt(sum_sq / n)),
        r2=1.0 - sum_sq / m2 if m2 > 0 else float("nan"),
        mean_error=sum_err / n,
        max_abs_error=float(max(-e_lo, e_hi)),
        range=(float(density_edges[0]), float(density_edges[-1])),
        residual_edges=residual_edges,
        residual_counts=residual_counts,
        quantile_edges=quantile_edges,
        quantile_counts=q_count,
        quantile_errors=per_bin,
        exact_points=exact,
        body=body,
    )


# ---------------------------------------------------------------------------- classification


def _probabilities(raw: np.ndarray, start: int, logits: bool) -> np.ndarray:
    """One chunk of rows as float64 probabilities (softmax of logits), checked."""
    p = np.asarray(raw, np.float64)
    lo, hi = p.min(), p.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("y_pred contains NaN or Inf; every score must be finite")
    if logits:
        p = np.exp(p - p.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return p
    if lo < 0 or hi > 1:
        raise ValueError(
            f"y_pred holds {float(lo if lo < 0 else hi)!r}, outside [0, 1]: rows must be probabilities; "
            "pass logits=True for raw model outputs"
        )
    off = np.abs(p.sum(axis=1) - 1.0)
    if off.max() > SUM_TOLERANCE:
        row = int(np.argmax(off > SUM_TOLERANCE))
        raise ValueError(
            f"row {start + row} of y_pred sums to {float(p[row].sum())!r}; probabilities sum to 1 "
            f"(± {SUM_TOLERANCE}) per row; pass logits=True for raw model outputs"
        )
    return p


def _top_wrong(best: tuple[np.ndarray, ...], found: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The ``TOP_WRONG`` candidates of ``best`` and ``found`` (index, confidence, true, predicted,
    true probability) with the highest confidence, ties by index."""
    merged = tuple(np.concatenate(pair) for pair in zip(best, found))
    index, confidence = merged[0], merged[1]
    if index.size > TOP_WRONG:
        kth = np.partition(confidence, index.size - TOP_WRONG)[index.size - TOP_WRONG]
        keep = confidence >= kth
        merged = tuple(column[keep] for column in merged)
        index, confidence = merged[0], merged[1]
    order = np.lexsort((index, -confidence))[:TOP_WRONG]
    return tuple(column[order] for column in merged)


def _classification(
    y_true: Any, scores: np.ndarray, ids: Any, class_names: Sequence[str] | None, logits: bool
) -> Classification:
    n, num_classes = scores.shape
    if num_classes > MAX_CLASSES:
        raise ValueError(f"y_pred has {num_classes} columns (classes); at most {MAX_CLASSES}")
    if scores.dtype.kind not in "biuf":
        raise TypeError(f"y_pred must hold numbers, got dtype {scores.dtype}")
    names = None
    if class_names is not None:
        names = _packing.check_names(class_names, "class_names", what="class name")
        if len(names) != num_classes:
            raise ValueError(
                f"class_names has {len(names)} entries but y_pred has {num_classes} columns; give one name per column"
            )
    labels = _class_labels(y_true, num_classes, names)
    if labels.shape[0] != n:
        raise ValueError(
            f"y_true has {labels.shape[0]} samples but y_pred has {n}; they must describe the same samples"
        )
    if n == 0:
        raise ValueError("y_true and y_pred hold no samples")
    id_array = _check_ids(ids, n)

    reliability_inner = reliability_edges()[1:-1]
    histogram_edges = confidence_edges()
    sums = np.zeros((3, RELIABILITY_BINS))  # count, confidence, correct
    histogram = np.zeros((2, CONFIDENCE_BINS), np.int64)  # right, wrong
    correct_total = 0
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    best = (empty_i, empty_f, empty_i, empty_i, empty_f)
    for part in _slices(n, max(1, CHUNK // num_classes)):
        p = _probabilities(scores[part], part.start, logits)
        rows = np.arange(p.shape[0])
        truth = labels[part]
        predicted = p.argmax(axis=1)
        confidence = p[rows, predicted]
        correct = predicted == truth
        correct_total += int(correct.sum())
        reliability_bin = np.searchsorted(reliability_inner, confidence, side="left")
        for row, weights in enumerate((None, confidence, correct.astype(np.float64))):
            sums[row] += np.bincount(reliability_bin, weights=weights, minlength=RELIABILITY_BINS)
        histogram_bin = _bin_index(histogram_edges, confidence)
        histogram[0] += np.bincount(histogram_bin[correct], minlength=CONFIDENCE_BINS)
        histogram[1] += np.bincount(histogram_bin[~correct], minlength=CONFIDENCE_BINS)
        wrong = np.flatnonzero(~correct)
        if wrong.size:
            found = (wrong + part.start, confidence[wrong], truth[wrong], predicted[wrong], p[wrong, truth[wrong]])
            best = _top_wrong(best, found)
    counts = sums[0].round().astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        reliability = sums[1:] / sums[0]
    gaps = np.abs(reliability[1] - reliability[0])
    filled = counts > 0
    index, confidence, truth, predicted, true_probability = best
    return Classification(
        samples=n,
        class_names=names or [str(i) for i in range(num_classes)],
        accuracy=correct_total / n,
        ece=float((gaps[filled] * counts[filled]).sum() / n),
        mce=float(gaps[filled].max()),
        reliability_counts=counts,
        reliability=reliability,
        confidence_counts=histogram,
        wrong_index=index.astype(np.int64),
        wrong_labels=np.stack([truth, predicted]).astype(np.int64),
        wrong_scores=np.stack([confidence, true_probability]).astype(np.float64),
        wrong_ids=_id_strings(id_array, index),
    )


# ---------------------------------------------------------------------------- encode


def _narrow_counts(counts: np.ndarray) -> np.ndarray:
    largest = int(counts.max()) if counts.size else 0
    dtype = next(t for t in ("<u1", "<u2", "<u4", "<u8") if largest <= np.iinfo(t).max)
    return counts.astype(dtype)


def _arrays(named: dict[str, np.ndarray]) -> list[Any]:
    return [_packing.pack_array(name, values) for name, values in named.items()]


def _body_arrays(body: RegressionBody) -> list[Any]:
    named = {"density": _narrow_counts(body.density)}
    if body.true is not None and body.pred is not None:
        named["true"], named["pred"] = body.true, body.pred
    if body.ids is not None:
        encoded = [value.encode("utf-8") for value in body.ids]
        named["id_utf8"] = np.frombuffer(b"".join(encoded), np.uint8)
        named["id_ends"] = np.cumsum([len(value) for value in encoded], dtype=np.int64)
    return _arrays(named)


def encode(tag: str, data: Predictions) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` of one step: header, then body."""
    if isinstance(data, Regression):
        metrics = [data.mae, data.rmse, data.r2, data.mean_error, data.max_abs_error]
        header = _proto.PredictionsStep(
            task=data.task,
            samples=data.samples,
            exact_points=data.exact_points,
            arrays=_arrays(
                {
                    "metrics": np.array(metrics, np.float64),
                    "range": np.array(data.range, np.float64),
                    "residual_edges": data.residual_edges.astype(np.float64),
                    "residual_counts": data.residual_counts.astype(np.int64),
                    "quantile_edges": data.quantile_edges.astype(np.float64),
                    "quantile_counts": data.quantile_counts.astype(np.int64),
                    "quantile_errors": data.quantile_errors.astype(np.float64),
                }
            ),
        )
        if data.body is None:
            raise ValueError("a regression step needs its body to be written")
        body = _proto.Arrays(arrays=_body_arrays(data.body))
    else:
        header = _proto.PredictionsStep(
            task=data.task,
            samples=data.samples,
            class_names=data.class_names,
            ids=data.wrong_ids or [],
            arrays=_arrays(
                {
                    "metrics": np.array([data.accuracy, data.ece, data.mce], np.float64),
                    "reliability_counts": data.reliability_counts.astype(np.int64),
                    "reliability": data.reliability.astype(np.float64),
                    "confidence_counts": data.confidence_counts.astype(np.int64),
                    "wrong_index": data.wrong_index.astype(np.int64),
                    "wrong_labels": data.wrong_labels.astype(np.int64),
                    "wrong_scores": data.wrong_scores.astype(np.float64),
                }
            ),
        )
        body = _proto.Arrays()
    tensor = _packing.blob_sequence_tensor([header.SerializeToString(), body.SerializeToString()])
    return summary_pb2.Summary.Value(
        tag=tag, metadata=_metadata.summary_metadata(KIND, VERSION, DATA_CLASS), tensor=tensor
    )


# ---------------------------------------------------------------------------- decode


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise UnreadableRecord(f"predictions: {message}")


def _counts(array: np.ndarray, what: str, total: int) -> np.ndarray:
    _require(array.dtype.kind in "iu", f"{what} are not integers")
    _require(not array.size or (array.min() >= 0 and int(array.sum()) == total), f"{what} do not add up to the samples")
    return array.astype(np.int64)


def _decode_regression(message: Any, arrays: dict[str, np.ndarray]) -> Regression:
    n = message.samples
    _require(n >= 2, f"a regression step of {n} samples")
    _require(not message.exact_points or n <= EXACT_POINTS, "exact points beyond EXACT_POINTS")
    bins = QUANTILES.size - 1
    _packing.require_arrays(
        arrays,
        "predictions",
        {
            "metrics": (len(REGRESSION_METRICS),),
            "range": (2,),
            "residual_edges": (RESIDUAL_BINS + 1,),
            "residual_counts": (RESIDUAL_BINS,),
            "quantile_edges": (bins + 1,),
            "quantile_counts": (bins,),
            "quantile_errors": (3, bins),
        },
    )
    floats = ("metrics", "range", "residual_edges", "quantile_edges", "quantile_errors")
    _require(all(arrays[name].dtype.kind == "f" for name in floats), "metrics are not floats")
    low, high = (float(v) for v in arrays["range"])
    _require(np.isfinite(low) and np.isfinite(high) and low < high, "the range is not increasing")
    edges = arrays["residual_edges"]
    _require(bool(np.all(np.isfinite(edges)) and np.all(np.diff(edges) > 0)), "residual edges are not increasing")
    _require(bool(np.all(np.diff(arrays["quantile_edges"]) >= 0)), "quantile edges are not sorted")
    mae, rmse, r2, mean_error, max_abs_error = (float(v) for v in arrays["metrics"])
    return Regression(
        samples=n,
        mae=mae,
        rmse=rmse,
        r2=r2,
        mean_error=mean_error,
        max_abs_error=max_abs_error,
        range=(low, high),
        residual_edges=edges.astype(np.float64),
        residual_counts=_counts(arrays["residual_counts"], "residual counts", n),
        quantile_edges=arrays["quantile_edges"].astype(np.float64),
        quantile_counts=_counts(arrays["quantile_counts"], "decile counts", n),
        quantile_errors=arrays["quantile_errors"].astype(np.float64),
        exact_points=message.exact_points,
        body=None,
    )


def _decode_classification(message: Any, arrays: dict[str, np.ndarray]) -> Classification:
    n = message.samples
    names = list(message.class_names)
    _require(n >= 1, f"a classification step of {n} samples")
    _require(2 <= len(names) <= MAX_CLASSES, f"{len(names)} class names")
    k = arrays["wrong_index"].shape[0] if arrays.get("wrong_index") is not None else -1
    _require(0 <= k <= TOP_WRONG, "no list of wrong samples")
    _packing.require_arrays(
        arrays,
        "predictions",
        {
            "metrics": (len(CLASSIFICATION_METRICS),),
            "reliability_counts": (RELIABILITY_BINS,),
            "reliability": (2, RELIABILITY_BINS),
            "confidence_counts": (2, CONFIDENCE_BINS),
            "wrong_index": (k,),
            "wrong_labels": (2, k),
            "wrong_scores": (2, k),
        },
    )
    _require(all(arrays[name].dtype.kind == "f" for name in ("metrics", "reliability", "wrong_scores")), "floats")
    index, labels = arrays["wrong_index"], arrays["wrong_labels"]
    _require(index.dtype.kind in "iu" and labels.dtype.kind in "iu", "wrong samples are not integers")
    _require(not k or (index.min() >= 0 and index.max() < n), "a wrong sample's index is out of range")
    _require(not k or (labels.min() >= 0 and labels.max() < len(names)), "a wrong sample's class is out of range")
    ids = list(message.ids)
    _require(len(ids) in (0, k), "ids do not match the wrong samples")
    accuracy, ece, mce = (float(v) for v in arrays["metrics"])
    return Classification(
        samples=n,
        class_names=names,
        accuracy=accuracy,
        ece=ece,
        mce=mce,
        reliability_counts=_counts(arrays["reliability_counts"], "reliability counts", n),
        reliability=arrays["reliability"].astype(np.float64),
        confidence_counts=_counts(arrays["confidence_counts"], "confidence counts", n),
        wrong_index=index.astype(np.int64),
        wrong_labels=labels.astype(np.int64),
        wrong_scores=arrays["wrong_scores"].astype(np.float64),
        wrong_ids=ids if ids else None,
    )


def decode(value: Any) -> Predictions:
    """The header of a step, from what a data provider returns (its blobs as a bytes array; only
    the first is read); a regression step comes back with ``body=None``. Raises
    ``UnreadableRecord`` for anything malformed."""
    try:
        message = _proto.PredictionsStep.FromString(_packing.header_blob(value, "predictions"))
    except UnreadableRecord:
        raise
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"malformed predictions header: {error}") from None
    arrays = _packing.unpack_arrays(message.arrays, "predictions")
    if message.task == "regression":
        _require(not message.class_names and not message.ids, "a regression header with class names or ids")
        return _decode_regression(message, arrays)
    if message.task == "classification":
        return _decode_classification(message, arrays)
    raise UnreadableRecord(f"predictions: unknown task {message.task!r}")


def read_body(header: Predictions, blob: bytes) -> RegressionBody | None:
    """Blob 1 of a step, checked against its header (``None`` for classification, which has
    no body). Raises ``UnreadableRecord`` for anything malformed."""
    try:
        message = _proto.Arrays.FromString(blob)
    except Exception as error:
        raise UnreadableRecord(f"malformed predictions body: {error}") from None
    arrays = _packing.unpack_arrays(message.arrays, "predictions body")
    if isinstance(header, Classification):
        _require(not arrays, "a classification body holds arrays")
        return None
    n = header.samples
    _packing.require_arrays(arrays, "predictions body", {"density": (DENSITY_BINS, DENSITY_BINS)})
    density = _counts(arrays["density"], "density counts", n)
    true = pred = ids = None
    if header.exact_points:
        _packing.require_arrays(arrays, "predictions body", {"true": (n,), "pred": (n,)})
        true, pred = arrays["true"], arrays["pred"]
        _require(true.dtype.kind == "f" and pred.dtype.kind == "f", "points are not floats")
    else:
        _require("true" not in arrays and "pred" not in arrays, "points in a step that is not exact")
    if "id_ends" in arrays or "id_utf8" in arrays:
        _require(header.exact_points, "ids in a step that is not exact")
        _packing.require_arrays(arrays, "predictions body", {"id_ends": (n,)})
        ends, raw = arrays["id_ends"], arrays.get("id_utf8")
        _require(raw is not None and raw.ndim == 1 and raw.dtype == np.uint8, "id bytes are missing")
        _require(ends.dtype.kind in "iu" and bool(np.all(np.diff(ends) >= 0)), "id offsets are not sorted")
        _require(ends.min() >= 0 and int(ends[-1]) == raw.size, "id offsets do not match the id bytes")
        data = raw.tobytes()
        starts = np.concatenate([[0], ends[:-1]]).tolist()
        try:
            ids = [data[a:b].decode("utf-8") for a, b in zip(starts, ends.tolist())]
        except UnicodeDecodeError:
            raise UnreadableRecord("predictions: an id is not UTF-8") from None
    return RegressionBody(density=density.reshape(DENSITY_BINS, DENSITY_BINS), true=true, pred=pred, ids=ids)


def read_step(blobs: Sequence[bytes]) -> Predictions:
    """A whole step from its blobs (``Summary.Value.tensor.string_val``), body included."""
    header = decode(list(blobs))
    _require(len(blobs) == 2, f"a step has {len(blobs)} blobs, not 2")
    body = read_body(header, blobs[BODY_BLOB])
    if isinstance(header, Regression):
        return replace(header, body=body)
    return header
