"""Distributions: statistics of every weight, gradient, update or activation tensor of a model
at one step, packed into one record, and the wire format that stores them.

A step is one ``Summary.Value`` whose tensor is a rank-1 ``DT_STRING`` tensor holding one
serialized ``DistributionsStep`` (see ``modellens._proto``): names, dtypes and column arrays,
so that a layer × step view reads one record per step. Torch tensors are reduced with torch
ops where they live (``torch_stats``, imported only when torch tensors are given); everything
else goes through numpy (``stats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _packing, _proto
from modellens._convert import to_numpy
from modellens.distributions import stats as _stats
from modellens.distributions.stats import BINS, COUNT_FIELDS, PERCENTILES, VALUE_FIELDS, Stats

KIND = "DISTRIBUTIONS"
#: The newest format of this kind that this code writes and reads.
VERSION = 1
DATA_CLASS = summary_pb2.DATA_CLASS_TENSOR
MAX_RANK = 32
#: Per-tensor scalar columns the integrations write; any other identifier is allowed too.
KNOWN_EXTRAS = ("update_ratio", "dead_fraction")

#: Names of the standard per-tensor columns (an extra column may not reuse one).
RESERVED_COLUMNS = frozenset(
    COUNT_FIELDS + VALUE_FIELDS + ("max_abs", "zero_fraction", "nonfinite") + tuple(f"p{q}" for q in PERCENTILES)
)

__all__ = ["BINS", "Distributions", "Stats", "from_input", "encode", "decode", "KIND", "VERSION", "DATA_CLASS"]


@dataclass(frozen=True)
class Distributions:
    """One step: row t of ``stats`` (and of each ``extras`` column) describes ``names[t]``."""

    names: list[str]
    shapes: list[tuple[int, ...]]
    dtypes: list[str]
    stats: Stats
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # column → float64 [T], NaN = none


# ---------------------------------------------------------------------------- input


def _framework_of(value: Any) -> str:
    """``"torch"``, ``"keras"`` or ``""``, from the classes a model derives from (a user's
    ``class Net(nn.Module)`` lives in the user's module, its bases in torch's)."""
    for cls in type(value).__mro__:
        module = cls.__module__ or ""
        if module.startswith("torch.nn"):
            return "torch"
        if module.startswith(("keras", "tf_keras", "tensorflow")):
            return "keras"
    return ""


def _named_tensors(tensors: Any) -> list[tuple[str, Any]]:
    framework = _framework_of(tensors)
    if framework == "torch" and hasattr(tensors, "named_parameters"):
        return [(name.replace("_orig_mod.", ""), p) for name, p in tensors.named_parameters()]
    if framework == "keras" and hasattr(tensors, "weights"):
        seen: set[int] = set()
        named = []
        for variable in tensors.weights:
            if id(variable) not in seen:
                seen.add(id(variable))
                named.append((getattr(variable, "path", None) or variable.name, variable))
        return named
    if isinstance(tensors, Mapping):
        return list(tensors.items())
    raise TypeError(
        f"tensors must be a mapping name → tensor, a torch.nn.Module or a Keras model; got {type(tensors).__name__}"
    )


def _is_torch(value: Any) -> bool:
    return (type(value).__module__ or "").startswith("torch") and hasattr(value, "detach")


def _torch_dtype_name(value: Any) -> str:
    return str(value.dtype).replace("torch.", "")


def _check_tensor(name: str, value: Any) -> tuple[Any, tuple[int, ...], str]:
    """``(value to reduce, shape, dtype name)``; raises for non-numeric tensors."""
    argument = f"tensors[{name!r}]"
    if _is_torch(value):
        dtype = _torch_dtype_name(value)
        if value.is_complex() or dtype == "bool" or not (value.is_floating_point() or "int" in dtype):
            raise TypeError(f"{argument} has dtype {dtype}; distributions need real numbers (float or int)")
        shape = tuple(int(s) for s in value.shape)
        return value.detach(), shape, dtype
    array = to_numpy(value, argument)
    if array.dtype.name == "bfloat16":
        return array, tuple(array.shape), "bfloat16"
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{argument} has dtype {array.dtype}; distributions need real numbers (float or int)")
    return array, tuple(int(s) for s in array.shape), str(array.dtype)


def _check_extras(extras: Any, names: list[str]) -> dict[str, np.ndarray]:
    if extras is None:
        return {}
    if not isinstance(extras, Mapping):
        raise TypeError("extras must be a mapping column → {tensor name: number}, e.g. {'update_ratio': {...}}")
    index = {name: t for t, name in enumerate(names)}
    columns = {}
    for column, values in extras.items():
        if not isinstance(column, str) or not column.isidentifier():
            raise ValueError(f"extras column names must be identifiers such as 'update_ratio', got {column!r}")
        if column in RESERVED_COLUMNS:
            raise ValueError(f"extras column {column!r} is a standard statistic; name yours differently")
        if not isinstance(values, Mapping):
            raise TypeError(f"extras[{column!r}] must be a mapping tensor name → number")
        data = np.full(len(names), np.nan)
        for name, number in values.items():
            if name not in index:
                raise ValueError(f"extras[{column!r}] names {name!r}, which is not one of the tensors")
            if isinstance(number, bool) or not isinstance(number, (int, float, np.integer, np.floating)):
                raise TypeError(f"extras[{column!r}][{name!r}] must be a number, got {number!r}")
            data[index[name]] = float(number)
        columns[column] = data
    return columns


def merge(parts: list[Distributions]) -> Distributions:
    """One step from parts holding different tensors (e.g. one per optimizer), in order."""
    names = [name for part in parts for name in part.names]
    _packing.check_names(names, "the parts' tensor names", what="tensor name")
    columns = sorted({column for part in parts for column in part.extras})
    return Distributions(
        names=names,
        shapes=[shape for part in parts for shape in part.shapes],
        dtypes=[dtype for part in parts for dtype in part.dtypes],
        stats=_stats.concatenate([part.stats for part in parts]),
        extras={
            column: np.concatenate([part.extras.get(column, np.full(len(part.names), np.nan)) for part in parts])
            for column in columns
        },
    )


def from_input(tensors: Any, *, extras: Mapping[str, Mapping[str, float]] | None = None) -> Distributions:
    """Validates ``tensors`` (see ``Writer.distributions``) and computes their statistics; a
    ``Distributions`` (statistics already reduced, e.g. by ``modellens.torch.watch``) is taken
    as it is."""
    if isinstance(tensors, Distributions):
        if extras is not None:
            raise TypeError("extras belong inside the Distributions given as tensors; pass extras=None")
        return tensors
    named = _named_tensors(tensors)
    if not named:
        raise ValueError("tensors is empty; give at least one tensor (name → tensor) or a model with parameters")
    names = _packing.check_names([name for name, _ in named], "tensors' names", what="tensor name")
    checked = [_check_tensor(name, value) for name, value in named]
    for name, (_, shape, _) in zip(names, checked):
        if len(shape) > MAX_RANK:
            raise ValueError(f"tensors[{name!r}] has rank {len(shape)}; at most {MAX_RANK} is supported")
    columns = _check_extras(extras, names)
    torch_rows = [t for t, (value, _, _) in enumerate(checked) if _is_torch(value)]
    numpy_rows = [t for t in range(len(checked)) if t not in set(torch_rows)]
    parts, order = [], []
    if numpy_rows:
        parts.append(_stats.tensor_stats([checked[t][0] for t in numpy_rows]))
        order += numpy_rows
    if torch_rows:
        from modellens.distributions import torch_stats

        parts.append(torch_stats.tensor_stats([checked[t][0] for t in torch_rows]))
        order += torch_rows
    combined = _stats.concatenate(parts)
    result = _stats.select(combined, np.argsort(order))
    return Distributions(
        names=names,
        shapes=[shape for _, shape, _ in checked],
        dtypes=[dtype for _, _, dtype in checked],
        stats=result,
        extras=columns,
    )


# ---------------------------------------------------------------------------- wire format

_LE_I8 = np.dtype("<i8")
_LE_F8 = np.dtype("<f8")


def encode(tag: str, data: Distributions) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` that stores one step."""
    count = len(data.names)
    histogram_type, histograms = _packing.narrowest_counts(data.stats.histograms)
    extra_names = sorted(data.extras)
    parts = [
        np.array([len(s) for s in data.shapes], dtype=np.uint8).tobytes(),
        np.array([d for s in data.shapes for d in s], dtype=_LE_I8).tobytes(),
        data.stats.counts.astype(_LE_I8).tobytes(),
        data.stats.values.astype(_LE_F8).tobytes(),
        data.stats.percentiles.astype(_LE_F8).tobytes(),
        histograms,
        np.array([data.extras[n] for n in extra_names], dtype=_LE_F8).reshape(len(extra_names), count).tobytes(),
    ]
    compression, arrays = _packing.compress(b"".join(parts))
    step = _proto.DistributionsStep(
        names=data.names,
        dtypes=data.dtypes,
        bins=data.stats.histograms.shape[1],
        histogram_type=histogram_type,
        extra_names=extra_names,
        arrays=arrays,
        compression=compression,
    )
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_metadata.summary_metadata(KIND, VERSION, DATA_CLASS),
        tensor=_packing.string_tensor(step.SerializeToString()),
    )


