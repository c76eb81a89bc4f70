"""The structure graph of a ``torch.nn.Module``: module calls, the torch ops between them and
the dataflow, recorded in one eager forward on real inputs; or, without inputs, the module tree.

With inputs (``capture="calls"``) every module of the model gets a forward pre-hook and an
always-called forward hook, and a ``TorchFunctionMode`` records every torch-level call that
returns a tensor. Dataflow follows tensor identity (a ``WeakIdKeyDictionary``: an entry lives
as long as its tensor): each tensor's producer is the newest atom that output it, so a
container's output stays with the op inside that made it, while in-place ops and modules that
return an input unchanged (``nn.Identity``) become its newer producer. The capture keeps no
tensor alive, so it needs no more memory than the forward itself. Edges join atoms only: ops,
inputs, outputs, and module calls with no op and no module call inside.

The tree comes from the qualified module names, the nodes from the calls: one module node per
call (a second call of a module is ``name@1``), modules never called (``ModuleList`` containers,
``nn.MultiheadAttention.out_proj``) as nodes with ``call=-1``, and one op node per recorded op.
The model itself has no node: its children, its inputs, its outputs and the ops of its own
forward sit at the top. Should the model hold parameters of its own (in no submodule), one
top-level module node named after its class shows them, so that every parameter has a node.

Parameters are counted once, for their first owner in ``named_modules()`` order (the name
``named_parameters()`` gives them); a later owner of a tied parameter counts it as ``tied``.
A node's totals count every parameter of its subtree once.

The capture leaves the model as it was: no gradients, forked RNG, buffers restored in place,
every module's train/eval flag restored, every hook removed. If the forward raises, a
``ValueError`` (``TypeError`` when the call does not fit the signature) says so and names what to
pass, with the user's error as its cause; nothing is written.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from modellens.graph.wire import Graph, GraphBuilder, Shape, count_of, were

ATTRS_CHARS = 200
_BINARY = {"add", "sub", "mul", "div", "matmul", "truediv", "floordiv", "mod", "pow"}
_BINARY |= {"and", "or", "xor", "lshift", "rshift"}
_RENAMES = {
    "truediv": "div",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "invert": "bitwise_not",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "bitwise_left_shift",
    "rshift": "bitwise_right_shift",
}
_HIERARCHY_NOTE = "no inputs were given: the module tree and its parameters, without calls, ops or dataflow"


def capture(model: torch.nn.Module, inputs: Any = None) -> Graph:
    """The graph of ``model``: with ``inputs`` (a tensor, a tuple or list of positional
    arguments, or a dict of keyword arguments) one forward is recorded; without, the module
    tree with its parameters."""
    model, param_prefix = _unwrapped(model)
    arguments = None if inputs is None else _arguments(inputs)
    if arguments is not None and isinstance(model, torch.jit.ScriptModule):
        raise TypeError(
            "a ScriptModule runs no forward hooks, so its calls cannot be recorded; pass the nn.Module "
            "before torch.jit.script, or inputs=None for its module tree"
        )
    draft = _Draft(model)
    if arguments is None:
        draft.add_own_params(call=-1)
        for path in draft.path_module:
            draft.at(path)
        graph = draft.build("hierarchy", [_HIERARCHY_NOTE, *draft.notes(calls=False)])
    else:
        graph = _record(model, draft, *arguments)
    return graph.with_param_prefix(param_prefix) if param_prefix else graph


def _unwrapped(model: torch.nn.Module) -> tuple[torch.nn.Module, str]:
    """The module to record, through ``torch.compile`` and (Distributed)DataParallel wrappers
    (recording through DDP would run its collectives on one rank only), and the prefix that
    the wrappers put before parameter names (``module.``), which Training health logs."""
    prefix = ""
    while True:
        if isinstance(getattr(model, "_orig_mod", None), torch.nn.Module):  # torch.compile: no prefix
            model = model._orig_mod
        elif isinstance(model, (torch.nn.DataParallel, torch.nn.parallel.DistributedDataParallel)):
            model, prefix = model.module, prefix + "module."
        else:
            return model, prefix


def _arguments(inputs: Any) -> tuple[tuple, dict[str, Any]]:
    if isinstance(inputs, torch.Tensor):
        return (inputs,), {}
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs), {}
    if isinstance(inputs, Mapping):
        if not all(isinstance(key, str) for key in inputs):
            raise TypeError(
                "inputs as a dict are the forward's keyword arguments, so its keys must be parameter "
                f"names (str), such as {{'input_ids': ids}}; got the keys {list(inputs)!r}"
            )
        return (), dict(inputs)
    raise TypeError(
        "inputs must be a torch.Tensor (the one positional argument), a tuple or list of positional "
        "arguments, or a dict of keyword arguments such as {'input_ids': ids}; "
        f"got {type(inputs).__module__}.{type(inputs).__name__}"
    )


# ---------------------------------------------------------------------------- modules


@dataclass
class _Module:
    """What every node of one module shows, and how often the module was called."""

    type: str
    attrs: str
    params: int = 0
    frozen: int = 0
    tied: int = 0
    total_params: int = 0
    total_frozen: int = 0
    param_names: list[str] = field(default_factory=list)
    calls: int = 0
    first_call: int = -1  # the draft node of its first call
    first_node: int = -1  # the first draft node that shows it


def _modules(model: torch.nn.Module) -> dict[int, _Module]:
    """A record per module (by ``id``): own parameters counted for their first owner."""
    records: dict[int, _Module] = {}
    owned: set[int] = set()
    for path, module in model.named_modules():
        record = records[id(module)] = _Module(_type_name(module), _attrs(module))
        for name, param in module._parameters.items():
            if param is None:
                continue
            if id(param) in owned:
                record.tied += param.numel()
                continue
            owned.add(id(param))
            full = f"{path}.{name}" if path else name
            record.param_names.append(full.replace("_orig_mod.", ""))  # as watch names compiled submodules
            record.params += param.numel()
            record.frozen += 0 if param.requires_grad else param.numel()
    for module, (total, frozen) in _subtree_params(model):
        records[id(module)].total_params, records[id(module)].total_frozen = total, frozen
    return records


def _type_name(module: torch.nn.Module) -> str:
    """The class name; a scripted module's original one, not ``RecursiveScriptModule``."""
    return getattr(module, "original_name", None) or type(module).__name__


