"""Confusion matrices: validation, wire format (encode and decode) and metrics.

A step is one ``Summary.Value`` whose tensor is a rank-1 ``DT_STRING`` tensor holding one
serialized ``ConfusionMatrixStep`` (see ``modellens._proto``). Class names travel in every
step, so they may change between steps.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2

from modellens import _metadata, _proto
from modellens._convert import to_numpy

KIND = "CONFUSION_MATRIX"
_COUNT_TYPES = (
    ("UINT8", np.dtype("<u1")),
    ("UINT16", np.dtype("<u2")),
    ("UINT32", np.dtype("<u4")),
    ("UINT64", np.dtype("<u8")),
)
_COMPRESS_FROM_BYTES = 4096


@dataclass(frozen=True)
class ConfusionMatrix:
    """One step: ``counts[i, j]`` is how many samples of true class i were predicted as j."""

    counts: np.ndarray
    class_names: list[str]


# ---------------------------------------------------------------------------- validation


#: Without ``labels`` or ``class_names``, integer labels imply ``max + 1`` classes; a stray huge
#: label must not make the writer allocate a gigantic matrix inside a training job.
MAX_INFERRED_CLASSES = 100_000
_INT64_MAX = np.iinfo(np.int64).max


def _check_class_names(class_names: Any, num_classes: int | None) -> list[str] | None:
    if class_names is None:
        return None
    if isinstance(class_names, (str, bytes)):
        raise TypeError("class_names must be a sequence of str, one per class, not a single str")
    names = class_names.tolist() if isinstance(class_names, np.ndarray) else list(class_names)
    if not names:
        raise ValueError("class_names is empty; give one name per class")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"class_names must all be str; got {name!r} ({type(name).__name__})")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"class_names has {name!r}, which is not valid Unicode text") from None
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(
            f"class_names has {len(names)} entries but there are {num_classes} classes; "
            "give exactly one name per class"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"class_names has the duplicate name {name!r}; class names must be unique")
        seen.add(name)
    return names


@dataclass
class _Labels:
    """One side's 1-D labels; ``score_columns`` is set when they are argmax positions of scores."""

    values: np.ndarray
    score_columns: int | None = None


def _check_not_mixed(value: Any, argument: str) -> None:
    if isinstance(value, (list, tuple)) and value:
        kinds = {isinstance(v, (str, bytes)) for v in value if not isinstance(v, (list, tuple))}
        if len(kinds) > 1:
            raise TypeError(f"{argument} mixes strings and numbers; use one kind of label")


def _labels_of(raw: Any, argument: str) -> _Labels:
    """1-D labels from labels, a column of labels, one-hot rows or per-class scores (argmax)."""
    _check_not_mixed(raw, argument)
    values = to_numpy(raw, argument)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]  # a column of labels, as Keras keeps them
    if values.ndim == 2:
        if values.shape[1] == 0:
            raise ValueError(f"{argument} has shape {values.shape}; rows of scores need at least one class")
        if values.dtype.kind not in "biuf":
            raise TypeError(f"{argument} scores must be numbers, got dtype {values.dtype}")
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise ValueError(f"{argument} contains NaN or Inf scores; fix the model's output before logging")
        return _Labels(np.argmax(values, axis=1), score_columns=values.shape[1])
    if values.ndim != 1:
        raise ValueError(
            f"{argument} must be 1-D labels or 2-D [samples, classes] scores; got shape {values.shape}"
        )
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{argument} contains NaN or Inf; labels must be finite")
        if not np.all(values == np.round(values)):
            raise ValueError(
                f"{argument} holds non-integer floats; pass integer labels, 2-D [samples, classes] "
                "scores to argmax, or threshold a single score column yourself (e.g. y_pred > 0.5)"
            )
        return _Labels(values.astype(np.int64))
    if values.dtype.kind == "b":
        return _Labels(values.astype(np.int64))
    if values.dtype.kind == "S":  # bytes labels, e.g. from TensorFlow string tensors
        return _Labels(np.char.decode(values, "utf-8"))
    if values.dtype.kind == "O":
        if all(isinstance(v, bytes) for v in values):
            return _Labels(np.array([v.decode("utf-8") for v in values]))
        if all(isinstance(v, str) for v in values):
            return _Labels(values.astype(str))
    return _Labels(values)


def _is_text(values: np.ndarray) -> bool:
    return values.dtype.kind in "US"


def _index_into(values: np.ndarray, labels: np.ndarray, argument: str) -> np.ndarray:
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    positions = np.searchsorted(ordered, values)
    clipped = np.minimum(positions, len(ordered) - 1)
    missing = ordered[clipped] != values
    if np.any(missing):
        bad = values[np.argmax(missing)]
        raise ValueError(
            f"{argument} contains the label {bad.item()!r}, which is not in labels; "
            "add it to labels (or class_names)"
        )
    return order[clipped]