class _Cursor:
    """Reads consecutive little-endian arrays out of ``raw``, checking every size first."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._offset = 0

    def take(self, dtype: np.dtype, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if self._offset + size > len(self._raw):
            raise _metadata.UnreadableRecord("distributions arrays are shorter than their header says")
        array = np.frombuffer(self._raw, dtype=dtype, count=count, offset=self._offset)
        self._offset += size
        return array

    def done(self) -> None:
        if self._offset != len(self._raw):
            raise _metadata.UnreadableRecord("distributions arrays are longer than their header says")


def decode(tensor_value: Any) -> Distributions:
    """Reads one step back from the value a data provider returns (a 1-element bytes array).

    Raises ``UnreadableRecord`` for anything that is not a well-formed step.
    """
    step = _packing.parse_step(_proto.DistributionsStep, tensor_value, "distributions")
    count, bins, extra_count = len(step.names), step.bins, len(step.extra_names)
    if count == 0 or len(step.dtypes) != count:
        raise _metadata.UnreadableRecord("distributions step has no tensors, or dtypes do not match names")
    if len(set(step.names)) != count or len(set(step.extra_names)) != extra_count:
        raise _metadata.UnreadableRecord("distributions step names a tensor or an extra column twice")
    if not 1 <= bins <= 4096:
        raise _metadata.UnreadableRecord(f"distributions step has {bins} bins")
    histogram_dtype = _packing.count_dtype(step.histogram_type)
    per_tensor = 1 + 8 * MAX_RANK + 8 * (len(COUNT_FIELDS) + len(VALUE_FIELDS) + len(PERCENTILES) + extra_count)
    limit = count * (per_tensor + bins * histogram_dtype.itemsize)
    cursor = _Cursor(_packing.decompress(step.compression, step.arrays, limit))
    ranks = cursor.take(np.uint8, count)
    if ranks.size and ranks.max() > MAX_RANK:
        raise _metadata.UnreadableRecord("distributions step has a tensor of too high a rank")
    dims = cursor.take(_LE_I8, int(ranks.sum()))
    counts = cursor.take(_LE_I8, count * len(COUNT_FIELDS)).reshape(count, -1)
    values = cursor.take(_LE_F8, count * len(VALUE_FIELDS)).reshape(count, -1)
    percentiles = cursor.take(_LE_F8, count * len(PERCENTILES)).reshape(count, -1)
    histograms = cursor.take(histogram_dtype, count * bins).reshape(count, bins)
    extras = cursor.take(_LE_F8, extra_count * count).reshape(extra_count, count)
    cursor.done()
    if (dims < 0).any() or (counts < 0).any() or (histograms.size and histograms.max() > _packing.INT64_MAX):
        raise _metadata.UnreadableRecord("distributions step has negative sizes or counts")
    bounds = [0] + np.cumsum(ranks.astype(np.int64)).tolist()
    dim_list = dims.tolist()
    shapes = [tuple(dim_list[bounds[t] : bounds[t + 1]]) for t in range(count)]
    return Distributions(
        names=list(step.names),
        shapes=shapes,
        dtypes=list(step.dtypes),
        stats=Stats(counts.astype(np.int64), values.copy(), percentiles.copy(), histograms.astype(np.int64)),
        extras={name: extras[e].copy() for e, name in enumerate(step.extra_names)},
    )
