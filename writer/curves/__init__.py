"""ROC and precision-recall curves: validation, wire format (encode and decode).

A step is one blob sequence: blob 0 is the header ``CurvesStep`` (per-class AUC, average
precision, positives, negatives, stored and distinct point counts, micro and macro averages as
named arrays), blob 1 the micro-averaged curve (empty for a binary step) and blob ``2 + c`` the
curve of class ``c``; each curve blob is an ``Arrays`` of ``threshold`` (f8, descending), ``tp``
and ``fp`` (the narrowest unsigned integers): the positives and negatives scoring at least the
threshold. The curves themselves are computed in ``modellens.curves.exact``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _packing, _proto
from modellens._convert import to_numpy
from modellens._metadata import UnreadableRecord
from modellens.curves import exact
from modellens.curves.exact import MAX_POINTS, Curve, compress, exact_curve

__all__ = ["MAX_POINTS", "Curve", "Curves", "CurvesHeader", "compress", "decode", "encode", "exact_curve", "from_input"]

KIND = "CURVES"
#: The newest format of this kind that this code writes and reads.
VERSION = 1
DATA_CLASS = summary_pb2.DATA_CLASS_BLOB_SEQUENCE
#: The reader decodes only the header blob of a step; curves are read one at a time.
HEADER_BLOBS = 1
MICRO_BLOB = 1
FIRST_CLASS_BLOB = 2
#: What the micro-averaged curve is called where a class name would be.
MICRO_NAME = "micro-average"
#: The most score columns (classes) a step may have.
MAX_CLASSES = 10_000
_BLOCK_BYTES = 8 * 2**20  # score columns copied (transposed) at a time
_TILE_BYTES = 32 * 2**10  # ... tile by tile, each staying in cache
_ROW_CHUNK_ELEMENTS = 2**20  # softmax and indicator checks run over row chunks of this size
_MAX_READABLE_CLASSES = 100_000


@dataclass(frozen=True)
class Curves:
    """One step: per-class numbers from the full curves, and the stored (compressed) curves."""

    binary: bool
    samples: int
    class_names: list[str]
    auc: np.ndarray  # float64 [C], NaN where undefined (no positives or no negatives)
    ap: np.ndarray  # float64 [C], NaN where undefined (no positives)
    positives: np.ndarray  # int64 [C]
    negatives: np.ndarray  # int64 [C]
    distinct: np.ndarray  # int64 [C]: points of the full curve (distinct scores)
    curves: tuple[Curve, ...]  # stored, at most MAX_POINTS points each
    micro: Curve | None  # None for a binary step
    micro_auc: float
    micro_ap: float
    macro_auc: float
    macro_ap: float
    micro_exact: bool

    @property
    def points(self) -> np.ndarray:
        return np.array([curve.tp.size for curve in self.curves], dtype=np.int64)


# ---------------------------------------------------------------------------- validation


def _check_not_mixed(value: Any, argument: str) -> None:
    if isinstance(value, (list, tuple)) and value:
        kinds = {isinstance(v, (str, bytes)) for v in value if not isinstance(v, (list, tuple))}
        if len(kinds) > 1:
            raise TypeError(f"{argument} mixes strings and numbers; use one kind of label")


def _text_labels(values: np.ndarray, argument: str) -> np.ndarray | None:
    """``values`` as a str array when they are text labels (str or UTF-8 bytes), else None."""
    if values.dtype.kind == "U":
        return values
    if values.dtype.kind == "S" or (values.dtype.kind == "O" and values.size and isinstance(values.flat[0], bytes)):
        try:
            return np.array([v.decode("utf-8") for v in values.reshape(-1).tolist()]).reshape(values.shape)
        except (UnicodeDecodeError, AttributeError):
            raise ValueError(f"{argument} holds bytes labels that are not UTF-8 text; decode them first") from None
    if values.dtype.kind == "O":
        if values.size and all(isinstance(v, str) for v in values.reshape(-1)):
            return values.astype(str)
        raise TypeError(f"{argument} must hold numbers or strings, got objects such as {values.flat[0]!r}")
    return None


def _check_scores(scores: Any, logits: bool) -> np.ndarray:
    values = to_numpy(scores, "scores")
    if values.dtype.kind not in "biuf":
        raise TypeError(f"scores must be real numbers (probabilities, or logits with logits=True), got {values.dtype}")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]  # one sigmoid column, as Keras returns it
    if values.ndim not in (1, 2):
        raise ValueError(
            f"scores must be [samples] (binary) or [samples, classes] (one column per class); got shape {values.shape}"
        )
    if values.shape[0] == 0:
        raise ValueError("scores is empty; give at least one positive and one negative sample")
    if values.ndim == 2 and values.shape[1] == 0:
        raise ValueError(f"scores has shape {values.shape}; give one column per class")
    if values.ndim == 2 and values.shape[1] > MAX_CLASSES:
        raise ValueError(f"scores has {values.shape[1]} columns; curves are kept for at most {MAX_CLASSES} classes")
    low, high = values.min(), values.max()  # NaN propagates; no temporary the size of scores
    if values.dtype.kind == "f" and not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError("scores contains NaN or Inf; fix the model's output before logging")
    if not logits and (low < 0 or high > 1):
        raise ValueError(
            f"scores holds values in [{low}, {high}], outside [0, 1]; pass probabilities, or "
            "logits=True for raw model outputs (sigmoid for [samples], softmax per row for [samples, classes])"
        )
    return values


def _binary_truth(y_true: Any, samples: int, pos_label: Any) -> np.ndarray:
    """A boolean ``[samples]``: which samples are positive."""
    _check_not_mixed(y_true, "y_true")
    values = to_numpy(y_true, "y_true")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"y_true must be [samples] labels for binary scores [samples]; got shape {values.shape}")
    if values.shape[0] != samples:
        raise ValueError(
            f"y_true has {values.shape[0]} samples but scores has {samples}; they must describe the same samples"
        )
    text = _text_labels(values, "y_true")
    if text is not None:
        values = text
    elif values.dtype.kind not in "biuf":
        raise TypeError(f"y_true must hold labels (bool, numbers or strings), got dtype {values.dtype}")
    elif values.dtype.kind == "f" and not np.isfinite(values.min() + values.max()):
        raise ValueError("y_true contains NaN or Inf; labels must be finite")
    if pos_label is None:
        if text is not None:
            raise ValueError("y_true holds string labels; give pos_label= naming the positive one")
        if values.dtype.kind == "b":
            positive = values.astype(bool)
        else:
            positive = values == 1
            if not np.all(positive | (values == 0)) and not np.all(positive | (values == -1)):
                raise ValueError(
                    "y_true holds labels other than 0/1 (or -1/1); give pos_label= naming the positive label"
                )
    else:
        if isinstance(pos_label, (str, bytes)) != (text is not None):
            raise TypeError(
                f"pos_label {pos_label!r} and y_true must both be strings or both be numbers "
                f"(y_true has dtype {values.dtype})"
            )
        if isinstance(pos_label, bytes):
            pos_label = pos_label.decode("utf-8", "replace")
        positive = values == pos_label
        if not positive.any():
            raise ValueError(f"pos_label {pos_label!r} is not among y_true's labels")
        others = values[~positive]
        if others.size and np.any(others != others[0]):
            raise ValueError(
                f"y_true has more than two distinct labels (e.g. {others[0]!r} and "
                f"{others[np.argmax(others != others[0])]!r} besides {pos_label!r}); binary curves need two "
                "(for one curve per class give scores [samples, classes])"
            )
    count = int(np.count_nonzero(positive))
    if count in (0, samples):
        raise ValueError(
            f"ROC needs both positive and negative samples; y_true has {'only' if count else 'no'} positives"
        )
    return positive


def _multiclass_truth(y_true: Any, samples: int, classes: int, names: list[str] | None) -> np.ndarray:
    """``[samples]`` int64 labels in [0, classes), or the ``[samples, classes]`` indicator as given."""
    _check_not_mixed(y_true, "y_true")
    values = to_numpy(y_true, "y_true")
    if values.ndim == 2 and values.shape[1] == 1 and classes != 1:
        values = values[:, 0]
    if values.ndim not in (1, 2) or values.shape[0] != samples or (values.ndim == 2 and values.shape[1] != classes):
        raise ValueError(
            f"y_true must be [samples] labels or a [samples, classes] 0/1 indicator matching scores "
            f"{(samples, classes)}; got shape {values.shape}"
        )
    if values.ndim == 2:
        if values.dtype.kind not in "biuf":
            raise TypeError(f"the y_true indicator must hold 0/1 (or bool), got dtype {values.dtype}")
        if values.dtype.kind in "iu" and (values.min() < 0 or values.max() > 1):
            raise ValueError("the y_true indicator holds values other than 0 and 1")
        if values.dtype.kind == "f":
            rows = max(1, _ROW_CHUNK_ELEMENTS // classes)
            for start in range(0, samples, rows):
                chunk = values[start : start + rows]
                if np.any((chunk != 0) & (chunk != 1)):
                    raise ValueError("the y_true indicator holds values other than 0 and 1 (or NaN)")
        return values
    text = _text_labels(values, "y_true")
    if text is not None:
        if names is None:
            raise ValueError("y_true holds string labels; give class_names=[...] in score column order")
        vocabulary = np.array(names)
        order = np.argsort(vocabulary, kind="stable")
        ordered = vocabulary[order]
        positions = np.minimum(np.searchsorted(ordered, text), classes - 1)
        missing = ordered[positions] != text
        if np.any(missing):
            raise ValueError(f"y_true contains the label {text[np.argmax(missing)]!r}, which is not in class_names")
        return order[positions].astype(np.int64)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"y_true must hold integer class labels, strings or an indicator, got dtype {values.dtype}")
    if values.dtype.kind == "f":
        if not np.isfinite(values.min() + values.max()):
            raise ValueError("y_true contains NaN or Inf; labels must be finite")
        if not np.all(values == np.round(values)):
            raise ValueError("y_true holds non-integer floats; labels index score columns from 0")
    low, high = values.min(), values.max()
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        raise ValueError(f"y_true contains the label {bad}, outside [0, {classes}): scores has {classes} columns")
    return values.astype(np.int64)


def _class_names(class_names: Any, classes: int, binary: bool, pos_label: Any) -> list[str]:
    if class_names is None:
        if binary:
            return ["1" if pos_label is None else str(pos_label)]
        return [str(i) for i in range(classes)]
    names = _packing.check_names(class_names, "class_names")
    if binary:
        if len(names) not in (1, 2):
            raise ValueError(
                f"class_names has {len(names)} names; binary curves take the positive class's name, "
                "or [negative, positive]"
            )
        return names[-1:]
    if len(names) != classes:
        raise ValueError(f"class_names has {len(names)} names but scores has {classes} columns; give one per column")
    return names


def _log_sum_exp(logits: np.ndarray) -> np.ndarray:
    """Per row of ``[samples, classes]`` logits, in row chunks (no copy of the whole input)."""
    samples, classes = logits.shape
    result = np.empty(samples)
    rows = max(1, _ROW_CHUNK_ELEMENTS // classes)
    for start in range(0, samples, rows):
        chunk = logits[start : start + rows].astype(np.float64)
        peak = chunk.max(axis=1)
        chunk -= peak[:, None]
        np.exp(chunk, out=chunk)
        result[start : start + rows] = peak + np.log(chunk.sum(axis=1))
    return result


def _sigmoid(values: np.ndarray) -> np.ndarray:
    x = values.astype(np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# ---------------------------------------------------------------------------- from input


def _mean_defined(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")


def from_input(
    y_true: Any,
    scores: Any,
    *,
    class_names: Sequence[str] | None = None,
    pos_label: Any = None,
    logits: bool = False,
) -> Curves:
    """Checks and computes one step (see ``Writer.roc_pr``); raises ``ValueError``/``TypeError``
    naming the argument before anything is written."""
    if not isinstance(logits, (bool, np.bool_)):
        raise TypeError(f"logits must be True or False, got {logits!r}")
    values = _check_scores(scores, bool(logits))
    samples = values.shape[0]
    binary = values.ndim == 1
    if not binary and pos_label is not None:
        raise ValueError("pos_label applies to binary scores [samples]; with [samples, classes] labels index columns")
    classes = 1 if binary else values.shape[1]
    names = _class_names(class_names, classes, binary, pos_label)
    float_type, key_type = exact.key_types(bool(logits), values.dtype)
    if binary:
        positive = _binary_truth(y_true, samples, pos_label)
        column = _sigmoid(values) if logits else np.array(values, dtype=float_type)
        count = int(np.count_nonzero(positive))
        result = exact.evaluate(exact.KeyCurve(exact.pack_keys(column, positive)))
        auc, ap = result.auc, result.ap
        del column
        return Curves(
            binary=True,
            samples=samples,
            class_names=names,
            auc=np.array([auc]),
            ap=np.array([ap]),
            positives=np.array([count], dtype=np.int64),
            negatives=np.array([samples - count], dtype=np.int64),
            distinct=np.array([result.distinct], dtype=np.int64),
            curves=(result.curve,),
            micro=None,
            micro_auc=auc,
            micro_ap=ap,
            macro_auc=auc,
            macro_ap=ap,
            micro_exact=True,
        )
    truth = _multiclass_truth(y_true, samples, classes, names if class_names is not None else None)
    indicator = truth.ndim == 2
    positives = truth.sum(axis=0, dtype=np.int64) if indicator else np.bincount(truth, minlength=classes)
    positives = positives.astype(np.int64)
    negatives = samples - positives
    if not np.any((positives > 0) & (negatives > 0)):
        raise ValueError(
            "ROC needs both positive and negative samples, and no class has both: "
            f"y_true gives {'every' if indicator else 'one'} label to all {samples} samples"
        )
    lse = _log_sum_exp(values) if logits else None
    block = max(1, min(16, classes, _BLOCK_BYTES // (samples * float_type.itemsize)))
    buffer = np.empty((block, samples), dtype=float_type)
    tile = max(1, _TILE_BYTES // (block * float_type.itemsize))
    positive = np.empty(samples, dtype=bool)
    pooled = exact.Pooled(samples, classes, key_type)
    auc, ap = np.empty(classes), np.empty(classes)
    distinct = np.empty(classes, dtype=np.int64)
    stored: list[Curve] = []
    for first in range(0, classes, block):
        rows = buffer[: min(block, classes - first)]
        columns = values[:, first : first + rows.shape[0]]
        for start in range(0, samples, tile):  # transposed tile by tile: each stays in cache
            np.copyto(rows[:, start : start + tile], columns[start : start + tile].T, casting="unsafe")
        if lse is not None:
            rows -= lse
            np.exp(rows, out=rows)
            np.minimum(rows, 1.0, out=rows)
        for offset in range(rows.shape[0]):
            c = first + offset
            if indicator:
                np.not_equal(truth[:, c], 0, out=positive)
            else:
                np.equal(truth, c, out=positive)
            source = exact.KeyCurve(exact.pack_keys(rows[offset], positive))
            result = exact.evaluate(source)
            auc[c], ap[c], distinct[c] = result.auc, result.ap, result.distinct
            stored.append(result.curve)
            pooled.add(c, source)
            del source
    del buffer
    micro = exact.evaluate(pooled.source())
    return Curves(
        binary=False,
        samples=samples,
        class_names=names,
        auc=auc,
        ap=ap,
        positives=positives,
        negatives=negatives,
        distinct=distinct,
        curves=tuple(stored),
        micro=micro.curve,
        micro_auc=micro.auc,
        micro_ap=micro.ap,
        macro_auc=_mean_defined(auc),
        macro_ap=_mean_defined(ap),
        micro_exact=pooled.exact,
    )


# ---------------------------------------------------------------------------- encode


def _narrow(counts: np.ndarray) -> np.ndarray:
    largest = int(counts.max()) if counts.size else 0
    dtype = next(t for _, t in _packing.COUNT_TYPES if largest <= np.iinfo(t).max)
    return counts.astype(dtype)


def _curve_blob(curve: Curve) -> bytes:
    arrays = [
        _packing.pack_array("threshold", curve.thresholds.astype(np.float64)),
        _packing.pack_array("tp", _narrow(curve.tp)),
        _packing.pack_array("fp", _narrow(curve.fp)),
    ]
    return _proto.Arrays(arrays=arrays).SerializeToString()


def encode(tag: str, data: Curves) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` of one step: header, micro curve (empty when binary), class curves."""
    arrays = [
        _packing.pack_array("auc", data.auc.astype(np.float64)),
        _packing.pack_array("ap", data.ap.astype(np.float64)),
        _packing.pack_array("positives", data.positives.astype(np.int64)),
        _packing.pack_array("negatives", data.negatives.astype(np.int64)),
        _packing.pack_array("points", data.points),
        _packing.pack_array("distinct", data.distinct.astype(np.int64)),
        _packing.pack_array("micro", np.array([data.micro_auc, data.micro_ap], dtype=np.float64)),
        _packing.pack_array("macro", np.array([data.macro_auc, data.macro_ap], dtype=np.float64)),
    ]
    header = _proto.CurvesStep(
        binary=data.binary,
        samples=data.samples,
        class_names=data.class_names,
        arrays=arrays,
        micro_exact=data.micro_exact,
        max_points=MAX_POINTS,
    )
    blobs = [header.SerializeToString(), b"" if data.micro is None else _curve_blob(data.micro)]
    blobs += [_curve_blob(curve) for curve in data.curves]
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_metadata.summary_metadata(KIND, VERSION, DATA_CLASS),
        tensor=_packing.blob_sequence_tensor(blobs),
    )


