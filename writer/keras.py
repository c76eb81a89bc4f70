"""Keras 3 (TensorFlow backend) integration: ``modellens.keras.Callback``.

    model.fit(x, y, callbacks=[modellens.keras.Callback("logs/run1", every=50)])

logs the distributions of the model's weights, of the gradients the optimizer applies and of
the updates it makes (with their update ratio ‖ΔW‖/‖W‖) every ``every`` optimizer steps,
for the Training health view.

How it captures, without an extra forward or backward pass and without holding a batch: at
``on_train_begin`` the callback wraps the optimizer's ``apply`` (which ``apply_gradients``
calls) and its ``_backend_update_step`` (which receives the gradients after loss-scale
unscaling, gradient accumulation and clipping), then makes Keras retrace its train function.
Inside the compiled step, a ``tf.cond`` on the optimizer's own iteration counter copies, on
logging steps only, the gradients, ΔW and (with ``steps_per_execution > 1``) the weights
into non-trainable buffer variables; ``on_train_batch_end`` reads them on the host and calls
``Writer.distributions``. Everything is unwrapped at ``on_train_end``.

With ``heatmaps=["dense/kernel", ...]`` it also logs those variables' values as tensor heatmaps
(``Writer.tensor_heatmap``) at the same steps as the weights.

With ``attention_example=(x, tokens)`` the callback also logs the attention scores of every
``MultiHeadAttention`` layer on that held input every ``attention_every`` epochs (one extra eager
call with each layer's ``call`` wrapped to return its scores, restored right after).

This module imports nothing heavy: Keras and TensorFlow load on first use of ``Callback``.
"""

from __future__ import annotations

import difflib
import math
import os
import warnings
from typing import Any, Iterable

import numpy as np

from modellens import attention
from modellens._lazy import built_on_access
from modellens.attention import keras_capture

__all__ = ["Callback", "LOGS", "MAX_SLOTS"]  # noqa: F822 (Callback is made on first access)

#: What the callback can log, in the order it writes them at one step.
LOGS = ("weights", "gradients", "updates")
#: Sets of capture buffers kept for logging steps that fall into one execution
#: (``steps_per_execution > every``); each set costs the memory of the trainable weights once
#: per logged kind.
MAX_SLOTS = 4

_NEEDS_KERAS = "modellens.keras needs Keras 3 with TensorFlow: pip install 'modellens[keras]'"
_MARK = "_modellens_original"


def _import_keras() -> tuple[Any, Any]:
    try:
        import keras
        import tensorflow as tf
    except ImportError as error:
        raise ImportError(_NEEDS_KERAS) from error
    major = str(getattr(keras, "__version__", "0")).split(".")[0]
    if not major.isdigit() or int(major) < 3:
        raise ImportError(f"{_NEEDS_KERAS} (found Keras {getattr(keras, '__version__', '?')})")
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ImportError(f"{_NEEDS_KERAS} (Keras runs on the {backend!r} backend; set KERAS_BACKEND=tensorflow)")
    return keras, tf


def _check_every(every: Any) -> int:
    if isinstance(every, (bool, np.bool_)) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be a positive int (log every N optimizer steps), got {every!r}")
    return int(every)


def _check_log(log: Any) -> tuple[str, ...]:
    if isinstance(log, str):
        log = (log,)
    try:
        names = list(log)
    except TypeError:
        raise TypeError(f"log must be a sequence of names from {LOGS}, got {type(log).__name__}") from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"log must hold names from {LOGS}, got {name!r}")
        if name not in LOGS:
            raise ValueError(f"log has unknown name {name!r}; choose from {LOGS}")
    if not names:
        raise ValueError(f"log is empty; choose at least one of {LOGS}")
    return tuple(name for name in LOGS if name in names)


def _check_target(target: Any) -> tuple[Any, str | None]:
    """``(writer, None)`` for a ``modellens.Writer``, ``(None, logdir)`` for a directory."""
    from modellens._writer import Writer

    if isinstance(target, Writer):
        return target, None
    if isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
        logdir = os.fsdecode(target)
        if not logdir:
            raise ValueError("target is an empty path; give a log directory such as 'logs/run1'")
        return None, logdir
    raise TypeError(f"target must be a log directory (str or path) or a modellens.Writer, got {type(target).__name__}")


