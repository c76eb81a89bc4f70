"""PyTorch integration: ``modellens.torch.watch(model, writer, every=100)``, and
``modellens.torch.attention(model)``, a context manager that captures the per-head weights of
every ``nn.MultiheadAttention`` call inside it (see ``attention``).

``watch`` counts optimizer steps with torch's global optimizer step hooks, so it needs no
change to the training loop and sees what the optimizer applies:

- **gradients** are read in the step *pre*-hook: after AMP unscaling and clipping, after
  gradient accumulation, DDP-synchronised; once per optimizer step, never per micro-batch. A
  step that ``GradScaler`` skips (Inf/NaN found) calls no step hook, so it logs nothing.
  Parameters without a gradient (frozen, or unused) are left out of the record.
- **weights** are logged in the same pre-hook (the weights the step's gradients belong to).
- **updates**: at a logging step the pre-hook keeps a strided sample of each updated
  parameter (``SAMPLE`` values at a stride co-prime with 576, whole tensors when smaller; all of
  it with ``exact=True``); the post-hook logs the distribution of ΔW over that sample under
  tag ``updates`` with the column ``update_ratio`` = ‖ΔW‖ / ‖W‖ (W before the step).
- **activations** (opt-in): forward hooks are registered only for the forward passes that
  lead to a logging step (armed after the step before it), on every leaf module, and removed
  at the logging step. Per module: the distribution of a strided sample (``SAMPLE`` values) of
  the output of the first training-mode forward pass, and ``dead_fraction`` = the fraction of
  channels that are exactly zero over that whole batch (channel = dim 1 for outputs of rank ≥ 4
  and of convolution/normalisation/pooling modules, the last dim otherwise).
- **heatmaps** (opt-in, ``heatmaps=[...]``): on logging steps, ``Writer.tensor_heatmap`` of a
  parameter's value (``"fc1.weight"``, in the pre-hook, like the weights), of its gradient as the
  optimizer applies it (``"fc1.weight.grad"``, in the pre-hook, like the gradients) or of a
  module's output (``"fc1:output"``: a forward hook armed like the activation hooks, reducing the
  first training-mode output at once, sample 0 of a 4-D output in the ``channels`` layout), each
  under the tag ``heatmaps/<entry>``.

Between logging steps a hook costs one dictionary lookup and a counter increment. Steps are
the optimizer's step count (0 for the first step; a resumed Adam-like optimizer goes on from the
``step`` in its restored state), or ``step_fn()`` when given.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
import warnings
import weakref
from typing import Any, Callable, Sequence

from modellens import heatmap as _heatmap
from modellens.attention.torch_capture import AttentionCapture

__all__ = ["watch", "WatchHandle", "attention", "AttentionCapture", "SAMPLE", "KINDS"]

#: What ``log`` may name.
KINDS = ("weights", "gradients", "updates", "activations")
#: Values kept per tensor for update ratios and activations (unless ``exact=True``).
SAMPLE = 65_536
_MISSING_TORCH = "modellens.torch needs PyTorch: pip install 'modellens[torch]'"
_live_handles: weakref.WeakSet = weakref.WeakSet()


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised without torch installed
        raise ImportError(_MISSING_TORCH) from None
    return torch


def _stride(n: int, limit: int = SAMPLE) -> int:
    """A stride giving at most ``limit`` samples of ``n``, co-prime with 9·64 = 576 (odd, not a
    multiple of 3) so that it does not alias with kernel or channel strides."""
    stride = max(1, -(-n // limit))
    while stride > 1 and (stride % 2 == 0 or stride % 3 == 0):
        stride += 1
    return stride


def _sample(tensor: Any, limit: int = SAMPLE) -> Any:
    """A float32 copy of a strided sample of ``tensor`` (all of it when small enough)."""
    torch = _torch()
    flat = tensor.detach().reshape(-1)
    stride = _stride(flat.numel(), limit)
    part = flat[::stride] if stride > 1 else flat
    return part.to(torch.float32, copy=True)


def _distributions() -> Any:
    from modellens import distributions

    return distributions


def _clean(name: str) -> str:
    return name.replace("_orig_mod.", "")


class _OptimizerState:
    """What one optimizer holds of the watched parameters, and its step count."""

    __slots__ = ("names", "params", "groups", "count", "snapshot", "snapshot_step", "contributed", "skipped", "calls")

    def __init__(self, names: list[str], params: list[Any], groups: int) -> None:
        self.names = names
        self.params = params
        self.groups = groups
        self.count = 0
        self.snapshot: dict[str, Any] | None = None
        self.snapshot_step = 0
        self.skipped = False
        self.calls = 0  # pre-hooks seen by this watch: 0 during the first iteration it takes part in
        self.contributed = False


class _Pending:
    """One record being assembled from several optimizers (same tag, same step)."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.parts: list[Any] = []  # reduced ``Distributions``, one per contributing optimizer
        self.contributors: set[int] = set()