# ---------------------------------------------------------------------------- decode


@dataclass(frozen=True)
class CurvesHeader:
    """What the first blob of a step says (checked)."""

    binary: bool
    samples: int
    class_names: list[str]
    auc: np.ndarray  # float64 [C], NaN where undefined
    ap: np.ndarray
    positives: np.ndarray  # int64 [C]
    negatives: np.ndarray
    points: np.ndarray  # stored points per class curve
    distinct: np.ndarray  # points of the full curve
    micro_auc: float  # a binary step: the class's own numbers
    micro_ap: float
    macro_auc: float
    macro_ap: float
    micro_exact: bool
    max_points: int

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def blob_index(self, which: int | str) -> int:
        """The blob of class ``which`` (an index) or of ``"micro"``; ``IndexError`` when absent."""
        if which == "micro":
            if self.binary:
                raise IndexError("a binary step has no micro-averaged curve")
            return MICRO_BLOB
        if not isinstance(which, int) or isinstance(which, bool) or not 0 <= which < self.num_classes:
            raise IndexError(f"class {which} is out of range: this step has {self.num_classes} classes")
        return FIRST_CLASS_BLOB + which


def decode(value: Any) -> CurvesHeader:
    """The header of a step, from what a data provider returns (its blobs as a bytes array; only
    the first is read). Raises ``UnreadableRecord`` for anything malformed."""
    try:
        message = _proto.CurvesStep.FromString(_packing.header_blob(value, "curves"))
    except UnreadableRecord:
        raise
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"malformed curves header: {error}") from None
    names = list(message.class_names)
    classes = len(names)
    if not 0 < classes <= _MAX_READABLE_CLASSES or (message.binary and classes != 1):
        raise UnreadableRecord(f"a curves step with {classes} class names (binary: {message.binary})")
    if message.samples < 2 or message.max_points < 2:
        raise UnreadableRecord(f"curves sizes out of range: {message.samples} samples, {message.max_points} points")
    arrays = _packing.unpack_arrays(message.arrays, "curves header")
    per_class = ("auc", "ap", "positives", "negatives", "points", "distinct")
    _packing.require_arrays(
        arrays, "curves header", {**{n: (classes,) for n in per_class}, "micro": (2,), "macro": (2,)}
    )
    for name in ("positives", "negatives", "points", "distinct"):
        if arrays[name].dtype.kind not in "iu":
            raise UnreadableRecord(f"curves header: {name} is not integer")
    positives, negatives = arrays["positives"].astype(np.int64), arrays["negatives"].astype(np.int64)
    points, distinct = arrays["points"].astype(np.int64), arrays["distinct"].astype(np.int64)
    if np.any(positives < 0) or np.any(negatives < 0) or np.any(positives + negatives != message.samples):
        raise UnreadableRecord("curves header: positives and negatives do not add up to the samples")
    if (
        np.any(points < 1)
        or np.any(points > np.minimum(distinct, message.max_points))
        or np.any(distinct > message.samples)
    ):
        raise UnreadableRecord("curves header: point counts out of range")
    micro, macro = arrays["micro"].astype(np.float64), arrays["macro"].astype(np.float64)
    return CurvesHeader(
        binary=message.binary,
        samples=message.samples,
        class_names=names,
        auc=arrays["auc"].astype(np.float64),
        ap=arrays["ap"].astype(np.float64),
        positives=positives,
        negatives=negatives,
        points=points,
        distinct=distinct,
        micro_auc=float(micro[0]),
        micro_ap=float(micro[1]),
        macro_auc=float(macro[0]),
        macro_ap=float(macro[1]),
        micro_exact=message.micro_exact,
        max_points=message.max_points,
    )


