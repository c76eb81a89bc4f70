"""Confusion matrices: validation, wire format (encode and decode) and metrics.

A step is one ``Summary.Value`` whose tensor is a rank-1 ``DT_STRING`` tensor holding one
serialized ``ConfusionMatrixStep`` (see ``modellens._proto``). Class names travel in every
step, so they may change between steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _packing, _proto
from modellens._convert import to_numpy

KIND = "CONFUSION_MATRIX"
#: The newest format of this kind that this code writes and reads.
VERSION = 1
DATA_CLASS = summary_pb2.DATA_CLASS_TENSOR


@dataclass(frozen=True)
class ConfusionMatrix:
    """One step: ``counts[i, j]`` is how many samples of true class i were predicted as j."""

    counts: np.ndarray
    class_names: list[str]


# ---------------------------------------------------------------------------- validation


#: Without ``labels`` or ``class_names``, integer labels imply ``max + 1`` classes; a stray huge
#: label must not make the writer allocate a gigantic matrix inside a training job.
MAX_INFERRED_CLASSES = 4_096
#: The most classes a matrix may have at all (10,000² int64 counts are 800 MB while counting).
MAX_CLASSES = 10_000
_INT64_MAX = _packing.INT64_MAX
#: What the reader accepts: everything earlier writers could produce (they allowed 100,000).
_MAX_READABLE_CLASSES = 100_000


def _check_class_names(class_names: Any, num_classes: int | None) -> list[str] | None:
    if class_names is None:
        return None
    names = _packing.check_names(class_names, "class_names")
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(
            f"class_names has {len(names)} entries but there are {num_classes} classes; give exactly one name per class"
        )
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
        raise ValueError(f"{argument} must be 1-D labels or 2-D [samples, classes] scores; got shape {values.shape}")
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
        return _Labels(_decode_labels(values.tolist(), argument))
    if values.dtype.kind == "O":
        if all(isinstance(v, bytes) for v in values):
            return _Labels(_decode_labels(list(values), argument))
        if all(isinstance(v, str) for v in values):
            return _Labels(values.astype(str))
    return _Labels(values)


def _decode_labels(values: list[bytes], argument: str) -> np.ndarray:
    try:
        return np.array([v.decode("utf-8") for v in values])
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{argument} holds bytes labels that are not UTF-8 text ({error.reason}); decode them first"
        ) from None


def _check_class_count(num_classes: int, source: str) -> None:
    if num_classes > MAX_CLASSES:
        raise ValueError(
            f"{source} gives {num_classes} classes; a confusion matrix holds at most {MAX_CLASSES} "
            "(group rare classes, or log a matrix per subset)"
        )


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
            f"{argument} contains the label {bad.item()!r}, which is not in labels; add it to labels (or class_names)"
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
        _check_class_count(label_array.size, "labels")
    if names is not None:
        _check_class_count(len(names), "class_names")
    any_text = any(_is_text(side.values) for side in sides.values())
    for argument, side in sides.items():
        if side.score_columns is None:
            continue
        if label_array is not None:
            side.values = _name_score_columns(side, argument, label_array, "labels")
        elif any_text:
            if names is None:
                raise ValueError(
                    f"{argument} holds scores and the other side strings; give class_names in column order"
                )
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
        _check_class_count(label_array.size, "the string labels")
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
                    f"a label is {largest} but class_names has only {num_classes} entries; give one name per class"
                )
        elif largest >= MAX_INFERRED_CLASSES:
            raise ValueError(
                f"a label is {largest}, which would make a {largest + 1}-class matrix; without labels=[...] "
                f"or class_names=[...] at most {MAX_INFERRED_CLASSES} classes are inferred (the largest "
                "label + 1): pass labels or class_names listing the classes"
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
    _check_class_count(num_classes, "matrix")
    names = _check_class_names(class_names, num_classes) or [str(i) for i in range(num_classes)]
    return ConfusionMatrix(counts=counts.astype(np.int64), class_names=names)


# ---------------------------------------------------------------------------- wire format


def encode(tag: str, data: ConfusionMatrix) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` that stores one step."""
    count_type, raw = _packing.narrowest_counts(data.counts)
    compression, raw = _packing.compress(raw)
    step = _proto.ConfusionMatrixStep(
        num_classes=data.counts.shape[0],
        class_names=data.class_names,
        counts=raw,
        count_type=count_type,
        compression=compression,
    )
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_metadata.summary_metadata(KIND, VERSION, DATA_CLASS),
        tensor=_packing.string_tensor(step.SerializeToString()),
    )


def decode(tensor_value: Any) -> ConfusionMatrix:
    """Reads one step back from the value a data provider returns (a 1-element bytes array).

    Raises ``UnreadableRecord`` for anything that is not a well-formed step.
    """
    step = _packing.parse_step(_proto.ConfusionMatrixStep, tensor_value, "confusion-matrix")
    num_classes = step.num_classes
    if num_classes <= 0 or num_classes > _MAX_READABLE_CLASSES:
        raise _metadata.UnreadableRecord(f"num_classes {num_classes} is out of range")
    dtype = _packing.count_dtype(step.count_type)
    expected = num_classes * num_classes * dtype.itemsize
    raw = _packing.decompress(step.compression, step.counts, expected)
    if len(raw) != expected:
        raise _metadata.UnreadableRecord("counts do not match num_classes")
    names = list(step.class_names) or [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise _metadata.UnreadableRecord("class_names do not match num_classes")
    counts = np.frombuffer(raw, dtype=dtype).reshape(num_classes, num_classes)
    if counts.size and counts.max() > _INT64_MAX:
        raise _metadata.UnreadableRecord("counts too large for int64")
    return ConfusionMatrix(counts=counts.astype(np.int64), class_names=names)


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
