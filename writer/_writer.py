"""``modellens.Writer``: one object per run directory, one call per summary kind."""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2

from modellens import attention as _attention
from modellens import confusion_matrix as _confusion
from modellens import curves as _curves
from modellens import distributions as _distributions
from modellens import embeddings as _embeddings
from modellens import graph as _graph
from modellens import heatmap as _heatmap
from modellens import predictions as _predictions
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

    def tensor_heatmap(
        self,
        tag: str,
        tensor: Any,
        *,
        step: int,
        layout: str = "auto",
        channels_last: bool = False,
        batch_index: int = 0,
        wall_time: float | None = None,
    ) -> None:
        """One tensor as a 2-D heatmap at one step (Tensor heatmap view).

        ``tensor``: any 1-D to 4-D real tensor (numpy, torch on any device and of any dtype,
        float16/bfloat16 included, TensorFlow tensors, Keras variables, nested lists; bool and
        integers too). ``layout``: ``"row"`` (1-D → 1 × n), ``"matrix"`` (2-D as is, 3-D
        ``[a, b·c]``, 4-D ``[d0, d1·d2·d3]``), ``"kernels"`` (4-D conv weight ``[out, in, kh, kw]``
        as an ``out × in`` grid of ``kh × kw`` tiles), ``"channels"`` (activation ``[N, C, H, W]``
        or ``[C, H, W]``: the ``C`` maps of sample ``batch_index`` in a grid of ``ceil(sqrt(C))``
        columns), or ``"auto"`` (1-D row, 2-D/3-D matrix, 4-D kernels when both spatial dims are
        at most 11, else channels). ``channels_last=True``: Keras/TF order (``[kh, kw, in, out]``,
        ``[N, H, W, C]``).

        An image of at most 1024 × 1024 cells is stored exactly (float32, float64 for float64 and
        32/64-bit integer tensors; NaN/±Inf kept); a larger one is block-reduced to at most 1024
        per side (``ceil(side / 1024)`` per block): per block the mean, min and max of its finite
        values and its NaN, +Inf, −Inf counts. Always stored: the exact finite min/max, mean, std,
        element count and the counts of NaN, +Inf, −Inf and zeros. Raises ``ValueError`` or
        ``TypeError`` naming the argument (rank 0 or above 4, empty, not real numbers, a layout
        that does not fit the rank, ``batch_index`` out of range) before anything is written.
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        data = _heatmap.from_input(tensor, layout=layout, channels_last=channels_last, batch_index=batch_index)
        self._write(_heatmap.encode(tag, data), step, wall_time)

    def predictions(
        self,
        tag: str,
        y_true: Any,
        y_pred: Any,
        *,
        step: int,
        ids: Any = None,
        class_names: Sequence[str] | None = None,
        logits: bool = False,
        wall_time: float | None = None,
    ) -> None:
        """Model predictions against the truth at one step (Predictions view).

        Regression: ``y_true`` and ``y_pred`` are ``[n]`` (or ``[n, 1]``) finite real numbers,
        n >= 2. Stored: MAE, RMSE, R² (NaN when ``y_true`` is constant), mean error
        (``pred - true``), max |error|, a 60-bin residual histogram, the error by decile of
        ``y_true``, a 128 × 128 density of (true, pred) over their shared range and, up to
        50,000 samples, every point (float32 when given float32, else float64) with its id;
        beyond that the density only (computed in chunks: fine at 10 M samples).
        Classification: ``y_pred`` is ``[n, C]`` probabilities (rows in [0, 1] summing to
        1 ± 1e-3) or, with ``logits=True``, raw scores (softmax per row); ``y_true`` is ``[n]``
        integer labels in [0, C), or str labels named in ``class_names`` (one per column).
        Stored: accuracy, ECE and MCE over 15 equal-width confidence bins, the reliability bins,
        confidence histograms of right and wrong samples (20 bins) and the 100 most confidently
        wrong samples. ``ids`` (``[n]`` str or int) name the samples. numpy, lists, torch or
        TensorFlow tensors. Raises ``ValueError``/``TypeError`` naming the argument (lengths
        that differ, NaN/Inf, wrong ranks, rows that are not probabilities, labels out of
        range) before anything is written.
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        data = _predictions.from_input(y_true, y_pred, ids=ids, class_names=class_names, logits=logits)
        self._write(_predictions.encode(tag, data), step, wall_time)

    def embeddings(
        self, tag: str, vectors: Any, *, step: int, labels: Any = None, wall_time: float | None = None
    ) -> None:
        """Vectors of one step for TensorBoard's own Projector tab (PCA, t-SNE, UMAP run there).

        ``vectors``: ``[points, dimensions]`` real and finite (numpy, torch incl. bfloat16, TF),
        2 to 100,000 points, at least 2 dimensions, at most 2**26 values; stored as float32.
        ``labels``: one str or int per point, or a mapping column name -> such a sequence for
        several columns; no tab, newline or carriage return in any label, and no point with only
        blank labels. ``tag`` may not hold ``& # + %`` or control characters (the Projector puts
        names into URLs unescaped). Writes, in the run directory, ``projector_config.pbtxt``
        (the step listed first as ``"<tag> @ step <n>"``, the file replaced atomically) and the
        step's tensor and metadata files under ``modellens-projector/``; a step written again
        replaces the earlier one. ``wall_time`` becomes the files' modification time. A
        TensorBoard already running shows steps written after it first read the run once it is
        restarted. Raises ``ValueError``/``TypeError`` naming the argument before anything is
        written.
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        _embeddings.check_tag(tag)
        data = _embeddings.from_input(vectors, labels)
        if self._closed:
            raise ValueError("this Writer is closed; make a new one to write more")
        _embeddings.write(self._sink.logdir, tag, step, data, wall_time)
        self._sink.flush()  # the projector finds runs by their event files: make this one's exist

    def roc_pr(
        self,
        tag: str,
        y_true: Any,
        scores: Any,
        *,
        step: int,
        class_names: Sequence[str] | None = None,
        pos_label: Any = None,
        logits: bool = False,
        wall_time: float | None = None,
    ) -> None:
        """ROC and precision-recall curves of one evaluation at one step (Curves view).

        Binary: ``scores`` ``[n]`` (or ``[n, 1]``) is the positive class's score; ``y_true``
        ``[n]`` holds 0/1 (or -1/1, bool), or any two labels with ``pos_label`` naming the
        positive; ``class_names`` names the positive class (or ``[negative, positive]``).
        Multi-class, one-vs-rest: ``scores`` ``[n, C]`` (2 ≤ C ≤ 10,000) with ``y_true`` ``[n]``
        integer labels in ``[0, C)``, string labels with ``class_names`` in column order, or a
        ``[n, C]`` 0/1 indicator (multi-label). Scores are probabilities in [0, 1], or raw outputs
        with ``logits=True`` (sigmoid for ``[n]``, softmax per row for ``[n, C]``). numpy, lists,
        torch or TensorFlow tensors.

        Stored per class: exact ROC AUC and average precision (as scikit-learn's
        ``roc_auc_score``/``average_precision_score``), positives, negatives and the curve
        (thresholds with the true and false positives at each): every distinct score, or at most
        2,000 points chosen along the ROC and PR curves whose trapezoid ROC area stays within 1e-4
        of the exact AUC. Plus the micro average (the pooled one-vs-rest curve: exact up to 2**26
        samples × classes, above from a 2**20-bin histogram of the scores' float32 bits) and the
        macro average (the mean over the classes with both positives and negatives). Extra memory
        is O(n) per class (plus one pooled key array for the exact micro average). Raises
        ``ValueError``/``TypeError`` naming the argument (mismatched lengths, wrong ranks, NaN or
        Inf, scores outside [0, 1] without ``logits=True``, labels out of range, a binary ``y_true``
        with one class only, no class with both positives and negatives) before anything is
        written.
        """
        check_tag(tag)
        step = check_step(step)
        wall_time = check_wall_time(wall_time)
        data = _curves.from_input(y_true, scores, class_names=class_names, pos_label=pos_label, logits=logits)
        self._write(_curves.encode(tag, data), step, wall_time)

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