def read_curve(header: CurvesHeader, which: int | str, blob: bytes) -> Curve:
    """Class ``which``'s curve (or ``"micro"``) from its blob, checked against ``header``."""
    if which == "micro":
        positives, negatives = int(header.positives.sum()), int(header.negatives.sum())
        expected = None
    else:
        positives, negatives = int(header.positives[which]), int(header.negatives[which])
        expected = int(header.points[which])
    try:
        message = _proto.Arrays.FromString(blob)
    except Exception as error:
        raise UnreadableRecord(f"malformed curve: {error}") from None
    arrays = _packing.unpack_arrays(message.arrays, "curve")
    size = arrays["threshold"].shape[0] if arrays.get("threshold") is not None and arrays["threshold"].ndim else -1
    if size < 1 or size > header.max_points or (expected is not None and size != expected):
        raise UnreadableRecord(f"a curve of {size} points; its step's header says {expected}")
    _packing.require_arrays(arrays, "curve", {"threshold": (size,), "tp": (size,), "fp": (size,)})
    thresholds = arrays["threshold"]
    if thresholds.dtype != np.float64 or arrays["tp"].dtype.kind not in "iu" or arrays["fp"].dtype.kind not in "iu":
        raise UnreadableRecord("curve arrays of the wrong types")
    if arrays["tp"].dtype == np.uint64 and (arrays["tp"].max() > _packing.INT64_MAX):
        raise UnreadableRecord("curve counts too large")
    if arrays["fp"].dtype == np.uint64 and (arrays["fp"].max() > _packing.INT64_MAX):
        raise UnreadableRecord("curve counts too large")
    tp, fp = arrays["tp"].astype(np.int64), arrays["fp"].astype(np.int64)
    if not (np.all(thresholds >= 0) and np.all(thresholds <= 1) and np.all(np.diff(thresholds) < 0)):
        raise UnreadableRecord("curve thresholds are not descending in [0, 1]")
    if tp[0] < 0 or fp[0] < 0 or np.any(np.diff(tp) < 0) or np.any(np.diff(fp) < 0) or tp[0] + fp[0] < 1:
        raise UnreadableRecord("curve counts are not cumulative")
    if tp[-1] != positives or fp[-1] != negatives:
        raise UnreadableRecord("a curve's last point does not count every sample")
    return Curve(thresholds.copy(), tp, fp, positives, negatives)


@dataclass(frozen=True)
class CurvesRecord:
    """A whole step read back (from an event file's tensor): the header and its curves."""

    header: CurvesHeader
    blobs: tuple[bytes, ...]

    def curve(self, which: int | str) -> Curve:
        return read_curve(self.header, which, self.blobs[self.header.blob_index(which)])


def read_step(blobs: Sequence[bytes]) -> CurvesRecord:
    """A step from its blobs (``Summary.Value.tensor.string_val``)."""
    header = decode(blobs)
    if len(blobs) != FIRST_CLASS_BLOB + header.num_classes:
        raise UnreadableRecord(
            f"a curves step has {len(blobs)} blobs, its header says {FIRST_CLASS_BLOB + header.num_classes}"
        )
    if header.binary and blobs[MICRO_BLOB] != b"":
        raise UnreadableRecord("a binary curves step with a micro-averaged curve")
    return CurvesRecord(header, tuple(blobs))