def _name_score_columns(side: _Labels, argument: str, vocabulary: np.ndarray, source: str) -> np.ndarray:
    """Argmax positions → the label (or class name) each score column stands for."""
    if side.score_columns != vocabulary.size:
        raise ValueError(
            f"{argument} has {side.score_columns} score columns but {source} has {vocabulary.size} "
            "entries; give one entry per column, in column order"
        )
    return vocabulary[side.values]


def counts_from_labels(
    y_true: Any, y_pred: Any, *, labels: Any = None, class_names: Sequence[str] | None = None
) -> ConfusionMatrix:
    """Counts a confusion matrix from true and predicted labels (or scores to argmax)."""
    sides = {"y_true": _labels_of(y_true, "y_true"), "y_pred": _labels_of(y_pred, "y_pred")}
    if sides["y_true"].values.shape[0] != sides["y_pred"].values.shape[0]:
        raise ValueError(
            f"y_true has {sides['y_true'].values.shape[0]} samples but y_pred has "
            f"{sides['y_pred'].values.shape[0]}; they must describe the same samples"
        )
    names = _check_class_names(class_names, None)
    label_array = None
    if labels is not None:
        label_array = to_numpy(labels, "labels")
        if label_array.ndim != 1 or label_array.size == 0:
            raise ValueError(f"labels must be a non-empty 1-D sequence, got shape {label_array.shape}")
        if np.unique(label_array).size != label_array.size:
            raise ValueError("labels has duplicates; each label must appear once")
    any_text = any(_is_text(side.values) for side in sides.values())
    for argument, side in sides.items():
        if side.score_columns is None:
            continue
        if label_array is not None:
            side.values = _name_score_columns(side, argument, label_array, "labels")
        elif any_text:
            if names is None:
                raise ValueError(f"{argument} holds scores and the other side strings; give class_names in column order")
            side.values = _name_score_columns(side, argument, np.array(names), "class_names")
    truth, predicted = sides["y_true"].values, sides["y_pred"].values
    if label_array is not None:
        for values, argument in ((truth, "y_true"), (predicted, "y_pred")):
            if values.size and _is_text(values) != _is_text(label_array):
                raise TypeError(f"{argument} and labels must both be strings or both be integers")
        true_index = _index_into(truth, label_array, "y_true")
        pred_index = _index_into(predicted, label_array, "y_pred")
        num_classes = label_array.size
        names = _check_class_names(names, num_classes) or [str(v) for v in label_array.tolist()]
    elif _is_text(truth) or _is_text(predicted):
        if not (_is_text(truth) or truth.size == 0) or not (_is_text(predicted) or predicted.size == 0):
            raise TypeError("y_true and y_pred must both be strings or both be integers")
        label_array = np.array(names) if names is not None else np.union1d(truth, predicted)
        true_index = _index_into(truth, label_array, "y_true")
        pred_index = _index_into(predicted, label_array, "y_pred")
        num_classes = label_array.size
        names = [str(v) for v in label_array.tolist()]
    else:
        for values, argument in ((truth, "y_true"), (predicted, "y_pred")):
            if values.dtype.kind not in "iu":
                raise TypeError(f"{argument} must hold integer or string labels, got dtype {values.dtype}")
            if values.size and values.min() < 0:
                raise ValueError(
                    f"{argument} contains the negative label {values.min()}; labels index classes "
                    "from 0 (or pass labels=[...] to name the values used)"
                )
        largest = max([int(v.max()) for v in (truth, predicted) if v.size] or [-1])
        if names is not None:
            num_classes = len(names)
            if largest >= num_classes:
                raise ValueError(
                    f"a label is {largest} but class_names has only {num_classes} entries; "
                    "give one name per class"
                )
        elif largest >= MAX_INFERRED_CLASSES:
            raise ValueError(
                f"a label is {largest}, which would make a {largest + 1}-class matrix; pass labels=[...] "
                "or class_names=[...] listing the classes"
            )
        else:
            num_classes = max(largest + 1, 1)
            names = [str(i) for i in range(num_classes)]
        true_index, pred_index = truth.astype(np.int64), predicted.astype(np.int64)
    flat = true_index.astype(np.int64) * num_classes + pred_index.astype(np.int64)
    counts = np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    return ConfusionMatrix(counts=counts.astype(np.int64), class_names=names)


def counts_from_matrix(matrix: Any, *, class_names: Sequence[str] | None = None) -> ConfusionMatrix:
    """Validates a precomputed ``[true, predicted]`` count matrix."""
    counts = to_numpy(matrix, "matrix")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"matrix must be square [classes, classes], got shape {counts.shape}")
    if counts.dtype.kind == "f":
        if not np.all(np.isfinite(counts)):
            raise ValueError("matrix contains NaN or Inf; counts must be finite")
        if not np.all(counts == np.round(counts)):
            raise ValueError("matrix holds non-integer values; counts must be whole numbers")
    elif counts.dtype.kind not in "iub":
        raise TypeError(f"matrix must hold numbers, got dtype {counts.dtype}")
    if counts.size and counts.min() < 0:
        raise ValueError(f"matrix contains the negative count {counts.min()}; counts must be >= 0")
    if counts.dtype.kind == "u" and counts.size and counts.max() > _INT64_MAX:
        raise ValueError("matrix has counts too large for int64")
    if counts.dtype.kind == "f" and counts.size and counts.max() >= 2**63:
        raise ValueError("matrix has counts too large for int64")
    num_classes = counts.shape[0]
    names = _check_class_names(class_names, num_classes) or [str(i) for i in range(num_classes)]
    return ConfusionMatrix(counts=counts.astype(np.int64), class_names=names)