def _attrs(module: torch.nn.Module) -> str:
    try:
        text = module.extra_repr()
    except Exception:  # a user's extra_repr must not stop the capture
        return ""
    return text if len(text) <= ATTRS_CHARS else text[: ATTRS_CHARS - 1] + "…"


def _subtree_params(model: torch.nn.Module) -> Iterator[tuple[torch.nn.Module, tuple[int, int]]]:
    """Per module: the size of all and of the frozen parameters of its subtree, each once."""
    subtree: dict[int, set[int]] = {}
    sizes: dict[int, tuple[int, bool]] = {}
    for module in _post_order(model):
        ids = set()
        for param in module._parameters.values():
            if param is not None:
                ids.add(id(param))
                sizes[id(param)] = (param.numel(), not param.requires_grad)
        for child in module._modules.values():
            if child is not None:
                ids |= subtree[id(child)]
        subtree[id(module)] = ids
        yield module, (sum(sizes[i][0] for i in ids), sum(sizes[i][0] for i in ids if sizes[i][1]))


def _post_order(model: torch.nn.Module) -> list[torch.nn.Module]:
    """Every module once, children before parents (iterative: models nest deeply)."""
    order: list[torch.nn.Module] = []
    seen: set[int] = set()
    stack: list[tuple[torch.nn.Module, bool]] = [(model, False)]
    while stack:
        module, children_done = stack.pop()
        if children_done:
            order.append(module)
        elif id(module) not in seen:
            seen.add(id(module))
            stack.append((module, True))
            stack.extend((child, False) for child in reversed(module._modules.values()) if child is not None)
    return order


