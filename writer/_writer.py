"""``modellens.Writer``: one object per run directory, one call per summary kind."""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2

from modellens import attention as _attention
from modellens import confusion_matrix as _confusion
from modellens import distributions as _distributions
from modellens import graph as _graph
from modellens._convert import check_step, check_tag, check_wall_time, to_numpy
from modellens._sinks import ForeignWriter, OwnFile, is_foreign_writer


class Writer:
    """Writes ModelLens summaries (and standard scalars/histograms) for one run.

    ``target`` is a run directory, or an existing ``torch.utils.tensorboard.SummaryWriter``
    or tensorboardX ``SummaryWriter`` to write through. Use as a context manager, or call
    ``close()``. A step is on disk once ``flush()`` returns; the writer also flushes every
    ``flush_secs`` seconds and at interpreter exit.
    """

    def __init__(self, target: Any, *, flush_secs: float = 2.0, filename_suffix: str = "") -> None:
        if not (isinstance(flush_secs, (int, float)) and flush_secs > 0):
            raise ValueError(f"flush_secs must be a positive number of seconds, got {flush_secs!r}")
        if is_foreign_writer(target):
            self._sink: OwnFile | ForeignWriter = ForeignWriter(target, flush_secs)
        elif isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
            self._sink = OwnFile(os.fsdecode(target), flush_secs, filename_suffix)
        else:
            raise TypeError(
                "Writer needs a log directory (str or path) or a torch/tensorboardX SummaryWriter, "
                f"got {type(target).__name__}"
            )
        self._closed = False

    @property
    def path(self) -> str:
        """The event file written (or the wrapped writer's log directory)."""
        return self._sink.path

    def _write(self, value: summary_pb2.Summary.Value, step: int, wall_time: float | None) -> None:
        if self._closed:
            raise ValueError("this Writer is closed; make a new one to write more")
        summary = summary_pb2.Summary(value=[value])
        self._sink.add_summary(summary, step, time.time() if wall_time is None else wall_time)

    # ------------------------------------------------------------------ standard kinds

    def scalar(self, tag: str, value: Any, *, step: int, wall_time: float | None = None) -> None:
        """A scalar in TensorBoard's own format (shown in the Scalars tab)."""
        from tensorboard.plugins.scalar import metadata as scalar_metadata

        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        array = to_numpy(value, "value")
        if array.size != 1 or array.dtype.kind not in "biuf":
            raise TypeError(f"value must be one real number, got {array.dtype} of shape {array.shape}")
        tensor = _float_tensor(np.asarray(float(array.reshape(())), dtype=np.float32))
        self._write(
            summary_pb2.Summary.Value(tag=tag, metadata=scalar_metadata.create_summary_metadata("", ""), tensor=tensor),
            step,
            wall_time,
        )

    def histogram(self, tag: str, values: Any, *, step: int, bins: int = 30, wall_time: float | None = None) -> None:
        """A histogram in TensorBoard's own format (Histograms and Distributions tabs).

        Non-finite values cannot be placed in buckets and are left out; use the ModelLens
        distributions to see them counted.
        """
        from tensorboard.plugins.histogram import metadata as histogram_metadata

        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ValueError(f"bins must be a positive int, got {bins!r}")
        array = to_numpy(values, "values")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"values must be numeric, got dtype {array.dtype}")
        data = array.astype(np.float64).reshape(-1)
        data = data[np.isfinite(data)]
        if data.size == 0:
            buckets = np.zeros((bins, 3))
        elif data.min() == data.max():
            buckets = np.zeros((bins, 3))
            buckets[:, 0:2] = data.min()
            buckets[-1, 2] = data.size
        else:
            counts, edges = np.histogram(data, bins=bins)
            buckets = np.stack([edges[:-1], edges[1:], counts], axis=1)
        self._write(
            summary_pb2.Summary.Value(
                tag=tag,
                metadata=histogram_metadata.create_summary_metadata("", ""),
                tensor=_float_tensor(buckets.astype(np.float64)),
            ),
            step,
            wall_time,
        )

    # ------------------------------------------------------------------ ModelLens kinds

    def confusion_matrix(
        self,
        tag: str,
        y_true: Any = None,
        y_pred: Any = None,
        *,
        step: int,
        matrix: Any = None,
        class_names: Sequence[str] | None = None,
        labels: Any = None,
        wall_time: float | None = None,
    ) -> None:
        """One step of a confusion matrix, from labels or from a precomputed ``matrix``.

        ``y_true``/``y_pred`` are integer or string labels (numpy, lists, torch or TF
        tensors); 2-D ``[samples, classes]`` scores or one-hot rows are reduced by argmax.
        ``labels`` fixes which values map to rows/columns, in order; ``class_names`` names
        them. ``matrix[i, j]`` counts samples of true class i predicted as class j.
        Raises ``ValueError``/``TypeError`` for bad input, writing nothing.
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        if matrix is not None:
            if y_true is not None or y_pred is not None or labels is not None:
                raise ValueError("pass either y_true and y_pred, or matrix=..., not both")
            data = _confusion.counts_from_matrix(matrix, class_names=class_names)
        else:
            if y_true is None or y_pred is None:
                raise ValueError("confusion_matrix needs y_true and y_pred, or matrix=...")
            data = _confusion.counts_from_labels(y_true, y_pred, labels=labels, class_names=class_names)
        self._write(_confusion.encode(tag, data), step, wall_time)

    def distributions(
        self,
        tag: str,
        tensors: Any,
        *,
        step: int,
        wall_time: float | None = None,
        extras: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        """Statistics of many tensors at one step, packed into one record (Training health view).

        ``tensors`` is a mapping name → tensor (numpy, torch on any device, TensorFlow tensors and
        Keras variables; float16/bfloat16/float32/float64/integer), or a ``torch.nn.Module`` or
        Keras model (its named parameters, tied weights once). Per tensor: shape, dtype, element
        count, exact min/max of the finite values, mean, std, L2 norm, exact counts of zeros,
        NaN, +Inf and -Inf, a 64-bin histogram spanning [min, max] and percentiles 1-99. NaN and
        Inf are counted, never an error. ``extras`` adds per-tensor scalar columns, e.g.
        ``{"update_ratio": {"fc1.weight": 1e-3}}``. ``tensors`` may also be a
        ``modellens.distributions.Distributions`` (statistics already reduced). Bad input raises
        ``ValueError``/``TypeError`` naming the argument; nothing is written.
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        data = _distributions.from_input(tensors, extras=extras)
        self._write(_distributions.encode(tag, data), step, wall_time)

    def graph(
        self, model: Any, inputs: Any = None, *, tag: str = "model", step: int = 0, wall_time: float | None = None
    ) -> None:
        """The structure of ``model`` (Structure view): a ``torch.nn.Module`` or a Keras 3 model.

        torch: ``inputs`` is a tensor, a tuple of positional arguments or a dict of keyword
        arguments (Hugging Face: ``{"input_ids": ids}``); the model runs once on them under
        ``no_grad`` and every module call, the torch ops between them and the dataflow are
        recorded. Without ``inputs`` the module tree with its parameters is written, with no
        edges. Keras: Functional and Sequential models need no inputs (given, one eager call on
        them fills in concrete shapes); a subclassed model is called once on ``inputs`` (or,
        when built, gives its layer tree). The capture leaves the
        model as it was (RNG, buffers, train/eval mode, hooks) and stores no weights; if the
        forward raises, the error propagates and nothing is written. Log a changed model again
        at a later ``step``. ``model`` may also be a ``modellens.graph.Graph`` captured earlier
        (``modellens.graph.from_input``).
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        data = _graph.from_input(model, inputs)
        self._write(_graph.encode(tag, data), step, wall_time)

    def attention(
        self,
        tag: str,
        weights: Any,
        *,
        tokens: Sequence[str],
        step: int,
        query_tokens: Sequence[str] | None = None,
        layer_names: Sequence[str] | None = None,
        batch_index: int | None = None,
        wall_time: float | None = None,
    ) -> None:
        """Attention maps of every layer and head at one step (Attention view).

        ``weights``: ``[layers, heads, queries, keys]``, ``[heads, queries, keys]``,
        ``[queries, keys]``, a sequence of per-layer ``[heads, q, k]`` or ``[batch, heads, q, k]``
        tensors (what Hugging Face returns; ``batch_index`` picks the sample, needed when the
        batch has more than one), or a ``modellens.attention.Collector`` filled layer by layer;
        numpy, torch (any device, any float dtype) or TensorFlow. ``tokens`` label the keys,
        ``query_tokens`` the queries when they differ (cross-attention). ``layer_names`` default
        to the Collector's names, else ``layer 0 .. L-1``.

        Stored per row as uint8 scaled by the row's max (error at most row max / 510, recorded);
        maps over 512 tokens block-reduced to 512 per side plus each query row's exact top 8
        keys; the rollout (Abnar & Zuidema 2020) of self-attention computed in float32 as one
        more map; head scores (entropy, attention to the previous, first, same and separator
        tokens) from the full weights. At most 8,192 tokens per side. Raises ``ValueError`` or
        ``TypeError`` naming the argument (wrong rank, NaN or negative weights, token counts that
        do not match the maps, tokens that are not str) before anything is written.
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        data = _attention.from_input(
            weights, tokens=tokens, query_tokens=query_tokens, layer_names=layer_names, batch_index=batch_index
        )
        self._write(_attention.encode(tag, data), step, wall_time)

    # ------------------------------------------------------------------ lifecycle

    def flush(self) -> None:
        """Returns once everything written so far is in the event file."""
        self._sink.flush()

    def close(self) -> None:
        """Flushes and closes the event file (a wrapped writer is flushed, not closed)."""
        if not self._closed:
            self._closed = True
            self._sink.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _float_tensor(array: np.ndarray) -> tensor_pb2.TensorProto:
    dtype = {np.dtype(np.float32): types_pb2.DT_FLOAT, np.dtype(np.float64): types_pb2.DT_DOUBLE}[array.dtype]
    tensor = tensor_pb2.TensorProto(dtype=dtype, tensor_content=array.astype(array.dtype.newbyteorder("<")).tobytes())
    for size in array.shape:
        tensor.tensor_shape.dim.add(size=size)
    return tensor
