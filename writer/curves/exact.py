"""Exact ROC and precision-recall curves, their AUC and average precision, and their compression.

A score column becomes sorted *keys*, ``(score bits << 1) | is_positive``: scores in [0, 1] order
as their IEEE bit patterns, so one integer sort orders the scores and carries the labels (no
argsort, no gather). A curve has one point per distinct score (as scikit-learn's
``_binary_clf_curve``); a point is named by its *top*, how many samples score at least its
threshold (strictly increasing along the curve).

Nothing here holds an array per point: between the thresholds that positives score (and the
points just above them) a curve only gains negatives, a straight horizontal run of the ROC curve
and a straight vertical one of the PR curve. AUC and average precision are sums over the
thresholds positives score; arc lengths are summed over those *vertices*, and any other point is
found by bisecting the sorted keys. Extra memory per class is O(positives) plus O(n) bytes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Iterator, Union

import numpy as np

#: The most points a stored curve keeps (AUC and AP always come from the full curve).
MAX_POINTS = 2000
#: Above this error of the stored trapezoid ROC area, the picked points are nudged (contract: 1e-4).
AREA_TOLERANCE = 1e-5
#: The micro average sorts the pooled scores exactly up to this many (samples × classes)
#: elements; above, it is read from a histogram of their float32 bit patterns.
MICRO_EXACT_ELEMENTS = 2**26
#: Bins of that histogram: float32 bit patterns of [0, 1] without their 10 lowest bits.
MICRO_BINS = 2**20
_MICRO_SHIFT = 10
_CHUNK = 2**18  # elements per pass over a long key array (bounds the temporaries)
#: Arc lengths are summed over at most this many vertices (beyond, an even sample of them).
_VERTEX_CAP = 2**18
_LITTLE_ENDIAN = sys.byteorder == "little"


@dataclass(frozen=True)
class Curve:
    """One curve, thresholds descending: ``tp[i]``/``fp[i]`` positives/negatives scoring at
    least ``thresholds[i]``; the last point counts every sample (``tp[-1] == positives``)."""

    thresholds: np.ndarray  # float64
    tp: np.ndarray  # int64
    fp: np.ndarray  # int64
    positives: int
    negatives: int

    @property
    def fpr(self) -> np.ndarray:
        return self.fp / self.negatives if self.negatives else np.zeros(self.fp.size)

    @property
    def tpr(self) -> np.ndarray:
        return self.tp / self.positives if self.positives else np.zeros(self.tp.size)

    @property
    def precision(self) -> np.ndarray:
        return self.tp / (self.tp + self.fp)


# ---------------------------------------------------------------------------- keys


def key_types(logits: bool, dtype: np.dtype) -> tuple[np.dtype, np.dtype]:
    """``(float dtype, unsigned key dtype)`` of a score column: float32 scores (and smaller
    types) sort as 32-bit keys, everything else (and probabilities from logits) as 64-bit."""
    if not logits and (dtype.kind in "biu" or (dtype.kind == "f" and dtype.itemsize <= 4)):
        return np.dtype(np.float32), np.dtype(np.uint32)
    return np.dtype(np.float64), np.dtype(np.uint64)


def pack_keys(column: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Turns a score column (float32/64, owned, in [0, 1]) into its sorted keys, in place."""
    column += 0.0  # -0.0 becomes +0.0, whose bit pattern orders first
    keys = column.view(np.uint32 if column.dtype.itemsize == 4 else np.uint64)
    keys <<= 1
    np.bitwise_or(keys, positive, out=keys)
    keys.sort()
    return keys


def _chunks(size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, size, _CHUNK):
        yield start, min(size, start + _CHUNK)


def _labels(keys: np.ndarray) -> np.ndarray:
    """The label bits of keys, one byte each."""
    if _LITTLE_ENDIAN:
        return keys.view(np.uint8)[:: keys.itemsize] & 1
    return (keys & 1).astype(np.uint8)


def _score_starts(keys: np.ndarray, start: int, end: int) -> np.ndarray:
    """Positions in ``[start, end)`` where a new score begins (ascending)."""
    if start == 0:
        change = np.empty(end, dtype=bool)
        change[0] = True
        np.greater(keys[1:end] ^ keys[: end - 1], 1, out=change[1:])
        return np.flatnonzero(change)
    return np.flatnonzero((keys[start:end] ^ keys[start - 1 : end - 1]) > 1) + start


# ---------------------------------------------------------------------------- curve sources