# ---------------------------------------------------------------------------- the draft


@dataclass
class _Node:
    kind: str
    name: str
    type: str
    parent: int
    call: int
    record: _Module | None
    inputs: list[Shape] = field(default_factory=list)
    outputs: list[Shape] = field(default_factory=list)


class _Draft:
    """The graph in the making: nodes, edges, and where each module path has its node."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model_name = _type_name(model)
        self.records = _modules(model)
        self.root = self.records[id(model)]
        self.path_module: dict[str, torch.nn.Module] = {}
        self.aliases: dict[int, list[str]] = {}
        for path, module in model.named_modules(remove_duplicate=False):
            if path:
                self.path_module[path] = module
                self.aliases.setdefault(id(module), []).append(path)
        self.nodes: list[_Node] = []
        self.edges: list[tuple[int, int, Shape]] = []
        self.path_node: dict[str, int] = {}

    def add(self, kind: str, name: str, type: str, parent: int, call: int = 0, record: _Module | None = None) -> int:
        self.nodes.append(_Node(kind, name, type, parent, call, record))
        if record is not None and record.first_node < 0:
            record.first_node = len(self.nodes) - 1
        return len(self.nodes) - 1

    def module(self, path: str, parent: int, call: int = -1) -> int:
        """A module node for ``path`` (a call, or ``call=-1`` for a module shown uncalled)."""
        record = self.records[id(self.path_module[path])]
        node = self.add("module", path.rpartition(".")[2], record.type, parent, call, record)
        self.path_node.setdefault(path, node)
        return node

    def at(self, path: str) -> int:
        """The node of module ``path``, made uncalled (with its missing ancestors) if need be."""
        missing = []
        while path and path not in self.path_node:
            missing.append(path)
            path = path.rpartition(".")[0]
        node = self.path_node.get(path, -1)
        for ancestor in reversed(missing):
            node = self.module(ancestor, node)
        return node

    def add_own_params(self, call: int) -> None:
        """A top-level node for the parameters the model holds in no submodule."""
        if self.root.params:
            self.add("module", self.root.type, self.root.type, -1, call, self.root)

    def notes(self, calls: bool) -> list[str]:
        notes = []
        uncalled = sum(1 for record in self.records.values() if record.calls == 0 and record is not self.root)
        if calls and uncalled:
            notes.append(f"{were(uncalled, 'module')} never called (their parameters are shown, greyed)")
        if self.root.params:
            own = count_of(self.root.params, "parameter")
            notes.append(f"{self.root.type} holds {own} in no submodule (shown as the top-level node {self.root.type})")
        return notes

    def build(self, capture: str, notes: list[str]) -> Graph:
        builder = GraphBuilder("torch", self.model_name)
        for index, node in enumerate(self.nodes):
            counts = _counts(index, node)
            if node.record is self.root:  # the node of the model's own parameters: those only
                counts.update(total_params=self.root.params, total_frozen=self.root.frozen)
            builder.add(node.kind, node.name, node.type, parent=node.parent, call=node.call, **counts)
            builder.set_shapes(index, node.inputs, node.outputs)
        for src, dst, shape in self.edges:
            builder.edge(src, dst, shape)
        total, frozen = self.root.total_params, self.root.total_frozen
        return builder.build(capture, notes, {"params": total, "trainable": total - frozen, "frozen": frozen})


def _counts(index: int, node: _Node) -> dict[str, Any]:
    """The builder's call count, parameters and attributes of one draft node."""
    record = node.record
    if record is None:
        return {}
    shown = record.first_call if record.first_call >= 0 else record.first_node
    return {
        "calls": record.calls,
        "params": record.params,
        "frozen": record.frozen,
        "total_params": record.total_params,
        "total_frozen": record.total_frozen,
        "tied": record.tied,
        "attrs": record.attrs,
        "param_names": record.param_names if index == shown else (),
    }