class WatchHandle:
    """Returned by ``watch``; ``remove()`` takes every hook away (also as a context manager)."""

    def __init__(
        self,
        models: list[tuple[str, Any]],
        writer: Any,
        every: int,
        log: tuple[str, ...],
        exact: bool,
        step_fn: Callable[[], int] | None,
        prefix: str,
        owns_writer: bool = False,
        graph: bool = True,
        heatmaps: tuple[str, ...] = (),
    ) -> None:
        _torch()  # fails early, naming the extra to install
        self._writer = writer
        self._every = every
        self._log = log
        self._exact = exact
        self._step_fn = step_fn
        self._prefix = prefix
        self._params: dict[str, Any] = {}
        self._modules: list[tuple[str, Any]] = []
        seen: set[int] = set()
        for model_prefix, model in models:
            for name, p in model.named_parameters():
                if id(p) not in seen:  # tied weights once, under their first name
                    seen.add(id(p))
                    self._params[model_prefix + _clean(name)] = p
            for name, module in model.named_modules():
                if not any(True for _ in module.children()) and name:
                    self._modules.append((model_prefix + _clean(name), module))
        self._names_by_id = {id(p): name for name, p in self._params.items()}
        self._heatmaps = _resolve_heatmaps(heatmaps, self._params, _named_modules(models))  # before any hook
        self._heatmap_step: int | None = None
        self._heatmap_outputs: dict[str, Any] = {}
        self._states: weakref.WeakKeyDictionary[Any, _OptimizerState | None] = weakref.WeakKeyDictionary()
        self._pending: dict[str, _Pending] = {}
        self._weights_step: int | None = None
        self._forward_hooks: list[Any] = []
        self._captured: dict[str, tuple[Any, Any]] = {}
        self._removed = False
        self._failures: set[tuple[str, str]] = set()
        self._owns_writer = owns_writer
        self._graph_models = models if graph else []
        self._graph_inputs: dict[int, tuple[Any, Any]] = {}
        self._graph_hooks = [
            model.register_forward_pre_hook(self._graph_inputs_hook(index), with_kwargs=True)
            for index, (_, model) in enumerate(self._graph_models)
        ]
        import torch.optim.optimizer as optimizer_module

        self._hooks = [
            optimizer_module.register_optimizer_step_pre_hook(self._pre_hook),
            optimizer_module.register_optimizer_step_post_hook(self._post_hook),
        ]
        if self._wants_forward:
            self._arm()

    # ------------------------------------------------------------------ public

    def remove(self) -> None:
        """Removes every hook this handle registered and writes what it still holds."""
        if self._removed:
            return
        self._removed = True
        for hook in self._hooks:
            hook.remove()
        self._drop_graph_hooks()
        self._disarm()
        for tag in list(self._pending):
            self._safely(self._flush, tag)
        if self._owns_writer:  # opened by watch from a path or SummaryWriter
            self._writer.close()

    def __enter__(self) -> WatchHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()

    @property
    def hooks(self) -> int:
        """How many hooks this handle holds now (optimizer and forward hooks)."""
        return (0 if self._removed else len(self._hooks)) + len(self._forward_hooks) + len(self._graph_hooks)

    # ------------------------------------------------------------------ optimizer hooks

    def _state(self, optimizer: Any) -> _OptimizerState | None:
        try:
            state = self._states[optimizer]
        except KeyError:
            state = None
        else:
            if state is None or state.groups == len(optimizer.param_groups):
                return state
        state = self._make_state(optimizer, state)
        self._states[optimizer] = state
        return state

    def _make_state(self, optimizer: Any, old: _OptimizerState | None = None) -> _OptimizerState | None:
        names, params = [], []
        for group in optimizer.param_groups:
            for p in group["params"]:
                name = self._names_by_id.get(id(p))
                if name is not None:
                    names.append(name)
                    params.append(p)
        if not names:
            return None
        state = _OptimizerState(names, params, len(optimizer.param_groups))
        state.count = old.count if old is not None else _steps_taken(optimizer, params)
        return state

    def _known(self) -> set[int]:
        return {id(s) for s in self._states.values() if s is not None}

    def _safely(self, action: Callable[..., None], *args: Any) -> None:
        """Runs a logging action; a failure warns once and never stops the user's training."""
        try:
            action(*args)
        except Exception as error:  # a closed writer, a full disk, an unusual parameter
            key = (type(error).__name__, str(error)[:200])
            if key not in self._failures:
                self._failures.add(key)
                warnings.warn(f"modellens.torch.watch could not log this step: {error!r}", stacklevel=3)

    def _pre_hook(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        state = self._state(optimizer)
        if state is None:
            return
        if self._graph_models:
            self._safely(self._log_graphs, self._step(state))
        if self._pending and state.contributed:  # a new iteration: write the last one's parts
            for tag in list(self._pending):
                self._safely(self._flush, tag)
        state.calls += 1
        if state.count % self._every:
            return
        # A fused optimizer under GradScaler gets the step even when the scaler found Inf/NaN
        # (it then skips the update itself): log nothing for it, and count it as not taken.
        found_inf = getattr(optimizer, "found_inf", None)
        state.skipped = found_inf is not None and bool(found_inf)
        if state.skipped:
            return
        torch = _torch()
        with torch.no_grad():
            self._safely(self._log_before_step, state, getattr(optimizer, "grad_scale", None))

    def _post_hook(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        state = self._states.get(optimizer)
        if state is None:
            return
        if state.skipped:
            state.skipped = False
            return
        state.count += 1
        if state.snapshot is not None:
            torch = _torch()
            with torch.no_grad():
                self._safely(self._log_updates, state)
        if self._wants_forward and state.count % self._every == 0 and not self._forward_hooks:
            self._arm()

    def _step(self, state: _OptimizerState) -> int:
        return int(self._step_fn()) if self._step_fn is not None else state.count

    def _log_before_step(self, state: _OptimizerState, grad_scale: Any = None) -> None:
        """Weights, gradients (divided by a fused optimizer's ``grad_scale`` when GradScaler
        left them scaled), the update snapshot and activations of a logging step."""
        step = self._step(state)
        if "weights" in self._log and self._weights_step != step:
            self._weights_step = step
            self._writer.distributions(self._prefix + "weights", dict(self._params), step=step)
        with_grad = [(n, p) for n, p in zip(state.names, state.params) if p.requires_grad and p.grad is not None]
        if "gradients" in self._log and with_grad:
            grads = {n: p.grad if grad_scale is None else p.grad / grad_scale for n, p in with_grad}
            self._contribute("gradients", step, state, grads)
        if "updates" in self._log and with_grad:
            state.snapshot_step = step
            state.snapshot = {
                n: (p.detach().to(_torch().float32, copy=True) if self._exact else _sample(p)) for n, p in with_grad
            }
        if "activations" in self._log and self._forward_hooks:
            self._log_activations(step, state)
        if self._heatmaps:
            self._log_heatmaps(step, state, grad_scale)

    def _log_updates(self, state: _OptimizerState) -> None:
        torch = _torch()
        before = state.snapshot
        state.snapshot = None
        params = dict(zip(state.names, state.params))
        names = list(before)
        deltas = []
        for n in names:
            old = before[n]
            now = params[n].detach().to(torch.float32).reshape(-1) if self._exact else _sample(params[n])
            deltas.append(now.reshape(-1).sub_(old.reshape(-1)) if not self._exact else now - old.reshape(-1))
        norms = torch.stack(
            [torch.linalg.vector_norm(d) for d in deltas] + [torch.linalg.vector_norm(before[n]) for n in names]
        ).tolist()  # one host transfer for every tensor
        k = len(names)
        ratios = {n: (norms[i] / norms[k + i] if norms[k + i] > 0 else math.nan) for i, n in enumerate(names)}
        self._contribute("updates", state.snapshot_step, state, dict(zip(names, deltas)), {"update_ratio": ratios})

    # ------------------------------------------------------------------ records

    def _contribute(
        self, kind: str, step: int, state: _OptimizerState, tensors: dict, extras: dict | None = None
    ) -> None:
        tag = self._prefix + kind
        pending = self._pending.get(tag)
        if pending is not None and pending.step != step:
            self._flush(tag)
            pending = None
        if pending is None:
            pending = self._pending[tag] = _Pending(step)
        if tensors:  # reduced now, while the tensors are the step's; written once complete
            pending.parts.append(_distributions().from_input(tensors, extras=extras))
        pending.contributors.add(id(state))
        state.contributed = True
        # Every optimizer seen contributed: write now, unless one of them is in its first
        # iteration, when another optimizer of the same iteration may still be unknown (its part
        # is then written with the others at the next iteration's first step, or at remove()).
        states = [s for s in self._states.values() if s is not None]
        if pending.contributors >= self._known() and all(s.calls > 1 for s in states):
            self._flush(tag)

    def _flush(self, tag: str) -> None:
        pending = self._pending.pop(tag, None)
        if not self._pending:
            for state in self._states.values():
                if state is not None:
                    state.contributed = False
        if pending is None or not pending.parts:
            return
        self._writer.distributions(tag, _distributions().merge(pending.parts), step=pending.step)

    # ------------------------------------------------------------------ graph

    def _graph_inputs_hook(self, index: int) -> Callable[..., None]:
        def hook(module: Any, args: Any, kwargs: Any) -> None:
            self._graph_inputs.setdefault(index, (args, kwargs))

        return hook

    def _drop_graph_hooks(self) -> None:
        for hook in self._graph_hooks:
            hook.remove()
        self._graph_hooks = []

    def _log_graphs(self, step: int) -> None:
        """Each watched model's graph, once, at the first optimizer step: captured on the first
        batch it was called with (the capture restores RNG, buffers and modes), or the module
        tree alone when that fails or the model was never called."""
        from modellens import graph as graph_kind

        models, self._graph_models = self._graph_models, []
        self._drop_graph_hooks()
        inputs, self._graph_inputs = self._graph_inputs, {}
        for index, (model_prefix, model) in enumerate(models):
            captured, failure = None, "the model was not called before the first optimizer step"
            if index in inputs:
                try:
                    captured = graph_kind.from_input(model, _capture_inputs(model, *inputs[index]))
                except Exception as error:  # the capture must never stop training
                    failure = f"the capture on the first batch failed ({error})"
                    warnings.warn(
                        f"modellens.torch.watch could not capture the graph on the first batch ({error!r}); "
                        "logging the module tree instead",
                        stacklevel=4,
                    )
            if captured is None:
                tree = graph_kind.from_input(model)
                captured = dataclasses.replace(tree, notes=[f"{failure}: the module tree only", *tree.notes[1:]])
            if model_prefix:
                captured = captured.with_param_prefix(model_prefix)
            tag = self._prefix + ("model" if len(models) == 1 else f"model_{index}")
            self._writer.graph(captured, tag=tag, step=step)

    # ------------------------------------------------------------------ activations

    @property
    def _wants_forward(self) -> bool:
        return "activations" in self._log or any(entry.kind == "output" for entry in self._heatmaps)

    def _arm(self) -> None:
        self._captured = {}
        self._heatmap_outputs = {}
        if "activations" in self._log:
            for name, module in self._modules:
                self._forward_hooks.append(module.register_forward_hook(self._activation_hook(name)))
        for entry in self._heatmaps:
            if entry.kind == "output":
                self._forward_hooks.append(entry.target.register_forward_hook(self._output_hook(entry.name)))

    def _disarm(self) -> None:
        for hook in self._forward_hooks:
            hook.remove()
        self._forward_hooks = []

    def _activation_hook(self, name: str) -> Callable[..., None]:
        torch = _torch()
        channel_first = _channel_first_types(torch)

        def hook(module: Any, inputs: Any, output: Any) -> None:
            if name in self._captured or not module.training or not torch.is_grad_enabled():
                return
            out = output
            while isinstance(out, (tuple, list)) and out:
                out = out[0]
            if not isinstance(out, torch.Tensor) or not out.is_floating_point() or out.numel() == 0:
                return
            with torch.no_grad():
                x = out.detach()
                dim = 1 if x.dim() >= 4 or (x.dim() >= 2 and isinstance(module, channel_first)) else x.dim() - 1
                others = tuple(d for d in range(x.dim()) if d != dim)
                alive = x.ne(0).any(dim=others) if others else x.ne(0)
                dead = alive.logical_not_().sum().to(torch.float32) / alive.numel()
                self._captured[name] = (_sample(x), dead)

        return hook

    def _log_activations(self, step: int, state: _OptimizerState) -> None:
        torch = _torch()
        self._disarm()
        captured, self._captured = self._captured, {}
        if not captured:
            return
        names = list(captured)
        fractions = torch.stack([captured[n][1] for n in names]).tolist()
        self._writer.distributions(
            self._prefix + "activations",
            {n: captured[n][0] for n in names},
            step=step,
            extras={"dead_fraction": dict(zip(names, fractions))},
        )

    # ------------------------------------------------------------------ heatmaps

    def _output_hook(self, name: str) -> Callable[..., None]:
        torch = _torch()

        def hook(module: Any, inputs: Any, output: Any) -> None:
            if name in self._heatmap_outputs or not module.training or not torch.is_grad_enabled():
                return
            out = _first_tensor(torch, output)
            if out is None:
                self._safely(_raise, TypeError(f"the output of {name!r} holds no tensor to draw"))
                return

            def reduce() -> None:  # reduced now (only this sample leaves the device), written at the step
                layout = "channels" if out.dim() == 4 else "auto"
                with torch.no_grad():
                    self._heatmap_outputs[name] = _heatmap.from_input(out, layout=layout, argument=name)

            self._safely(reduce)

        return hook

    def _log_heatmaps(self, step: int, state: _OptimizerState, grad_scale: Any) -> None:
        """The heatmaps of a logging step: values once per step, each gradient with the optimizer
        that holds its parameter, module outputs captured by the armed forward hooks."""
        write = self._writer.tensor_heatmap
        tag = self._prefix + "heatmaps/"
        first = self._heatmap_step != step
        self._heatmap_step = step
        in_state = {id(p) for p in state.params}
        for entry in self._heatmaps:
            if entry.kind == "value" and first:
                self._safely(lambda e=entry: write(tag + e.name, e.target, step=step))
            elif entry.kind == "grad" and id(entry.target) in in_state and entry.target.grad is not None:
                grad = entry.target.grad if grad_scale is None else entry.target.grad / grad_scale
                self._safely(lambda e=entry, g=grad: write(tag + e.name, g, step=step))
        if first and any(entry.kind == "output" for entry in self._heatmaps):
            self._disarm()
            outputs, self._heatmap_outputs = self._heatmap_outputs, {}
            for name, data in outputs.items():
                self._safely(lambda n=name, d=data: write(tag + n, d, step=step))


@dataclasses.dataclass(frozen=True)
class _HeatmapEntry:
    name: str  # as given: "fc1.weight", "fc1.weight.grad", "fc1:output"
    kind: str  # "value", "grad" or "output"
    target: Any  # the parameter, or the module


def _resolve_heatmaps(entries: tuple[str, ...], params: dict[str, Any], modules: dict[str, Any]) -> list[_HeatmapEntry]:
    """The heatmap entries of ``watch``; ``ValueError`` listing the valid names for an unknown one."""
    resolved = []
    for entry in entries:
        if entry in params:
            resolved.append(_HeatmapEntry(entry, "value", params[entry]))
        elif entry.endswith(".grad") and entry[: -len(".grad")] in params:
            resolved.append(_HeatmapEntry(entry, "grad", params[entry[: -len(".grad")]]))
        elif entry.endswith(":output") and entry[: -len(":output")] in modules:
            resolved.append(_HeatmapEntry(entry, "output", modules[entry[: -len(":output")]]))
        else:
            import difflib

            valid = [*params, *(f"{n}.grad" for n in params), *(f"{n}:output" for n in modules)]
            close = difflib.get_close_matches(entry, valid, n=3)
            shown = ", ".join(valid[:_LISTED_NAMES]) + (
                f", … ({len(valid) - _LISTED_NAMES} more)" if len(valid) > _LISTED_NAMES else ""
            )
            raise ValueError(
                f"heatmaps names {entry!r}, which is neither a parameter ('<param>'), its gradient "
                f"('<param>.grad') nor a module's output ('<module>:output') of the model"
                + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
                + f" Valid names: {shown}"
            )
    return resolved


#: How many valid names an unknown heatmap entry's error lists.
_LISTED_NAMES = 200


def _named_modules(models: list[tuple[str, Any]]) -> dict[str, Any]:
    """Every named submodule (not the root) by the name ``heatmaps`` uses: ``"fc1"``, ``"0.fc1"``."""
    return {
        model_prefix + _clean(name): module
        for model_prefix, model in models
        for name, module in model.named_modules()
        if name
    }


def _named_parameters(models: list[tuple[str, Any]]) -> dict[str, Any]:
    """The parameters by their watched names (tied weights once, under their first name)."""
    params: dict[str, Any] = {}
    seen: set[int] = set()
    for model_prefix, model in models:
        for name, p in model.named_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                params[model_prefix + _clean(name)] = p
    return params


def _raise(error: Exception) -> None:
    raise error


def _first_tensor(torch: Any, output: Any) -> Any:
    """The tensor a module returned (the first of a tuple, list or mapping), or ``None``."""
    while isinstance(output, (tuple, list)) and output:
        output = output[0]
    if isinstance(output, dict) and output:
        output = next(iter(output.values()))
    return output if isinstance(output, torch.Tensor) else None


def _check_heatmaps(heatmaps: Any) -> tuple[str, ...]:
    if isinstance(heatmaps, str):
        heatmaps = (heatmaps,)
    try:
        entries = tuple(heatmaps)
    except TypeError:
        raise TypeError(
            f"heatmaps must be a list of names such as ['fc1.weight', 'fc1.weight.grad', 'fc1:output'], got {heatmaps!r}"
        ) from None
    for entry in entries:
        if not isinstance(entry, str):
            raise TypeError(f"heatmaps must hold str names, got {entry!r} ({type(entry).__name__})")
    return tuple(dict.fromkeys(entries))


def _capture_inputs(model: Any, args: tuple, kwargs: dict) -> Any:
    """A forward call's arguments in the form ``Writer.graph`` takes: a tuple of positional
    arguments, or a dict of keyword arguments (positional ones bound to their names)."""
    if not kwargs:
        return tuple(args)
    if not args:
        return dict(kwargs)
    forward = getattr(model, "_orig_mod", model).forward
    bound = inspect.signature(forward).bind(*args, **kwargs)
    named: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            raise ValueError("forward takes *args and keyword arguments together; log its graph with Writer.graph")
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)  # **kwargs: each keyword under its own name
        else:
            named[name] = value
    return named


def _steps_taken(optimizer: Any, params: list[Any]) -> int:
    """The steps an optimizer has already taken (a resumed run: Adam-like optimizers keep a
    ``step`` per parameter in their state, restored from a checkpoint), so that logging goes on
    from there instead of writing step 0 again. 0 for optimizers that keep no count."""
    for p in params:
        step = optimizer.state.get(p, {}).get("step") if hasattr(optimizer, "state") else None
        if step is not None:
            try:
                return int(step)
            except (TypeError, ValueError, RuntimeError):
                return 0
    return 0


def _channel_first_types(torch: Any) -> tuple[type, ...]:
    nn = torch.nn
    return (
        nn.modules.conv._ConvNd,
        nn.modules.batchnorm._BatchNorm,
        nn.modules.instancenorm._InstanceNorm,
        nn.GroupNorm,
        nn.modules.pooling._MaxPoolNd,
        nn.modules.pooling._AvgPoolNd,
        nn.modules.pooling._AdaptiveAvgPoolNd,
        nn.modules.pooling._AdaptiveMaxPoolNd,
    )


def _is_compiled(torch: Any, model: Any) -> bool:
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")  # not imported: nothing is compiled
    optimized = getattr(eval_frame, "OptimizedModule", ())
    return any(isinstance(m, optimized) or getattr(m, "_compiled_call_impl", None) is not None for m in model.modules())


def _check_log(log: Any) -> tuple[str, ...]:
    if isinstance(log, str):
        log = (log,)
    try:
        kinds = tuple(log)
    except TypeError:
        raise TypeError(f"log must be a sequence of names out of {KINDS}, got {log!r}") from None
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"log names {kind!r}; choose from {KINDS}")
    if not kinds:
        raise ValueError(f"log is empty; name at least one of {KINDS}")
    return tuple(dict.fromkeys(kinds))