class KeyCurve:
    """The curve of sorted keys, with O(log n) lookups of any point by its top."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys
        self.samples = keys.size
        self._score_mask = ~keys.dtype.type(1)
        self._float = np.float32 if keys.itemsize == 4 else np.float64
        parts = [np.flatnonzero(_labels(keys[a:b])) + a for a, b in _chunks(keys.size)]
        self.positive_at = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        self.positives = int(self.positive_at.size)
        self.negatives = self.samples - self.positives

    def distinct(self) -> int:
        return sum(int(_score_starts(self.keys, a, b).size) for a, b in _chunks(self.keys.size))

    def all_tops(self) -> np.ndarray:
        starts = np.concatenate([_score_starts(self.keys, a, b) for a, b in _chunks(self.keys.size)])
        return self.samples - starts[::-1]

    def _run_start(self, position: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.keys, self.keys[position] & self._score_mask, side="left")

    def first_top(self) -> int:
        return int(self.samples - self._run_start(np.array([self.samples - 1]))[0])

    def point_at(self, goal: np.ndarray) -> np.ndarray:
        """The top of the first point (descending thresholds) with top >= ``goal``."""
        position = self.samples - np.clip(goal, 1, self.samples)
        return self.samples - self._run_start(position)

    def above(self, top: np.ndarray) -> np.ndarray:
        """The top of the point just above (the next higher threshold); -1 for the first."""
        end = np.searchsorted(self.keys, self.keys[self.samples - top] | 1, side="right")
        return np.where(end < self.samples, self.samples - end, -1)

    def below(self, top: np.ndarray) -> np.ndarray:
        """The top of the point just below; -1 for the last."""
        position = np.maximum(self.samples - top - 1, 0)
        return np.where(top < self.samples, self.samples - self._run_start(position), -1)

    def tp_at(self, top: np.ndarray) -> np.ndarray:
        return self.positives - np.searchsorted(self.positive_at, self.samples - top, side="left")

    def thresholds(self, top: np.ndarray) -> np.ndarray:
        bits = self.keys[self.samples - top] >> 1
        return bits.view(self._float).astype(np.float64)

    def rises(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """``(top, tp, positives, tied negatives)`` of the thresholds that positives score,
        chunk by chunk (a threshold may appear in two chunks, its positives split)."""
        for a, b in _chunks(self.positives):
            keys = self.keys[self.positive_at[a:b]]  # ascending; equal scores are equal keys
            first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            count = np.diff(np.append(first, keys.size))
            start = np.searchsorted(self.keys, keys[first] & self._score_mask, side="left")
            end = np.searchsorted(self.keys, keys[first], side="right")
            below = np.searchsorted(self.positive_at, start, side="left")  # positives below the run
            held = np.searchsorted(self.positive_at, end, side="left") - below  # ... and in it
            yield self.samples - start, self.positives - below, count, end - start - held


class ArrayCurve:
    """A curve given point by point (thresholds descending, running tp and fp)."""

    def __init__(self, thresholds: np.ndarray, tp: np.ndarray, fp: np.ndarray) -> None:
        self.values, self.tp = thresholds, tp
        self.top = tp + fp
        self.samples = int(self.top[-1])
        self.positives = int(tp[-1])
        self.negatives = self.samples - self.positives

    def _index(self, top: np.ndarray) -> np.ndarray:
        return np.minimum(np.searchsorted(self.top, top, side="left"), self.top.size - 1)

    def distinct(self) -> int:
        return int(self.top.size)

    def all_tops(self) -> np.ndarray:
        return self.top

    def first_top(self) -> int:
        return int(self.top[0])

    def point_at(self, goal: np.ndarray) -> np.ndarray:
        return self.top[self._index(goal)]

    def above(self, top: np.ndarray) -> np.ndarray:
        index = self._index(top)
        return np.where(index > 0, self.top[np.maximum(index - 1, 0)], -1)

    def below(self, top: np.ndarray) -> np.ndarray:
        index = self._index(top)
        return np.where(index < self.top.size - 1, self.top[np.minimum(index + 1, self.top.size - 1)], -1)

    def tp_at(self, top: np.ndarray) -> np.ndarray:
        return self.tp[self._index(top)]

    def thresholds(self, top: np.ndarray) -> np.ndarray:
        return self.values[self._index(top)]

    def rises(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        gained = np.diff(self.tp, prepend=0)
        sizes = np.diff(self.top, prepend=0)
        held = np.flatnonzero(gained > 0)
        yield self.top[held], self.tp[held], gained[held], sizes[held] - gained[held]


Source = Union[KeyCurve, ArrayCurve]


# ---------------------------------------------------------------------------- numbers


def auc_ap(source: Source) -> tuple[float, float, np.ndarray]:
    """``(ROC AUC, average precision, tops of the thresholds positives score)``: the AUC is the
    trapezoid from the origin (= ``roc_auc_score``), the AP Σ Δrecall · precision
    (= ``average_precision_score``), both summed over the thresholds positives score: a positive
    beats every negative below its score and ties half of those at it."""
    positives, negatives = source.positives, source.negatives
    beaten = precision = 0.0
    tops = []
    for top, tp, count, tied in source.rises():
        weight = count.astype(np.float64)
        precision += float(np.dot(weight, tp / top))
        beaten += float(np.dot(weight, (2 * (negatives - (top - tp)) + tied).astype(np.float64)))
        tops.append(top[::-1])
    rise_tops = _union(*tops[::-1]) if tops else np.zeros(0, dtype=np.int64)
    if positives == 0:
        return float("nan"), float("nan"), rise_tops
    ap = precision / positives
    return (beaten / (2.0 * negatives * positives) if negatives else float("nan")), ap, rise_tops


# ---------------------------------------------------------------------------- compression


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of non-decreasing ``values``."""
    keep = np.empty(values.size, dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _union(*arrays: np.ndarray) -> np.ndarray:
    merged = np.concatenate(arrays)
    merged.sort()
    return _distinct(merged)


def _thin(values: np.ndarray, count: int) -> np.ndarray:
    """At most ``count`` of the sorted ``values``, evenly spaced among them (first and last kept)."""
    if values.size <= count:
        return values
    return _distinct(values[np.linspace(0, values.size - 1, max(count, 2)).round().astype(np.int64)])


class _Vertices:
    """The points where a curve may turn (those positives score, the points just above them,
    the first and the last), with the arc lengths of the ROC and the PR curve there."""

    def __init__(self, source: Source, rise_tops: np.ndarray, cap: int | None = _VERTEX_CAP) -> None:
        self.sampled = cap is not None and rise_tops.size > cap
        if self.sampled:  # an even sample: its points are exact, its arcs chords of the curve
            rise_tops = rise_tops[np.linspace(0, rise_tops.size - 1, cap).round().astype(np.int64)]
        above = source.above(rise_tops)
        self.top = _union(rise_tops, above[above > 0], [source.first_top(), source.samples])
        self.tp = source.tp_at(self.top)
        self.fp = self.top - self.tp
        self.negatives, self.positives = max(source.negatives, 1), max(source.positives, 1)
        self.precision = self.tp / self.top
        recall_steps = np.diff(self.tp) / self.positives
        self.roc = self._arc(np.hypot(np.diff(self.fp) / self.negatives, recall_steps))
        self.pr = self._arc(np.hypot(recall_steps, np.diff(self.precision)))
        # exact area under the ROC polyline from the origin up to each vertex
        heights = self.tp.astype(np.float64)
        heights[1:] += self.tp[:-1]
        self.area = np.cumsum(np.diff(self.fp, prepend=0) * heights) / (2.0 * self.negatives * self.positives)

    @staticmethod
    def _arc(segments: np.ndarray) -> np.ndarray:
        arc = np.empty(segments.size + 1)
        arc[0] = 0.0
        np.cumsum(segments, out=arc[1:])
        return arc

    def corners(self, source: Source) -> np.ndarray:
        """The tops of the vertices where the ROC polyline turns (first and last included)."""
        inner = self.top[:-1]
        above, below = source.above(inner), source.below(inner)
        tp, tp_above, tp_below = self.tp[:-1], np.where(above > 0, source.tp_at(np.abs(above)), 0), source.tp_at(below)
        fp, fp_above, fp_below = inner - tp, np.where(above > 0, above - tp_above, 0), below - tp_below
        turns = (fp - fp_above) * (tp_below - tp) != (tp - tp_above) * (fp_below - fp)
        return _union(inner[turns], [self.top[0], self.top[-1]])

    def even(self, source: Source, count: int, curve: str) -> np.ndarray:
        """The tops of ``count`` points evenly spaced in arc length along the ROC or PR curve."""
        arc = self.roc if curve == "roc" else self.pr
        targets = np.linspace(0.0, arc[-1], count)
        k = np.clip(np.searchsorted(arc, targets, side="left"), 1, arc.size - 1)
        left = targets - arc[k - 1]  # how far past vertex k - 1; past it the curve only gains
        if curve == "roc":  # negatives (at its true positives) until vertex k
            goal = self.top[k - 1] + left * self.negatives
        else:
            drop = self.precision[k - 1] - left  # precision tp / top falls to it at top = tp / drop
            with np.errstate(divide="ignore"):
                goal = np.where(drop > 0, self.tp[k - 1] / np.maximum(drop, 1e-300), np.inf)
        goal = np.clip(np.ceil(np.minimum(goal, self.top[k])), self.top[k - 1] + 1, self.top[k]).astype(np.int64)
        picks = np.minimum(source.point_at(goal), self.top[k])
        picks[targets <= 0] = self.top[0]
        picks[-1] = self.top[-1]
        return np.maximum.accumulate(picks)

    def area_at(self, source: Source, top: np.ndarray) -> np.ndarray:
        """Exact ROC area from the origin up to the points ``top``."""
        vertex = np.searchsorted(self.top, top, side="right") - 1  # the vertex at or above
        fp = top - source.tp_at(top)
        return self.area[vertex] + (fp - self.fp[vertex]) * self.tp[vertex] / (1.0 * self.negatives * self.positives)


def _chords(source: Source, tops: np.ndarray) -> float:
    """Trapezoid area under the ROC polyline of the points ``tops``, from the origin."""
    tp = source.tp_at(tops)
    x, y = (tops - tp) / max(source.negatives, 1), tp / max(source.positives, 1)
    return float(x[0] * y[0] / 2 + np.dot(np.diff(x), y[1:] + y[:-1]) / 2)


def _nudge(source: Source, vertices: _Vertices, corners: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Moves interior picks to nearby points (their neighbours, the nearest ROC corners) so that
    the running area error of the stored polyline stays near zero (error diffusion)."""
    up = source.above(picks)
    down = source.below(picks)
    near = [
        picks,
        up,
        source.above(np.where(up > 0, up, picks)),
        down,
        source.below(np.where(down > 0, down, picks)),
        corners[np.maximum(np.searchsorted(corners, picks, side="right") - 1, 0)],
        corners[np.minimum(np.searchsorted(corners, picks, side="left"), corners.size - 1)],
    ]
    candidates = np.stack(near, axis=1)
    flat = np.unique(candidates[candidates > 0])
    tp = source.tp_at(flat)
    x, y = (flat - tp) / vertices.negatives, tp / vertices.positives
    where = {int(t): (float(a), float(b), float(c)) for t, a, b, c in zip(flat, x, y, vertices.area_at(source, flat))}
    chosen = [int(picks[0])]
    error = 0.0
    for k in range(1, picks.size - 1):
        start, limit = chosen[-1], int(picks[k + 1])
        xs, ys, areas = where[start]
        best, best_error = -1, 0.0
        for c in candidates[k].tolist():
            if start < c < limit:
                xc, yc, ac = where[c]
                gap = (xc - xs) * (yc + ys) / 2 - (ac - areas)
                if best < 0 or abs(error + gap) < abs(error + best_error):
                    best, best_error = c, gap
        if best >= 0:
            chosen.append(best)
            error += best_error
    chosen.append(int(picks[-1]))
    return np.array(chosen, dtype=np.int64)


def _picks(source: Source, rise_tops: np.ndarray, exact_auc: float, max_points: int) -> np.ndarray:
    """The tops of the stored points of a curve of more than ``max_points`` points: the union of
    points evenly spaced in arc length along the ROC and along the PR curve (first and last
    kept), with every ROC corner when they take at most half of the points (the stored ROC area
    is then exact); otherwise nudged, when needed, to keep that area within ``AREA_TOLERANCE``."""
    for cap in (_VERTEX_CAP, None):
        vertices = _Vertices(source, rise_tops, cap)
        corners = vertices.corners(source)
        kept = corners if corners.size <= max_points // 2 and not vertices.sampled else corners[:0]
        room = max_points - kept.size
        roc = _distinct(vertices.even(source, 2 * room, "roc"))
        pr = _distinct(vertices.even(source, 2 * room, "pr"))
        roc_share = min(roc.size, room - min(pr.size, room // 2))  # what one curve leaves unused
        picks = _union(kept, _thin(roc, roc_share), _thin(pr, room - roc_share))  # goes to the other
        if kept.size or not (source.positives and source.negatives):
            return picks
        error = abs(_chords(source, picks) - exact_auc)
        if error <= AREA_TOLERANCE:
            return picks
        if not vertices.sampled:
            nudged = _nudge(source, vertices, corners, picks)
            return nudged if abs(_chords(source, nudged) - exact_auc) < error else picks
    return picks


@dataclass(frozen=True)
class Evaluated:
    auc: float
    ap: float
    curve: Curve  # as stored: every point, or at most MAX_POINTS of them
    distinct: int  # points of the full curve


def evaluate(source: Source, max_points: int = MAX_POINTS) -> Evaluated:
    """AUC and AP from the full curve, and the curve as stored."""
    auc, ap, rise_tops = auc_ap(source)
    distinct = source.distinct()
    if distinct <= max_points:
        tops = source.all_tops()
    else:
        tops = _picks(source, rise_tops, auc, max_points)
    tp_stored = source.tp_at(tops)
    curve = Curve(source.thresholds(tops), tp_stored, tops - tp_stored, source.positives, source.negatives)
    return Evaluated(auc, ap, curve, distinct)


def exact_curve(scores: np.ndarray, positive: np.ndarray) -> Curve:
    """The full curve of one score column against a boolean truth (both 1-D, scores in [0, 1])."""
    source = KeyCurve(pack_keys(np.array(scores, dtype=np.float64), np.asarray(positive, dtype=bool)))
    tops = source.all_tops()
    tp = source.tp_at(tops)
    return Curve(source.thresholds(tops), tp, tops - tp, source.positives, source.negatives)


def compress(curve: Curve, max_points: int = MAX_POINTS) -> Curve:
    """A full curve as it would be stored (at most ``max_points`` points)."""
    return evaluate(ArrayCurve(curve.thresholds, curve.tp, curve.fp), max_points).curve


# ---------------------------------------------------------------------------- micro average


class Pooled:
    """The micro-averaged curve, fed one class at a time: the pooled keys (exact; one array the
    size of the scores), or a histogram of float32 bit patterns (``MICRO_BINS`` bins)."""

    def __init__(self, samples: int, classes: int, key_dtype: np.dtype) -> None:
        self.exact = samples * classes <= MICRO_EXACT_ELEMENTS
        self._samples = samples
        if self.exact:
            self._keys = np.empty(samples * classes, dtype=key_dtype)
        else:  # positives and negatives per bin, and a class's bins as a dense slice
            self._pos, self._neg = np.zeros(MICRO_BINS, dtype=np.int64), np.zeros(MICRO_BINS, dtype=np.int64)
            self._dense = np.empty(0, dtype=np.int64)

    def add(self, index: int, source: KeyCurve) -> None:
        keys = source.keys
        if self.exact:
            self._keys[index * self._samples : (index + 1) * self._samples] = keys
            return
        parts = []
        for a, b in _chunks(keys.size):  # the first position of every bin (ascending)
            bins = self._bins(keys[max(a - 1, 0) : b])
            first = np.flatnonzero(bins[1:] != bins[:-1]) + 1 + max(a - 1, 0)
            parts.append(np.concatenate(([0], first)) if a == 0 else first)
        first = np.concatenate(parts)
        used = self._bins(keys[first]).astype(np.int64)[::-1]  # descending, as the thresholds
        top = (keys.size - first)[::-1]  # samples at or above each bin's lowest score
        low, high = int(used[-1]), int(used[0]) + 1
        dense = high - low <= 8 * used.size  # then add the class's bins as one slice
        if dense and self._dense.size < high - low:
            self._dense = np.empty(high - low, dtype=np.int64)
        tp = source.tp_at(top)
        for total, running in ((self._pos, tp), (self._neg, top - tp)):
            counts = np.diff(running, prepend=0)  # minus those of the bin above
            if dense:
                scratch = self._dense[: high - low]
                scratch.fill(0)
                scratch[used - low] = counts
                total[low:high] += scratch
            else:
                total[used] += counts

    @staticmethod
    def _bins(keys: np.ndarray) -> np.ndarray:
        if keys.itemsize == 4:
            return keys >> (1 + _MICRO_SHIFT)
        scores = (keys >> 1).view(np.float64)  # rounded down to float32, so that a bin keeps
        floor = scores.astype(np.float32)  # exactly the scores >= its edge
        over = floor > scores
        floor[over] = np.nextafter(floor[over], np.float32(0))
        return floor.view(np.uint32) >> _MICRO_SHIFT

    def source(self) -> Source:
        if self.exact:
            self._keys.sort()
            return KeyCurve(self._keys)
        used = np.flatnonzero(self._pos + self._neg)[::-1]
        values = (used.astype(np.uint32) << _MICRO_SHIFT).view(np.float32).astype(np.float64)
        source = ArrayCurve(values, np.cumsum(self._pos[used]), np.cumsum(self._neg[used]))
        del self._pos, self._neg, self._dense
        return source