# ---------------------------------------------------------------------------- wire format


def encode(tag: str, data: ConfusionMatrix) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` that stores one step."""
    counts = np.ascontiguousarray(data.counts)
    largest = int(counts.max()) if counts.size else 0
    count_type, dtype = next((name, t) for name, t in _COUNT_TYPES if largest <= np.iinfo(t).max)
    raw = counts.astype(dtype).tobytes()
    compression = "NONE"
    if len(raw) >= _COMPRESS_FROM_BYTES:
        packed = zlib.compress(raw, 1)
        if len(packed) < 0.9 * len(raw):
            raw, compression = packed, "ZLIB"
    step = _proto.ConfusionMatrixStep(
        num_classes=counts.shape[0],
        class_names=data.class_names,
        counts=raw,
        count_type=_proto.COUNT_TYPE.values_by_name[count_type].number,
        compression=_proto.COMPRESSION.values_by_name[compression].number,
    )
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[step.SerializeToString()])
    tensor.tensor_shape.dim.add(size=1)
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_metadata.summary_metadata(KIND, summary_pb2.DATA_CLASS_TENSOR),
        tensor=tensor,
    )


def decode(tensor_value: Any) -> ConfusionMatrix:
    """Reads one step back from the value a data provider returns (a 1-element bytes array).

    Raises ``UnreadableRecord`` for anything that is not a well-formed step.
    """
    array = np.asarray(tensor_value, dtype=object).reshape(-1)
    if array.size != 1 or not isinstance(array[0], bytes):
        raise _metadata.UnreadableRecord("a confusion-matrix step is one serialized message")
    try:
        step = _proto.ConfusionMatrixStep.FromString(array[0])
    except Exception as error:
        raise _metadata.UnreadableRecord(f"malformed confusion-matrix step: {error}") from None
    num_classes = step.num_classes
    try:
        count_type = _proto.COUNT_TYPE.values_by_number[step.count_type].name
        dtype = dict(_COUNT_TYPES)[count_type]
        compression = _proto.COMPRESSION.values_by_number[step.compression].name
    except KeyError:
        raise _metadata.UnreadableRecord("unknown count type or compression") from None
    raw = step.counts
    if compression == "ZLIB":
        try:
            raw = zlib.decompress(raw)
        except zlib.error as error:
            raise _metadata.UnreadableRecord(f"corrupt compressed counts: {error}") from None
    if num_classes <= 0 or len(raw) != num_classes * num_classes * dtype.itemsize:
        raise _metadata.UnreadableRecord("counts do not match num_classes")
    names = list(step.class_names) or [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise _metadata.UnreadableRecord("class_names do not match num_classes")
    counts = np.frombuffer(raw, dtype=dtype).reshape(num_classes, num_classes)
    if counts.size and counts.max() > _INT64_MAX:
        raise _metadata.UnreadableRecord("counts too large for int64")
    counts = counts.astype(np.int64)
    return ConfusionMatrix(counts=counts, class_names=names)


# ---------------------------------------------------------------------------- metrics


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> list[float | None]:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = numerator / denominator
    return [float(v) if d > 0 else None for v, d in zip(values, denominator)]


def overall_scores(counts: np.ndarray) -> dict[str, Any]:
    """Sample count, accuracy and macro-F1 of one step (``None`` where undefined).

    Macro-F1 averages the classes that occur as a true or predicted label, as
    scikit-learn does by default.
    """
    true_positives = np.diag(counts).astype(np.float64)
    occurrences = (counts.sum(axis=1) + counts.sum(axis=0)).astype(np.float64)
    total = int(counts.sum())
    present = occurrences > 0
    return {
        "total": total,
        "accuracy": float(true_positives.sum() / total) if total else None,
        "macro_f1": float(np.mean(2 * true_positives[present] / occurrences[present])) if present.any() else None,
    }


def metrics(counts: np.ndarray) -> dict[str, Any]:
    """``overall_scores`` plus per-class precision, recall, F1 and support.

    A ratio with a zero denominator is ``None`` (undefined), not 0.
    """
    true_positives = np.diag(counts).astype(np.float64)
    support = counts.sum(axis=1)
    predicted = counts.sum(axis=0)
    return {
        **overall_scores(counts),
        "precision": _ratio(true_positives, predicted.astype(np.float64)),
        "recall": _ratio(true_positives, support.astype(np.float64)),
        "f1": _ratio(2 * true_positives, (support + predicted).astype(np.float64)),
        "support": [int(v) for v in support],
        "predicted": [int(v) for v in predicted],
    }