def _is_empty(log: Any) -> bool:
    try:
        return len(log) == 0
    except TypeError:
        return False


def _as_writer(writer: Any) -> tuple[Any, bool]:
    """``(modellens writer, whether watch opened it)``."""
    if hasattr(writer, "distributions") and callable(writer.distributions):
        return writer, False
    from modellens._writer import Writer

    try:
        return Writer(writer), True
    except TypeError:
        raise TypeError(
            "writer must be a modellens.Writer, a log directory, or a torch/tensorboardX SummaryWriter; "
            f"got {type(writer).__name__}"
        ) from None


def watch(
    model: Any,
    writer: Any,
    *,
    every: int = 100,
    log: Sequence[str] | str = ("weights", "gradients", "updates"),
    exact: bool = False,
    step_fn: Callable[[], int] | None = None,
    prefix: str = "",
    graph: bool = True,
    heatmaps: Sequence[str] | str = (),
) -> WatchHandle:
    """Logs distributions of ``model``'s weights, gradients and updates every ``every``
    optimizer steps (steps 0, every, 2·every, …), with no change to the training loop.

    ``model``: a ``torch.nn.Module`` (``torch.compile``d ones too) or a list of them (their
    parameter names then start with ``"0."``, ``"1."``…). Every optimizer that holds its
    parameters is followed, including optimizers created later. ``writer``: a
    ``modellens.Writer`` (or a log directory / SummaryWriter to open one on). ``log``: any of
    ``"weights"``, ``"gradients"``, ``"updates"``, ``"activations"``; each is written under
    that tag, after ``prefix`` (e.g. ``"encoder/"`` when watching several models into one run).
    ``exact``: updates over whole tensors instead of a ``SAMPLE``-value strided sample.
    ``step_fn``: returns the step to write (default: the optimizer's step count).
    ``graph``: log each model's structure once, at the first optimizer step, captured on the
    first batch the model was called with (tag ``prefix + "model"``; ``model_0``, ``model_1``…
    for a list); ``False`` to skip it.
    ``heatmaps``: tensors to log as ``Writer.tensor_heatmap`` at each logging step, under the
    tag ``prefix + "heatmaps/<entry>"``: a parameter's name (``"fc1.weight"``: its value),
    ``"<param>.grad"`` (its gradient as the optimizer applies it, as ``"gradients"`` sees it)
    or ``"<module>:output"`` (the module's output in the first training-mode forward pass of
    the step, reduced inside a forward hook registered only for logging steps; a 4-D output is
    drawn as the channels of its first sample). Unknown names raise ``ValueError`` listing the
    valid ones, before any hook is registered. With ``heatmaps``, ``log`` may be empty.
    Returns a handle whose ``remove()`` removes every hook.
    """
    torch = _torch()
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if not models:
        raise ValueError("model is an empty list; give a torch.nn.Module or a list of them")
    for m in models:
        if not isinstance(m, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module or a list of them, got {type(m).__name__}")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive int (optimizer steps between logs), got {every!r}")
    heatmap_entries = _check_heatmaps(heatmaps)
    kinds = () if heatmap_entries and not isinstance(log, str) and _is_empty(log) else _check_log(log)
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be True or False, got {exact!r}")
    if step_fn is not None and not callable(step_fn):
        raise TypeError(f"step_fn must be a callable returning the step, got {type(step_fn).__name__}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str such as 'encoder/', got {type(prefix).__name__}")
    if "activations" in kinds and any(_is_compiled(torch, m) for m in models):
        warnings.warn(
            "modellens.torch.watch: activations are not recorded for torch.compile'd modules (compiled "
            "graphs do not run forward hooks added later); watch the module before compiling it, or log "
            "activations from an uncompiled run",
            stacklevel=2,
        )
        kinds = tuple(k for k in kinds if k != "activations") or ("weights",)
    if any(entry.endswith(":output") for entry in heatmap_entries) and any(_is_compiled(torch, m) for m in models):
        warnings.warn(
            "modellens.torch.watch: module outputs are not recorded for torch.compile'd modules (compiled "
            "graphs do not run forward hooks added later); watch the module before compiling it",
            stacklevel=2,
        )
        heatmap_entries = tuple(e for e in heatmap_entries if not e.endswith(":output"))
    named = [("" if len(models) == 1 else f"{i}.", m) for i, m in enumerate(models)]
    if not any(True for _, m in named for _ in m.parameters()):
        raise ValueError("model has no parameters to watch")
    watched = {id(p) for _, m in named for p in m.parameters()}
    if any(not h._removed and watched & set(h._names_by_id) for h in _live_handles):
        warnings.warn(
            "modellens.torch.watch: these parameters are already watched (a cell run twice?); every step "
            "is then logged twice. Call remove() on the earlier handle first.",
            stacklevel=2,
        )
    if heatmap_entries:  # unknown names are refused before a writer is opened or a hook registered
        _resolve_heatmaps(heatmap_entries, _named_parameters(named), _named_modules(named))
    sink, owns_writer = _as_writer(writer)
    if not isinstance(graph, bool):
        raise TypeError(f"graph must be True or False, got {graph!r}")
    if heatmap_entries and not callable(getattr(sink, "tensor_heatmap", None)):
        raise TypeError(f"heatmaps needs a writer with tensor_heatmap (a modellens.Writer), got {type(sink).__name__}")
    handle = WatchHandle(named, sink, every, kinds, exact, step_fn, prefix, owns_writer, graph, heatmap_entries)
    _live_handles.add(handle)
    return handle