# ---------------------------------------------------------------------------- recording


@dataclass
class _Frame:
    """One module call in progress; ``node=-1`` is the model's own forward."""

    node: int
    prefix: str  # the module path the call was placed at, plus "."; "" for the model
    module: torch.nn.Module
    sources: list[tuple[int | None, Shape]] = field(default_factory=list)  # producers of its inputs
    atom: bool = True  # no op and no module call inside (so far)


class _Recorder(TorchFunctionMode):
    """Records module calls (through hooks) and torch ops (as the active mode) into a draft."""

    def __init__(self, model: torch.nn.Module, draft: _Draft) -> None:
        super().__init__()
        self.draft = draft
        self.fixed = {id(p) for p in model.parameters()} | {id(b) for b in model.buffers()}
        # tensor -> the draft node that made it, by identity; an entry goes with its tensor, so
        # the capture holds no activation a plain forward would not, and a reused id is no match
        self.producer: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.stack = [_Frame(-1, "", model)]
        self.containers: dict[tuple[int, str], int] = {}
        self.orphans = 0
        self.busy = False  # inside a hook: the hook's own tensor calls are not the model's

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if not self.busy:
            self._op(func, args, kwargs, result)
        return result

    def _op(self, func: Callable, args: tuple, kwargs: dict, result: Any) -> None:
        outputs = _tensors(result)
        if not outputs and func is torch.Tensor.__setitem__:
            outputs = _tensors(args[:1])  # x[i] = v changes x in place
        if not outputs:
            return  # metadata (size, dim, dtype) and other calls without a tensor
        frame = self.stack[-1]
        frame.atom = False
        name = _op_name(func)
        node = self.draft.add("op", name, name, frame.node)
        inputs = _tensors((args, kwargs))
        self.draft.nodes[node].inputs = shapes = [_shape(t) for t in inputs]
        self.draft.nodes[node].outputs = [_shape(t) for t in outputs]
        for tensor, shape in zip(inputs, shapes):
            if id(tensor) not in self.fixed:
                self._link(self.producer.get(tensor), node, shape)
        for tensor in outputs:
            self._claim(tensor, node)

    def _link(self, src: int | None, dst: int, shape: Shape) -> None:
        if src is None:
            self.orphans += 1
        else:
            self.draft.edges.append((src, dst, shape))

    def _claim(self, tensor: torch.Tensor, node: int) -> None:
        self.producer[tensor] = node

    def pre(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            self._enter(module, (args, kwargs))
        finally:
            self.busy = False

    def post(self, module: torch.nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        if self.busy or self.stack[-1].module is not module:
            return
        self.busy = True
        try:
            self._exit(output)
        finally:
            self.busy = False

    def _enter(self, module: torch.nn.Module, arguments: Any) -> None:
        self.stack[-1].atom = False
        frame, path = self._placement(module)
        parent = self._containers(frame, path)
        record = self.draft.records[id(module)]
        node = self.draft.module(path, parent, call=record.calls)
        record.calls += 1
        if record.first_call < 0:
            record.first_call = node
        tensors = _tensors(arguments)
        self.draft.nodes[node].inputs = shapes = [_shape(t) for t in tensors]
        sources = [(self.producer.get(t), s) for t, s in zip(tensors, shapes) if id(t) not in self.fixed]
        self.stack.append(_Frame(node, path + ".", module, sources))

    def _placement(self, module: torch.nn.Module) -> tuple[_Frame, str]:
        """The innermost call in progress whose path is a prefix of one of the module's paths."""
        aliases = self.draft.aliases[id(module)]
        for frame in reversed(self.stack[1:]):
            for path in aliases:
                if path.startswith(frame.prefix):
                    return frame, path
        return self.stack[0], aliases[0]  # the model's own forward

    def _containers(self, frame: _Frame, path: str) -> int:
        """The node under which ``path`` goes: ``frame``'s call, or the (uncalled) containers
        between the two, made once per enclosing call."""
        parent, at = frame.node, frame.prefix
        for part in path[len(frame.prefix) :].split(".")[:-1]:
            at += part
            key = (frame.node, at)
            if key not in self.containers:
                self.containers[key] = self.draft.module(at, parent)
            parent = self.containers[key]
            at += "."
        return parent

    def _exit(self, output: Any) -> None:
        frame = self.stack.pop()
        tensors = _tensors(output)
        self.draft.nodes[frame.node].outputs = [_shape(t) for t in tensors]
        if frame.atom:  # else its inputs and outputs flow through the atoms inside
            for src, shape in frame.sources:
                self._link(src, frame.node, shape)
            for tensor in tensors:
                self._claim(tensor, frame.node)

    def add_inputs(self, named: Iterator[tuple[str, torch.Tensor]]) -> int:
        count = 0
        for name, tensor in named:
            node = self.draft.add("input", name, "Input", -1)
            self.draft.nodes[node].outputs = [_shape(tensor)]
            if tensor not in self.producer:
                self._claim(tensor, node)
            count += 1
        return count

    def add_outputs(self, named: Iterator[tuple[str, torch.Tensor]]) -> None:
        for name, tensor in named:
            node = self.draft.add("output", name, "Output", -1)
            self.draft.nodes[node].inputs = [_shape(tensor)]
            if id(tensor) not in self.fixed:
                self._link(self.producer.get(tensor), node, _shape(tensor))


def _record(model: torch.nn.Module, draft: _Draft, args: tuple, kwargs: dict[str, Any]) -> Graph:
    """One forward under the recorder, then the graph; nothing of the model changes."""
    draft.root.calls = 1
    draft.add_own_params(call=0)
    recorder = _Recorder(model, draft)
    inputs = recorder.add_inputs(_named_inputs(model, args, kwargs))
    with _preserved(model, _tensors((args, kwargs))), _hooked(model, recorder):
        with recorder:
            try:
                output = model(*args, **kwargs)
            except Exception as error:
                raise _forward_failed(model, error) from error
    recorder.add_outputs(_named_tensors(output, "" if _is_record(output) else "output"))
    for path, module in model.named_modules():
        if path and draft.records[id(module)].calls == 0:
            draft.at(path)
    notes = [f"inputs had {count_of(inputs, 'tensor')}", *draft.notes(calls=True)]
    if recorder.orphans:
        notes.append(
            f"{count_of(recorder.orphans, 'input')} of ops or modules came from outside the capture "
            "(not a model input, parameter, buffer or recorded op), so they have no edge"
        )
    return draft.build("calls", notes)


def _forward_failed(model: torch.nn.Module, error: Exception) -> Exception:
    """The error to raise when the forward fails on the given inputs (the user's error is its
    cause): a ``TypeError`` for a call that does not fit the signature, else a ``ValueError``."""
    kind = TypeError if isinstance(error, TypeError) else ValueError
    return kind(
        f"{_type_name(model)}.forward failed on the given inputs ({type(error).__name__}: {error}); pass "
        "inputs its forward accepts: a tensor, a tuple of positional arguments or a dict of keyword arguments"
    )


@contextmanager
def _preserved(model: torch.nn.Module, inputs: list[torch.Tensor]) -> Iterator[None]:
    """No gradients and a forked RNG inside; buffers and train/eval flags restored after."""
    modes = [(module, module.training) for module in model.modules()]
    with ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        _fork_rng(stack, [*model.parameters(), *model.buffers(), *inputs])
        buffers = [
            (module, name, buffer, buffer.clone())
            for module in model.modules()
            for name, buffer in module._buffers.items()
            if buffer is not None
        ]
        try:
            yield
        finally:
            for module, name, buffer, saved in buffers:  # also a buffer the forward replaced
                buffer.copy_(saved)
                module._buffers[name] = buffer
            for module, training in modes:
                module.training = training


def _fork_rng(stack: ExitStack, tensors: list[torch.Tensor]) -> None:
    """Forks the CPU generator and those of every accelerator the tensors live on."""
    devices: dict[str, set[int]] = {}
    for tensor in tensors:
        if tensor.device.type not in ("cpu", "meta"):
            devices.setdefault(tensor.device.type, set()).add(tensor.device.index or 0)
    stack.enter_context(torch.random.fork_rng(devices=[]))
    for device_type, indices in devices.items():
        stack.enter_context(torch.random.fork_rng(devices=sorted(indices), device_type=device_type))


@contextmanager
def _hooked(model: torch.nn.Module, recorder: _Recorder) -> Iterator[None]:
    handles = []
    try:
        for module in model.modules():
            if module is not model:
                handles.append(module.register_forward_pre_hook(recorder.pre, with_kwargs=True))
                handles.append(module.register_forward_hook(recorder.post, with_kwargs=True, always_call=True))
        yield
    finally:
        for handle in handles:
            handle.remove()


# ---------------------------------------------------------------------------- values


def _tensors(value: Any, out: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
    """Every tensor in ``value``, through dicts, lists, tuples and dataclasses."""
    out = [] if out is None else out
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _tensors(item, out)
    elif isinstance(value, Mapping):
        for item in value.values():
            _tensors(item, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            _tensors(getattr(value, item.name), out)
    return out


def _is_record(value: Any) -> bool:
    """A dict, Hugging Face ``ModelOutput`` or dataclass: its tensors are named by key."""
    return isinstance(value, Mapping) or (dataclasses.is_dataclass(value) and not isinstance(value, type))


def _named_tensors(value: Any, name: str) -> Iterator[tuple[str, torch.Tensor]]:
    """``(name, tensor)`` for every tensor in ``value``: ``x``, ``x_0``, ``x_key``."""
    if isinstance(value, torch.Tensor):
        yield name, value
        return
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):
        items = zip(value._fields, value) if hasattr(value, "_fields") else enumerate(value)
    elif _is_record(value):
        items = ((item.name, getattr(value, item.name)) for item in dataclasses.fields(value))
    else:
        return  # None, numbers, strings, caches: no tensors to show
    for key, item in items:
        yield from _named_tensors(item, f"{name}_{key}" if name else str(key))


def _named_inputs(model: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> Iterator[tuple[str, torch.Tensor]]:
    """The input tensors, named by the forward's parameters (``input_0`` when it has none)."""
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        parameters = []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters if p.kind in positional]
    for index, value in enumerate(args):
        yield from _named_tensors(value, names[index] if index < len(names) else f"input_{index}")
    for key, value in kwargs.items():
        yield from _named_tensors(value, key)


_DTYPES: dict[torch.dtype, str] = {}


def _shape(tensor: torch.Tensor) -> Shape:
    dtype = tensor.dtype
    if dtype not in _DTYPES:
        _DTYPES[dtype] = str(dtype).removeprefix("torch.")
    return _DTYPES[dtype], tuple(tensor.shape)


def _op_name(func: Callable) -> str:
    """``add`` for ``torch.add``, ``Tensor.add`` and ``Tensor.__add__``; ``T`` for ``x.T``."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "__get__":  # a tensor property, such as x.T or x.mT
        name = getattr(getattr(func, "__self__", None), "__name__", name)
    if not (name.startswith("__") and name.endswith("__") and len(name) > 4):
        return name
    name, suffix = name[2:-2], ""
    if name not in _BINARY and name[:1] in ("i", "r") and name[1:] in _BINARY:
        name, suffix = name[1:], "_" if name[0] == "i" else ""
    return _RENAMES.get(name, name) + suffix