def _unique_names(variables: Iterable[Any]) -> list[str]:
    names, seen = [], set()
    for variable in variables:
        base = str(getattr(variable, "path", None) or variable.name)
        name, k = base, 1
        while name in seen:
            k += 1
            name = f"{base}#{k}"
        seen.add(name)
        names.append(name)
    return names


def _innermost(optimizer: Any) -> Any:
    """The optimizer that really applies updates (inside a ``LossScaleOptimizer``)."""
    while getattr(optimizer, "inner_optimizer", None) is not None:
        optimizer = optimizer.inner_optimizer
    return optimizer


def _unwrap(optimizer: Any, attribute: str) -> bool:
    """Removes ModelLens wrappers of ``optimizer.<attribute>``; True if there were any."""
    removed = False
    wrapper = optimizer.__dict__.get(attribute)
    while wrapper is not None and hasattr(wrapper, _MARK):
        removed = True
        original = getattr(wrapper, _MARK)
        if original is None:
            del optimizer.__dict__[attribute]
            break
        optimizer.__dict__[attribute] = original
        wrapper = original
    return removed


class _Capture:
    """The in-graph half: buffers, the wrappers and the logging condition.

    ``slots`` sets of buffers; logging step ``s`` (``s % every == 0``) writes into set
    ``(s // every) % slots`` and stamps it with ``s``, so that up to ``slots`` logging steps
    inside one execution are all kept.
    """

    def __init__(
        self, tf: Any, model: Any, optimizer: Any, every: int, log: tuple[str, ...], slots: int, snapshot_weights: bool
    ) -> None:
        self.tf = tf
        self.optimizer = optimizer
        self.every = every
        self.slots = slots
        self.weights = _dedupe(model.weights)
        self.trainable = _dedupe(model.trainable_weights)
        self.index = {id(v): j for j, v in enumerate(self.trainable)}
        self.capture_grads = "gradients" in log
        self.capture_updates = "updates" in log
        self.snapshot_weights = snapshot_weights
        # Which trainable variables (indices) the traced step gave a gradient / updated.
        self.grad_rows: list[int] = []
        self.update_rows: list[int] = []

        def buffers(variables: list[Any], what: str) -> list[list[Any]]:
            return [
                [
                    tf.Variable(
                        tf.zeros(v.shape, dtype=_tf_dtype(tf, v)), trainable=False, name=f"modellens_{what}_{i}_{j}"
                    )
                    for j, v in enumerate(variables)
                ]
                for i in range(slots)
            ]

        self.grads = buffers(self.trainable, "grad") if self.capture_grads else None
        self.updates = buffers(self.trainable, "update") if self.capture_updates else None
        self.norms = (
            [tf.Variable(tf.zeros([len(self.trainable)], tf.float64), trainable=False) for _ in range(slots)]
            if self.capture_updates
            else None
        )
        self.snapshots = buffers(self.weights, "weight") if snapshot_weights else None
        self.stamps = [tf.Variable(tf.constant(-1, tf.int64), trainable=False) for _ in range(slots)]
        self._installed: list[str] = []
        self._installed_update_step = False

    # -------------------------------------------------------------- graph side

    def condition(self) -> tuple[Any, Any, Any]:
        """``(log now?, slot, step)`` for the update being applied, before the counter moves."""
        tf = self.tf
        opt = self.optimizer
        counter = opt._iterations if hasattr(opt, "_iterations") else opt.iterations
        raw = tf.cast(tf.convert_to_tensor(counter), tf.int64)
        accumulate = getattr(opt, "gradient_accumulation_steps", None) if hasattr(opt, "_iterations") else None
        if accumulate:
            real = tf.equal((raw + 1) % accumulate, 0)
            step = (raw + 1) // accumulate
        else:
            real = tf.constant(True)
            step = raw + 1
        now = tf.logical_and(real, tf.equal(step % self.every, 0))
        slot = (step // self.every) % self.slots
        return now, slot, step

    def _each_slot(self, now: Any, slot: Any, body: Any) -> None:
        tf = self.tf
        for i in range(self.slots):
            pred = now if self.slots == 1 else tf.logical_and(now, tf.equal(slot, i))

            def branch(i: int = i) -> None:
                body(i)

            tf.cond(pred, branch, lambda: None)

    def _rows(self, variables: Any, values: Any = None) -> list[tuple[int, Any, Any]]:
        """``(buffer row, variable, value)`` for the variables the callback tracks."""
        rows = []
        values = [None] * len(variables) if values is None else list(values)
        for variable, value in zip(variables, values):
            j = self.index.get(id(variable))
            if j is not None:
                rows.append((j, variable, value))
        return rows

    def wrapped_apply(self, original: Any) -> Any:
        tf = self.tf

        def apply(grads: Any, trainable_variables: Any = None) -> Any:
            grads = list(grads)
            variables = (
                list(trainable_variables)
                if trainable_variables is not None
                else list(getattr(self.optimizer, "_trainable_variables", []) or [])
            )
            rows = [(j, v, g) for j, v, g in self._rows(variables, grads) if g is not None]
            now, slot, step = self.condition()
            if self.capture_updates:
                self.update_rows = sorted({j for j, _, _ in rows})

                def before(i: int) -> None:
                    norms = []
                    for j, v, _ in rows:
                        value = tf.convert_to_tensor(v)
                        self.updates[i][j].assign(tf.cast(value, self.updates[i][j].dtype))
                        wide = tf.float64 if value.dtype == tf.float64 else tf.float32
                        norms.append(tf.cast(tf.norm(tf.cast(tf.reshape(value, [-1]), wide)), tf.float64))
                    if rows:
                        self.norms[i].scatter_nd_update([[j] for j, _, _ in rows], tf.stack(norms))

                self._each_slot(now, slot, before)
            if self.capture_grads and not self._installed_update_step:
                self.grad_rows = sorted({j for j, _, _ in rows})
                scale = getattr(self.optimizer, "loss_scale_factor", None)

                def grads_now(i: int) -> None:
                    for j, _, g in rows:
                        g = tf.convert_to_tensor(g)
                        if scale is not None:
                            g = g / scale
                        self.grads[i][j].assign(tf.cast(g, self.grads[i][j].dtype))

                self._each_slot(now, slot, grads_now)
            result = original(grads, trainable_variables)

            def after(i: int) -> None:
                if self.capture_updates:
                    for j, v, _ in rows:
                        buffer = self.updates[i][j]
                        buffer.assign(tf.cast(tf.convert_to_tensor(v), buffer.dtype) - buffer)
                if self.snapshot_weights:
                    for k, w in enumerate(self.weights):
                        self.snapshots[i][k].assign(tf.cast(tf.convert_to_tensor(w), self.snapshots[i][k].dtype))
                self.stamps[i].assign(step)

            self._each_slot(now, slot, after)
            return result

        setattr(apply, _MARK, original if "apply" in self.optimizer.__dict__ else None)
        return apply

    def wrapped_update_step(self, original: Any) -> Any:
        tf = self.tf

        def update_step(grads: Any, trainable_variables: Any, learning_rate: Any) -> Any:
            grads = list(grads)
            variables = list(trainable_variables)
            rows = [(j, v, g) for j, v, g in self._rows(variables, grads) if g is not None]
            self.grad_rows = sorted({j for j, _, _ in rows})
            now, slot, _ = self.condition()

            def copy(i: int) -> None:
                for j, _, g in rows:
                    self.grads[i][j].assign(tf.cast(tf.convert_to_tensor(g), self.grads[i][j].dtype))

            self._each_slot(now, slot, copy)
            return original(grads, trainable_variables, learning_rate)

        setattr(update_step, _MARK, original if "_backend_update_step" in self.optimizer.__dict__ else None)
        return update_step

    # -------------------------------------------------------------- install / remove

    def install(self) -> None:
        opt = self.optimizer
        _unwrap(opt, "apply")
        _unwrap(opt, "_backend_update_step")
        self._installed_update_step = False
        if self.capture_grads and callable(getattr(opt, "_backend_update_step", None)):
            opt._backend_update_step = self.wrapped_update_step(opt._backend_update_step)
            self._installed.append("_backend_update_step")
            self._installed_update_step = True
        opt.apply = self.wrapped_apply(opt.apply)
        self._installed.append("apply")

    def remove(self) -> None:
        for attribute in self._installed:
            _unwrap(self.optimizer, attribute)
        self._installed = []

    # -------------------------------------------------------------- host side

    def read_stamps(self) -> list[int]:
        return [int(s.numpy()) for s in self.stamps]


def _dedupe(variables: Iterable[Any]) -> list[Any]:
    seen, result = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            result.append(v)
    return result


def _tf_dtype(tf: Any, variable: Any) -> Any:
    return tf.as_dtype(getattr(variable.dtype, "name", variable.dtype))


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.numpy())