# ---------------------------------------------------------------------------- attention


def attention(
    model: Any, *, batch_index: int | None = 0, modules: str | Sequence[str] | None = None
) -> AttentionCapture:
    """Captures the per-head attention weights of every ``torch.nn.MultiheadAttention`` in
    ``model`` (also those inside ``nn.TransformerEncoderLayer``/``DecoderLayer``, which ask for no
    weights) during the forward passes made inside the ``with`` block::

        with modellens.torch.attention(model) as captured:
            model(x)
        writer.attention("encoder/self", captured.weights, tokens=tokens, step=step)

    A forward pre-hook makes each call compute ``need_weights=True,
    average_attn_weights=False`` (given by keyword or positionally); a forward hook reduces the
    weights into a ``modellens.attention.Collector`` at once, so a long sequence never holds
    every layer's float maps, and hands the caller the output it asked for (weights ``None``,
    or averaged over heads). Outputs are the same up to float rounding (torch computes
    attention with explicit weights instead of its fused kernel while hooked). A
    ``TransformerEncoder``'s nested-tensor fast path (eval mode with a padding mask) is turned
    off inside the block, so its padded positions hold computed values instead of zeros.

    ``batch_index``: the sample of a batched input to keep (``None``: the batch must be 1).
    ``modules``: capture only the modules with these names or under them (``"encoder"``,
    ``["decoder.layers.0.self_attn"]``); default all. Several stacks (``nn.Transformer``'s
    encoder, decoder and cross-attention) come as ``captured.groups``, see ``AttentionCapture``.
    Capture in eval mode for the model's attention: in training mode torch applies dropout to
    the weights it returns. Every hook is removed on leaving the block, also on error.
    """
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if batch_index is not None and (isinstance(batch_index, bool) or not isinstance(batch_index, int)):
        raise TypeError(f"batch_index must be an int (the sample to keep) or None, got {batch_index!r}")
    if modules is not None:
        modules = (modules,) if isinstance(modules, str) else tuple(modules)
        if not modules or not all(isinstance(m, str) for m in modules):
            raise TypeError(f"modules must be a module name or a list of them, such as 'encoder', got {modules!r}")
    return AttentionCapture(model, batch_index, modules)