# ---------------------------------------------------------------------------- attention

#: The tag attention is written under (further groups of layers with other shapes:
#: ``attention/<first layer's name>``).
ATTENTION_TAG = "attention"


def _check_attention_example(example: Any) -> tuple[Any, list[str], list[str] | None] | None:
    """``(x, tokens, query_tokens or None)`` from ``attention_example``, or None."""
    if example is None:
        return None
    if not isinstance(example, (tuple, list)) or len(example) not in (2, 3):
        raise TypeError(
            "attention_example must be a tuple (x, tokens) or (x, tokens, query_tokens): a held input the "
            "model is called on, and one str per key position (query_tokens for cross-attention)"
        )

    def tokens_of(value: Any, argument: str) -> list[str]:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise TypeError(f"attention_example's {argument} must be a list of str, got {type(value).__name__}")
        for i, token in enumerate(value):
            if not isinstance(token, str):
                raise TypeError(f"attention_example's {argument}[{i}] is a {type(token).__name__}, not a str")
        if not value:
            raise ValueError(f"attention_example's {argument} is empty; give one str per token")
        return list(value)

    x = example[0]
    tokens = tokens_of(example[1], "tokens")
    queries = tokens_of(example[2], "query_tokens") if len(example) == 3 and example[2] is not None else None
    return x, tokens, queries


def _check_heatmaps(heatmaps: Any) -> tuple[str, ...]:
    if isinstance(heatmaps, str):
        heatmaps = (heatmaps,)
    try:
        paths = tuple(heatmaps)
    except TypeError:
        raise TypeError(
            f"heatmaps must be a list of variable paths such as ['dense/kernel'], got {heatmaps!r}"
        ) from None
    for path in paths:
        if not isinstance(path, str):
            raise TypeError(f"heatmaps must hold variable paths (str), got {path!r} ({type(path).__name__})")
    return tuple(dict.fromkeys(paths))


def _is_empty(log: Any) -> bool:
    try:
        return not isinstance(log, str) and len(log) == 0
    except TypeError:
        return False


def _build_callback_class() -> type:
    keras, tf = _import_keras()

    class Callback(keras.callbacks.Callback):
        """Logs weights, gradients and updates of the model being fitted, every N optimizer steps.

        ``target`` is a log directory (the callback opens a ``modellens.Writer`` there at
        ``on_train_begin`` and closes it at ``on_train_end``; a second ``fit`` adds a new
        event file) or a ``modellens.Writer`` (the user owns it: flushed at train end, never
        closed). ``every`` is a positive int; ``log`` a subset of ``("weights", "gradients",
        "updates")``. Each logging step writes up to three ``Writer.distributions`` records:

        - ``"weights"``: every weight of the model (``model.weights``: trainable and frozen,
          BatchNorm statistics included) after the logged update;
        - ``"gradients"``: the gradients the optimizer applies, captured inside the compiled
          train step: after a ``LossScaleOptimizer``'s or ``loss_scale_factor``'s unscaling,
          after gradient accumulation (once per real update, averaged) and after
          ``clipnorm``/``clipvalue``/``global_clipnorm``. Only the variables that received a
          gradient; frozen weights are absent;
        - ``"updates"``: ΔW = W after − W before the logged update (weight decay, constraints
          and EMA overwrites included), same variables as ``"gradients"``, with the extra
          column ``update_ratio`` = ‖ΔW‖ / ‖W before‖ (inf or NaN where ‖W before‖ is 0).

        Names are the variables' ``.path`` (``dense/kernel``) in model order.

        **Heatmaps.** ``heatmaps=["dense/kernel", "conv/kernel", ...]`` (variable paths, as in
        ``model.weights``) logs each variable's value with ``Writer.tensor_heatmap``
        (``channels_last=True``: a Conv2D kernel ``[kh, kw, in, out]`` is drawn as its grid of
        kernels) under the tag ``heatmaps/<path>``, at the same steps and with the same values as
        ``"weights"`` (step 0 when a ``fit`` starts from 0, then every ``every`` steps; snapshotted
        in the graph when ``steps_per_execution > 1``). An unknown path raises ``ValueError``
        listing the model's paths when ``fit`` starts (a subclassed model that ``fit`` builds:
        after its first batch). With ``heatmaps``, ``log`` may be empty.

        **Graph.** With ``graph=True`` (the default) the model's structure is logged once, under
        the tag ``model``, when ``fit`` starts (a subclassed model that ``fit`` builds on its
        first batch: after that batch, as its layer tree). ``graph=False`` skips it.

        **Steps.** The step written is ``optimizer.iterations`` *after* the logged update, i.e.
        the number of optimizer updates applied so far counting this one (with
        ``gradient_accumulation_steps`` that is real updates, and a step a
        ``LossScaleOptimizer`` skips for non-finite gradients is not counted). A step ``s`` is
        logged when ``s % every == 0``: ``every=50`` logs steps 50, 100, 150, ...: the same
        steps at which ``keras.callbacks.TensorBoard(update_freq=50)`` records its
        ``batch_*`` scalars in a first ``fit`` (its ``batch_loss`` at step 50 is the loss of
        the batch whose gradients are logged at 50), and the steps of its
        ``evaluation_*_vs_iterations``. In addition, the initial weights are logged at step 0
        when a ``fit`` starts from ``optimizer.iterations == 0``. Later ``fit`` calls continue
        from the optimizer's count.

        **steps_per_execution > 1.** Capture happens per train step inside the execution, so
        the logged step's values are not overwritten by later steps of the same execution,
        and the weights are snapshotted in the graph too. When several logging steps fall into
        one execution (``every < steps_per_execution``) up to ``MAX_SLOTS`` (4) of them are
        kept, each in its own set of buffers, and all are logged; beyond that only the last
        ``MAX_SLOTS`` of that execution are, with one warning.

        **Cost.** Between logging steps: two or three ``tf.cond`` whose branch is not taken,
        per optimizer step, and nothing on the host (no device read: the callback predicts from
        the batch count when a logging step can have happened). Memory: one extra copy of the trainable
        weights for ``"gradients"`` and one for ``"updates"``, plus one of all weights for
        ``"weights"`` when ``steps_per_execution > 1``; times the number of buffer sets
        (``ceil(steps_per_execution / every)``, at most ``MAX_SLOTS``).

        Works with ``jit_compile`` on or off (the capture is plain variable assignments under a
        ``tf.cond``, which XLA compiles) and with ``run_eagerly``. Under a ``tf.distribute``
        strategy with more than one replica only ``"weights"`` are logged (with a warning), read
        on the host at the end of the execution that holds the logging step.
        At ``on_train_end`` the optimizer's methods are restored and the model's train
        function is dropped, so a later ``fit`` without the callback runs exactly as before.
        If ``fit`` raises, Keras skips ``on_train_end``: the wrappers stay until the next
        ``fit`` with a ModelLens callback (which removes stale ones first), or call
        ``callback.on_train_end()`` yourself.

        **Attention.** With ``attention_example=(x, tokens)`` (or ``(x, tokens, query_tokens)``
        for cross-attention) the attention scores of every ``keras.layers.MultiHeadAttention``
        in the model (nested models and layers included) on the held input ``x`` (its first
        sample) are logged with ``Writer.attention`` under the tag ``"attention"``: at the end
        of every ``attention_every``-th epoch, and when a ``fit`` starts from
        ``optimizer.iterations == 0``; the step is ``optimizer.iterations`` then, like the other
        records. ``x`` goes through one extra eager ``model(x, training=False)`` with each MHA
        layer's ``call`` wrapped to return its scores (the softmax before dropout; Keras keeps
        no scores on its fused path), restored right after, also on error. Layers with another
        shape ``[heads, queries, keys]`` than the first go to ``"attention/<layer name>"``;
        layers whose queries × keys do not match the tokens are skipped with a warning. The
        example is captured once when ``fit`` starts, before anything else: none matching
        raises ``ValueError`` there; a later capture that fails warns once and training goes on.
        """

        def __init__(
            self,
            target: Any,
            *,
            every: int = 100,
            log: Any = LOGS,
            graph: bool = True,
            attention_example: Any = None,
            attention_every: int = 1,
            heatmaps: Any = (),
        ) -> None:
            super().__init__()
            self._heatmap_paths = _check_heatmaps(heatmaps)
            self._heatmaps: list[tuple[str, Any, int]] = []  # (path, variable, index in model.weights)
            self._attention = _check_attention_example(attention_example)
            if (
                isinstance(attention_every, (bool, np.bool_))
                or not isinstance(attention_every, (int, np.integer))
                or attention_every < 1
            ):
                raise ValueError(
                    f"attention_every must be a positive int (log attention every N epochs), got {attention_every!r}"
                )
            self.attention_every = int(attention_every)
            self._attention_step = -1
            if not isinstance(graph, bool):
                raise TypeError(f"graph must be True or False, got {graph!r}")
            self._graph_pending = graph
            self.every = _check_every(every)
            self.log = () if self._heatmap_paths and _is_empty(log) else _check_log(log)
            self._writer, self._logdir = _check_target(target)
            self._owns_writer = self._writer is None
            self._capture: _Capture | None = None
            self._optimizer: Any = None
            self._warned: set[str] = set()
            self._begin: int | None = None
            self._low = self._high = 0
            self._last = -1

        @property
        def writer(self) -> Any:
            """The ``modellens.Writer`` written to (None outside ``fit`` when the callback owns it)."""
            return self._writer

        # ---------------------------------------------------------- keras hooks

        def on_train_begin(self, logs: Any = None) -> None:
            model = self.model
            if getattr(model, "optimizer", None) is None:
                raise ValueError("modellens.keras.Callback needs a model compiled with an optimizer")
            self._remove()
            optimizer = _innermost(model.optimizer)
            self._optimizer = optimizer
            # The held example's attention first: a bad attention_example raises before anything changes.
            first_attention = self._attention_now() if self._attention is not None else None
            self._resolve_heatmaps()  # an unknown variable path raises before anything changes
            if self._iterations() != 0:
                first_attention = None  # a resumed fit: logged at the next logging epoch
            # Wrappers left by a fit that raised (Keras then skips on_train_end) go first.
            stale = _unwrap(optimizer, "apply") | _unwrap(optimizer, "_backend_update_step")
            log = self.log
            replicas = int(getattr(model.distribute_strategy, "num_replicas_in_sync", 1) or 1)
            self._replicas = replicas
            if replicas > 1 and set(log) - {"weights"}:
                self._warn(
                    "replicas",
                    f"modellens.keras.Callback: {replicas} replicas; under a multi-replica tf.distribute "
                    "strategy gradients and updates are not captured, only weights are logged",
                )
                log = tuple(name for name in log if name == "weights")
            self._log_now = log
            spe = max(1, int(getattr(model, "steps_per_execution", 1) or 1))
            self._spe = spe
            snapshot = ("weights" in log or bool(self._heatmap_paths)) and spe > 1
            needs_graph = replicas == 1 and ("gradients" in log or "updates" in log or snapshot)
            self._weights = _dedupe(model.weights)
            self._weight_names = _unique_names(self._weights)
            if needs_graph:
                slots = min(MAX_SLOTS, math.ceil(spe / self.every))
                self._capture = _Capture(tf, model, optimizer, self.every, log, slots, snapshot)
                by_id = {id(v): name for v, name in zip(self._weights, self._weight_names)}
                self._trainable_names = [by_id.get(id(v), str(v.path)) for v in self._capture.trainable]
                self._capture.install()
            if needs_graph or stale:
                model.make_train_function(force=True)  # (re)trace with the wrappers, or without stale ones
            if self._writer is None:
                from modellens._writer import Writer

                self._writer = Writer(self._logdir)
            current = self._iterations()
            self._low = self._high = self._last = current
            self._begin = None
            if current == 0 and "weights" in log:
                self._write("weights", self._named(self._weight_names, self._weights), 0)
            if current == 0:
                self._write_heatmaps(None, 0)
            self._log_graph(current)
            self._attention_step = -1
            if first_attention is not None:
                self._write_attention(first_attention, 0)

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            self._begin = batch

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if self._graph_pending:
                self._log_graph(self._low)
            steps = self._spe if self._begin is None else max(1, batch - self._begin + 1)
            self._begin = None
            # The counter now lies in [low, high + steps]; look only if that can hold a multiple.
            high = self._high + steps
            first = (self._low // self.every + 1) * self.every
            if first > high:
                self._high = high
                return
            self._collect()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if self._attention is not None and (epoch + 1) % self.attention_every == 0:
                self._log_attention()

        def on_train_end(self, logs: Any = None) -> None:
            if self.model is not None and self._capture is not None:
                self.model.train_function = None  # the next fit retraces without the wrappers
            self._remove()
            if self._writer is not None:
                if self._owns_writer:
                    self._writer.close()
                    self._writer = None
                else:
                    self._writer.flush()

        # ---------------------------------------------------------- internals

        def _remove(self) -> None:
            if self._capture is not None:
                self._capture.remove()
                self._capture = None

        def _iterations(self) -> int:
            counter = self._optimizer.iterations  # a Variable, or a tensor under gradient accumulation
            return int(counter.numpy()) if hasattr(counter, "numpy") else int(counter)

        def _log_graph(self, step: int) -> None:
            """The model's graph, once per callback, as soon as the model is built."""
            if not self._graph_pending or not self.model.built:
                return
            self._graph_pending = False
            try:
                self._writer.graph(self.model, step=step)
            except Exception as error:  # never stop training for a graph
                self._warn("graph", f"modellens.keras.Callback could not log the model's graph: {error!r}")

        def _warn(self, key: str, message: str) -> None:
            if key not in self._warned:
                self._warned.add(key)
                warnings.warn(message, RuntimeWarning, stacklevel=3)

        def _attention_now(self) -> list[tuple[str, Any]]:
            """The held example's attention records now, ``[(tag, Collector)]``; raises when
            no MultiHeadAttention call matches the tokens."""
            x, tokens, query_tokens = self._attention
            records, skipped = keras_capture.records(self.model, x, tokens, query_tokens, ATTENTION_TAG)
            queries = len(query_tokens or tokens)
            if not records:
                raise ValueError(
                    f"attention_example gives {queries} query × {len(tokens)} key tokens but no "
                    f"MultiHeadAttention call on x matches: {', '.join(skipped)}; give one token per position"
                )
            if skipped:
                self._warn(
                    "attention-skipped",
                    "modellens.keras.Callback: these MultiHeadAttention calls do not match attention_example's "
                    f"{queries} queries × {len(tokens)} keys and are not logged: {', '.join(skipped)}",
                )
            return records

        def _write_attention(self, records: list[tuple[str, Any]], step: int) -> None:
            _, tokens, query_tokens = self._attention
            for _, collector in records:  # every record checked before any is written
                attention.check(collector, tokens=tokens, query_tokens=query_tokens)
            for tag, collector in records:
                self._writer.attention(tag, collector, tokens=tokens, step=step, query_tokens=query_tokens)
            self._attention_step = step

        def _log_attention(self) -> None:
            """Attention on the held example at the current step; a failure warns once and
            training goes on (the first capture of a ``fit`` raises, in ``on_train_begin``)."""
            step = self._iterations()
            if self._attention is None or step == self._attention_step:
                return
            try:
                self._write_attention(self._attention_now(), step)
            except Exception as error:
                self._warn("attention", f"modellens.keras.Callback could not log attention: {error!r}")
                self._attention_step = step

        def _named(self, names: list[str], values: list[Any]) -> dict[str, Any]:
            return {name: _numpy(value) for name, value in zip(names, values)}

        def _resolve_heatmaps(self) -> None:
            """``heatmaps``' variable paths → the model's variables (once the model is built: a
            subclassed model that ``fit`` builds on its first batch is resolved after it)."""
            self._heatmaps = []
            if not self._heatmap_paths or not self.model.built:
                return
            variables = _dedupe(self.model.weights)
            index = {name: k for k, name in enumerate(_unique_names(variables))}
            for path in self._heatmap_paths:
                if path not in index:
                    close = difflib.get_close_matches(path, list(index), n=3)
                    raise ValueError(
                        f"heatmaps names {path!r}, which is not a variable path of the model"
                        + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
                        + f" Valid paths: {', '.join(index)}"
                    )
                self._heatmaps.append((path, variables[index[path]], index[path]))

        def _write_heatmaps(self, snapshots: list[Any] | None, step: int) -> None:
            """``Writer.tensor_heatmap`` of each ``heatmaps`` variable: its value now, or in
            ``snapshots`` (the weights copied inside the graph at the logged step, in
            ``model.weights`` order)."""
            if self._heatmap_paths and not self._heatmaps:
                self._resolve_heatmaps()
            for path, variable, k in self._heatmaps:
                value = snapshots[k] if snapshots is not None and k < len(snapshots) else variable
                try:
                    self._writer.tensor_heatmap(f"heatmaps/{path}", _numpy(value), step=step, channels_last=True)
                except Exception as error:  # never stop training for a heatmap
                    self._warn(
                        f"heatmap {path}", f"modellens.keras.Callback could not log the heatmap of {path}: {error!r}"
                    )

        def _write(self, tag: str, tensors: dict[str, Any], step: int, extras: Any = None) -> None:
            if tensors:
                self._writer.distributions(tag, tensors, step=step, extras=extras)

        def _collect(self) -> None:
            current = self._iterations()
            expected = [s for s in range((self._last // self.every + 1) * self.every, current + 1, self.every)]
            capture = self._capture
            if capture is None:  # weights only, read on the host now
                # One step per execution: exactly the weights after step `current`. (Several, only
                # under a multi-replica strategy: those at the end of the execution.)
                logged = expected[-1:] if self._spe > 1 else [s for s in expected if s == current]
                for step in logged:
                    if "weights" in self._log_now:
                        self._write("weights", self._named(self._weight_names, self._weights), step)
                    self._write_heatmaps(None, step)
                if self._spe > 1:
                    expected = logged
            else:
                stamps = capture.read_stamps()
                order = sorted((s, i) for i, s in enumerate(stamps) if s > self._last and s <= current)
                logged = [s for s, _ in order]
                for step, slot in order:
                    self._log_slot(capture, slot, step)
            if len(logged) < len(expected):
                self._warn(
                    "slots",
                    f"modellens.keras.Callback: {len(expected)} logging steps fell into one execution "
                    f"(steps_per_execution={self._spe}, every={self.every}); logged {logged}, "
                    f"skipped {[s for s in expected if s not in logged]}",
                )
            if logged:
                self._last = max(logged)
            self._last = max(self._last, current - current % self.every)
            self._low = self._high = current

        def _log_slot(self, capture: _Capture, slot: int, step: int) -> None:
            log = self._log_now
            values = capture.snapshots[slot] if capture.snapshot_weights else self._weights
            if "weights" in log:
                self._write("weights", self._named(self._weight_names, values), step)
            self._write_heatmaps(capture.snapshots[slot] if capture.snapshot_weights else None, step)
            if "gradients" in log:
                rows = capture.grad_rows
                self._write(
                    "gradients",
                    self._named([self._trainable_names[j] for j in rows], [capture.grads[slot][j] for j in rows]),
                    step,
                )
            if "updates" in log:
                rows = capture.update_rows
                names = [self._trainable_names[j] for j in rows]
                deltas = self._named(names, [capture.updates[slot][j] for j in rows])
                norms = capture.norms[slot].numpy()
                ratios = {}
                with np.errstate(divide="ignore", invalid="ignore"):
                    for name, j in zip(names, rows):
                        delta = np.linalg.norm(deltas[name].astype(np.float64).reshape(-1))
                        ratios[name] = float(np.float64(delta) / np.float64(norms[j]))
                self._write("updates", deltas, step, extras={"update_ratio": ratios})

    Callback.__module__ = __name__
    Callback.__qualname__ = "Callback"
    return Callback


__getattr__ = built_on_access(__name__, {"Callback": _build_callback_class})
