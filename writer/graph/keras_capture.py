"""The structure of a Keras 3 model as a ``wire.Graph``.

Three captures, chosen by what the model offers:

- **symbolic** (Functional and built Sequential models; ``inputs`` is not needed and not used):
  the live DAG, walked as ``keras.utils.model_to_dot`` does. Nodes are ``model._operations``
  (layers, and the ``keras.ops`` applied to symbolic tensors, which are not layers), one per
  call of the operation in this model; edges follow each call's input tensors back through
  ``_keras_history``. A nested Functional or Sequential model is a group holding its own layers,
  and edges into and out of it reach those layers. Runs of three or more consecutive layers
  whose (hand-given) names share a prefix, such as EfficientNet's ``block1a_*``, are gathered
  into synthetic ``Group`` nodes, since applications are flat.
- **calls** (any other model or layer, with ``inputs``): ``model(inputs)`` runs once, eagerly,
  with a class-level wrapper around ``Layer.__call__``: the call tree (parent: the layer
  on the call stack), per-call shapes, and edges where a layer's output object reaches the
  next layer. Tensors made by ``keras.ops`` between layers break that chain; a note counts them.
- **hierarchy** (built, no ``inputs``): the tree of tracked layers, with parameters, no edges.

A Keras ``Model`` is a container and has no node of its own: its layers, inputs and outputs are
at the top, and weights it holds itself (``add_weight`` in the model) go on one top-level node
named after its class. A bare ``Layer`` is drawn as one top node with its sublayers inside.
Parameters are named once, on the first node that holds them; a later call of a shared layer
shows the same parameters, a tied weight held by another layer counts as ``tied``, and totals
add each variable once. Layers not called (all of them, in a hierarchy) have ``call=-1``. ``param_names`` are the variable
names the Training health callback logs (``modellens.keras``). The capture writes no weights and
changes none: the only state it touches is what ``model(inputs)`` itself changes (building an
unbuilt model, Keras' ``_called`` flag).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import keras
from keras.src.backend.common.symbolic_scope import in_symbolic_scope
from keras.src.layers.core.input_layer import InputLayer
from keras.src.layers.layer import Layer
from keras.src.models.functional import Functional
from keras.src.models.sequential import Sequential
from keras.src.ops.function import make_node_key
from keras.src.utils.naming import to_snake_case

from modellens.graph.wire import Graph, GraphBuilder, Shape, count_of, were
from modellens.keras import _dedupe, _unique_names

#: ``get_config()`` entries shown as a node's attributes, in this order.
_ATTRS = (
    "units",
    "filters",
    "kernel_size",
    "strides",
    "dilation_rate",
    "depth_multiplier",
    "padding",
    "pool_size",
    "activation",
    "use_bias",
    "num_heads",
    "key_dim",
    "input_dim",
    "output_dim",
    "rate",
    "axis",
    "target_shape",
)
#: Values not worth showing (the defaults nearly every layer has).
_QUIET = {
    "activation": {"linear"},
    "use_bias": {"True"},
    "dilation_rate": {"1", "(1, 1)", "(1, 1, 1)"},
    "depth_multiplier": {"1"},
}
_MAX_ATTRS = 200
_HIERARCHY_NOTE = "no inputs were given: the layer tree and its parameters, without calls or dataflow"
#: Fewest consecutive layers that make a name-prefix group.
_MIN_GROUP = 3


def capture(model: Any, inputs: Any = None) -> Graph:
    """The graph of a Keras 3 model or layer. ``inputs``: an array, list or dict is the one
    argument of ``model(inputs)`` (Keras' way to give several inputs); a tuple holds positional
    arguments, ``model(*inputs)`` (``MultiHeadAttention`` takes ``(query, value)``). A model with
    a symbolic DAG needs none; given, one eager call on them puts concrete shapes in place of
    the DAG's unknown dimensions."""
    if not isinstance(model, Layer):
        raise TypeError(f"model must be a Keras 3 model or layer, got {type(model).__module__}.{type(model).__name__}")
    function = _symbolic_function(model)
    draft = _Draft()
    if function is not None:
        _Symbolic(draft).capture(model, function)
        if inputs is not None:
            _concrete_shapes(draft, model, inputs)
        return draft.finish(model, "symbolic")
    if inputs is not None:
        _Calls(draft, model).run(inputs)
        return draft.finish(model, "calls")
    if not model.built:
        raise ValueError(
            f"Keras model {model.name!r} is not built, so it has no layers with weights to draw yet: pass "
            "inputs (writer.graph(model, x) calls it once on x) or call the model once first"
        )
    _hierarchy(draft, model)
    return draft.finish(model, "hierarchy")


def _concrete_shapes(draft: _Draft, model: Any, inputs: Any) -> None:
    """The shapes of one eager call on ``inputs`` in place of the symbolic ones (whose batch and
    often spatial dimensions are unknown), matched per layer and call; edges take their
    source's new output shape."""
    eager = _Draft()
    _Calls(eager, model).run(inputs)
    calls = {(id(item.layer), item.call): item for item in eager.items if item.layer is not None}
    for item in draft.items:
        found = calls.get((id(item.layer), item.call)) if item.layer is not None else None
        if found is not None and found.calls == item.calls:
            item.inputs, item.outputs = found.inputs, found.outputs
    symbolic = [i for i, item in enumerate(draft.items) if item.kind == "input"]
    given = [item for item in eager.items if item.kind == "input"]
    if len(symbolic) == len(given):
        by_name = {item.name: item for item in given}
        for index, item in zip(symbolic, given):
            draft.items[index].outputs = (by_name.get(draft.items[index].name) or item).outputs
    draft.edges = [
        (src, dst, draft.items[src].outputs[0] if len(draft.items[src].outputs) == 1 else shape)
        for src, dst, shape in draft.edges
    ]
    for _, dst, shape in draft.edges:
        if draft.items[dst].kind == "output" and shape is not None:
            draft.items[dst].inputs = [shape]
    draft.notes.append("shapes from one call on the given inputs")


def _symbolic_function(model: Any) -> Functional | None:
    """The Functional graph behind ``model``, if it has one."""
    if isinstance(model, Functional):
        return model
    if isinstance(model, Sequential):
        return model._functional or None
    return None


# ---------------------------------------------------------------------------- the draft


@dataclass
class _Item:
    kind: str
    name: str
    type: str
    parent: int = -1
    call: int = 0
    calls: int = 1
    layer: Any = None  # whose weights the node holds; None for ops, inputs, outputs, groups
    own: list[Any] | None = None  # the weights it holds instead (the model's own)
    attrs: str = ""
    inputs: list[Shape] = field(default_factory=list)
    outputs: list[Shape] = field(default_factory=list)
    order: float = 0.0  # place among its siblings (a name group stands where its first member was)


@dataclass
class _Params:
    params: int = 0
    frozen: int = 0
    tied: int = 0
    total: int = 0
    total_frozen: int = 0
    names: list[str] = field(default_factory=list)


class _Draft:
    """Nodes and edges as a capture finds them; ``finish`` adds the parameters and builds."""

    def __init__(self) -> None:
        self.items: list[_Item] = []
        self.edges: list[tuple[int, int, Shape | None]] = []
        self.notes: list[str] = []

    def add(self, kind: str, name: str, type: str, **fields: Any) -> int:
        fields.setdefault("order", len(self.items))
        self.items.append(_Item(kind, name, type, **fields))
        return len(self.items) - 1

    def edge(self, src: int, dst: int, shape: Shape | None) -> None:
        self.edges.append((src, dst, shape))

    def finish(self, model: Any, capture: str) -> Graph:
        variables = _dedupe(model.weights)
        self._add_own_weights(model, variables, capture)
        names = dict(zip(map(id, variables), _unique_names(variables)))
        params = _assign_params(self.items, names, {id(v) for v in model.trainable_weights})
        builder = GraphBuilder("keras", model.name)
        sequence = sorted(range(len(self.items)), key=lambda i: self.items[i].order)
        new = {old: index for index, old in enumerate(sequence)}
        new[-1] = -1
        for old in sequence:
            item, counts = self.items[old], params[old]
            node = builder.add(
                item.kind,
                item.name,
                item.type,
                parent=new[item.parent],
                call=item.call,
                calls=item.calls,
                params=counts.params,
                frozen=counts.frozen,
                total_params=counts.total,
                total_frozen=counts.total_frozen,
                tied=counts.tied,
                attrs=item.attrs,
                param_names=counts.names,
            )
            builder.set_shapes(node, item.inputs, item.outputs)
        for src, dst, shape in self.edges:
            builder.edge(new[src], new[dst], shape)
        trainable = _size(_dedupe(model.trainable_weights))
        total = _size(variables)
        totals = {"params": total, "trainable": trainable, "frozen": total - trainable}
        return builder.build(capture, self.notes, totals)

    def _add_own_weights(self, model: Any, variables: list[Any], capture: str) -> None:
        """A top-level node named after the model's class for the weights no drawn layer holds
        (a model's own ``add_weight``), so that every parameter has a node."""
        held = {id(v) for item in self.items for v in _weights(item)}
        free = [v for v in variables if id(v) not in held]
        if free:
            kind = type(model).__name__
            called = capture != "hierarchy"
            self.add("module", kind, kind, call=0 if called else -1, calls=int(called), own=free, order=-1)
            self.notes.append(f"{model.name} holds {count_of(_size(free), 'parameter')} in no layer (the node {kind})")


def _assign_params(items: list[_Item], names: dict[int, str], trainable: set[int]) -> list[_Params]:
    """Per node: its layer's weights that no descendant's layer holds (all of them for a leaf).
    The first node holding a variable owns it (its ``param_names``); a later call of the same
    layer shows the same parameters, and another layer holding it (a tied weight) counts it as
    ``tied``. A node's totals are the distinct variables of its subtree, as in the torch
    capture. ``names``: ``{id(variable): logged name}``."""
    children: list[list[int]] = [[] for _ in items]
    for index, item in enumerate(items):
        if item.parent >= 0:
            children[item.parent].append(index)
    post = _postorder(children, [i for i, item in enumerate(items) if item.parent < 0])
    below: list[dict[int, Any]] = [{} for _ in items]
    for index in post:
        for child in children[index]:
            below[index].update(below[child])
            below[index].update((id(v), v) for v in _weights(items[child]))
    owner: dict[int, int] = {}
    result = [_Params() for _ in items]
    for index, item in enumerate(items):
        counts = result[index]
        for variable in _weights(item):
            key = id(variable)
            if key in below[index]:
                continue
            size = math.prod(variable.shape)
            counts.params += size
            counts.frozen += size if key not in trainable else 0
            if key not in owner:
                owner[key] = index
                counts.names.append(names.get(key, str(getattr(variable, "path", variable.name))))
            elif items[owner[key]].layer is not item.layer or item.layer is None:
                counts.tied += size
        subtree = {**below[index], **{id(v): v for v in _weights(item)}}
        counts.total = _size(subtree.values())
        counts.total_frozen = _size(v for key, v in subtree.items() if key not in trainable)
    return result


def _postorder(children: list[list[int]], roots: list[int]) -> list[int]:
    order, stack = [], list(roots)
    while stack:
        index = stack.pop()
        order.append(index)
        stack.extend(children[index])
    return order[::-1]


def _weights(item: _Item) -> list[Any]:
    if item.own is not None:
        return item.own
    return _dedupe(item.layer.weights) if item.layer is not None else []


def _size(variables: Iterable[Any]) -> int:
    return sum(math.prod(v.shape) for v in variables)


# ---------------------------------------------------------------------------- per node


def _shape(tensor: Any) -> Shape:
    dims = tuple(-1 if d is None else int(d) for d in tensor.shape)
    return keras.backend.standardize_dtype(tensor.dtype), dims


def _attrs(operation: Any) -> str:
    """A compact summary of the key config entries, e.g. ``units=64, activation=relu``."""
    if isinstance(operation, keras.Model):
        return ""
    try:
        config = operation.get_config()
    except Exception:  # custom layers may not implement get_config
        return ""
    parts = []
    for key in _ATTRS:
        text = _config_text(config.get(key))
        if text is not None and text not in _QUIET.get(key, ()):
            parts.append(f"{key}={text}")
    return ", ".join(parts)[:_MAX_ATTRS]


def _config_text(value: Any) -> str | None:
    if isinstance(value, (bool, int, str)):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return str(value[0]) if len(value) == 1 else f"({', '.join(map(str, value))})"
    if isinstance(value, dict):  # a serialized object: a custom activation, initializer ...
        inner = value.get("config")
        return inner if isinstance(inner, str) else value.get("class_name")
    return None


def _is_auto_named(item: _Item) -> bool:
    """Whether Keras made the name from the class (``dense``, ``batch_normalization_3``)."""
    return re.fullmatch(rf"{re.escape(to_snake_case(item.type))}(_\d+)?", item.name) is not None


# ---------------------------------------------------------------------------- symbolic


@dataclass
class _Scope:
    """One Functional graph instantiated in the drawing (a nested model once per call)."""

    function: Functional
    outer: tuple[_Scope, Any] | None  # (the enclosing scope, this model's node there)
    inputs: dict[int, int]  # id(input tensor) -> its position in function.inputs
    calls: dict[str, int | _Scope] = field(default_factory=dict)  # node key -> atom or nested scope
    leaves: list[tuple[int, Any]] = field(default_factory=list)  # (atom, its Keras node)
    atoms: list[int] = field(default_factory=list)  # input nodes (top scope only)


class _Symbolic:
    def __init__(self, draft: _Draft) -> None:
        self.draft = draft
        self.orphans = 0
        self.groups = 0

    def capture(self, model: Any, function: Functional) -> None:
        top = self._scope(function, -1, None)
        self._connect(top)
        names = _output_names(model, function)
        for tensor, name in zip(function.outputs, names):
            shape = _shape(tensor)
            node = self.draft.add("output", name, "Output", inputs=[shape])
            self._edge(top, tensor, node)
        if self.groups:
            self.draft.notes.append(f"{count_of(self.groups, 'group')} of layers gathered by name prefix (type Group)")
        if self.orphans:
            self.draft.notes.append(f"{count_of(self.orphans, 'operation input')} from outside the model's graph")

    def _scope(self, function: Functional, parent: int, outer: tuple[_Scope, Any] | None) -> _Scope:
        """Adds the nodes of ``function`` under ``parent``; edges come later (``_connect``)."""
        scope = _Scope(function, outer, {id(t): k for k, t in enumerate(function.inputs)})
        if outer is None:
            for tensor in function.inputs:
                source = tensor._keras_history.operation
                name = source.name if isinstance(source, InputLayer) else tensor.name
                scope.atoms.append(self.draft.add("input", name, "Input", outputs=[_shape(tensor)]))
        members = []
        for operation in function._operations:
            if isinstance(operation, InputLayer):
                continue
            indices = [
                i for i in range(len(operation._inbound_nodes)) if make_node_key(operation, i) in function._nodes
            ]
            for call, index in enumerate(indices):
                members.append(self._call(scope, parent, operation, index, call, len(indices)))
        self.groups += _group_by_prefix(self.draft, members, parent)
        return scope

    def _call(self, scope: _Scope, parent: int, operation: Any, index: int, call: int, calls: int) -> int:
        node = operation._inbound_nodes[index]
        is_layer = isinstance(operation, Layer)
        item = self.draft.add(
            "module" if is_layer else "op",
            operation.name,
            type(operation).__name__,
            parent=parent,
            call=call,
            calls=calls,
            layer=operation if is_layer else None,
            attrs=_attrs(operation),
            inputs=[_shape(t) for t in node.input_tensors],
            outputs=[_shape(t) for t in node.outputs],
        )
        key = make_node_key(operation, index)
        inner = _symbolic_function(operation)
        if inner is not None:
            scope.calls[key] = self._scope(inner, item, (scope, node))
        else:
            scope.calls[key] = item
            scope.leaves.append((item, node))
        return item

    def _connect(self, scope: _Scope) -> None:
        for atom, node in scope.leaves:
            for tensor in node.input_tensors:
                self._edge(scope, tensor, atom)
        for target in scope.calls.values():
            if isinstance(target, _Scope):
                self._connect(target)

    def _edge(self, scope: _Scope, tensor: Any, atom: int) -> None:
        source = _producer(scope, tensor)
        if source is None:
            self.orphans += 1
        else:
            self.draft.edge(source, atom, _shape(tensor))


def _producer(scope: _Scope, tensor: Any) -> int | None:
    """The atom that makes ``tensor`` in ``scope``: through nested models' outputs and, for a
    nested model's inputs, out to what feeds them."""
    while True:
        position = scope.inputs.get(id(tensor))
        if position is not None:
            if scope.outer is None:
                return scope.atoms[position]
            scope, node = scope.outer
            tensor = node.input_tensors[position]
            continue
        operation, index, tensor_index = tensor._keras_history
        target = scope.calls.get(make_node_key(operation, index))
        if not isinstance(target, _Scope):
            return target
        scope, tensor = target, target.function.outputs[tensor_index]


def _output_names(model: Any, function: Functional) -> list[str]:
    """Dict keys for dict outputs, else Keras' output names (the producing layers)."""
    structure = getattr(function, "_outputs_struct", None)
    if isinstance(structure, dict):
        return ["/".join(map(str, path)) for path, _ in keras.tree.flatten_with_path(structure)]
    names = getattr(model, "output_names", None) or getattr(function, "output_names", None)
    if names and len(names) == len(function.outputs):
        return [str(n) for n in names]
    return [t._keras_history.operation.name for t in function.outputs]


def _group_by_prefix(draft: _Draft, members: list[int], parent: int) -> int:
    """Gathers runs of consecutive hand-named siblings that share a name prefix; the count of groups."""
    parts = [[] if _is_auto_named(draft.items[m]) else draft.items[m].name.split("_") for m in members]
    return _group_runs(draft, list(zip(members, parts)), parent)


def _group_runs(draft: _Draft, members: list[tuple[int, list[str]]], parent: int) -> int:
    groups, start = 0, 0
    while start < len(members):
        head = _head(members[start][1])
        end = start + 1
        while head is not None and end < len(members) and _head(members[end][1]) == head:
            end += 1
        if end - start >= _MIN_GROUP:
            run = members[start:end]
            prefix, rest = [head], [parts[1:] for _, parts in run]
            while all(len(r) > 1 and r[0] == rest[0][0] for r in rest):
                prefix.append(rest[0][0])
                rest = [r[1:] for r in rest]
            order = draft.items[run[0][0]].order - 0.5
            group = draft.add("module", "_".join(prefix), "Group", parent=parent, order=order)
            for member, _ in run:
                draft.items[member].parent = group
            groups += 1 + _group_runs(draft, [(m, r) for (m, _), r in zip(run, rest)], group)
        start = end
    return groups


def _head(parts: list[str]) -> str | None:
    """The first name component, if something follows it."""
    return parts[0] if len(parts) > 1 and parts[0] else None


# ---------------------------------------------------------------------------- eager calls


class _Calls:
    """One eager ``model(inputs)`` under a class-level wrapper of ``Layer.__call__``."""

    def __init__(self, draft: _Draft, model: Any) -> None:
        self.draft = draft
        self.model = model
        self.root_node = not isinstance(model, keras.Model)  # a bare layer is a node itself
        self.stack: list[int] = []
        self.count: dict[int, int] = {}  # id(layer) -> calls so far
        self.first: dict[int, int] = {}  # id(layer) -> its first call's node
        self.containers: set[int] = set()  # nodes with a recorded call inside
        self.producer: dict[int, int] = {}  # id(tensor) -> the atom that made it
        self.keep: list[Any] = []  # holds the tensors whose ids are in producer
        self.orphans = 0

    def run(self, inputs: Any) -> None:
        model = self.model
        inputs = keras.tree.map_structure(
            lambda x: model.dtype_policy.convert_input(x, model.autocast, model.input_dtype), inputs
        )
        for path, tensor in keras.tree.flatten_with_path(inputs):
            if _is_tensor(tensor):
                node = self.draft.add("input", _leaf_name("input", path), "Input", outputs=[_shape(tensor)])
                self._claim(tensor, node)
        outputs = self._call_patched(inputs if isinstance(inputs, tuple) else (inputs,))
        for path, tensor in keras.tree.flatten_with_path(outputs):
            if _is_tensor(tensor):
                shape = _shape(tensor)
                node = self.draft.add("output", _leaf_name("output", path), "Output", inputs=[shape])
                self._edge(tensor, node)
        self._add_uncalled()
        for item in self.draft.items:
            if item.layer is not None:
                item.calls = self.count.get(id(item.layer), 0)
        if self.orphans:
            self.draft.notes.append(
                f"{count_of(self.orphans, 'tensor')} reaching a layer or the output from no recorded layer "
                "(keras.ops between layers are not recorded): their edges are missing"
            )

    def _call_patched(self, args: tuple) -> Any:
        original = Layer.__call__
        recorder = self

        def __call__(layer: Any, *args: Any, **kwargs: Any) -> Any:
            flat = keras.tree.flatten((args, kwargs))
            if in_symbolic_scope() or any(keras.backend.is_keras_tensor(x) for x in flat):
                return original(layer, *args, **kwargs)  # Keras building a layer by a symbolic call
            return recorder.call(original, layer, args, kwargs, flat)

        Layer.__call__ = __call__
        try:
            return self.model(*args)
        finally:
            Layer.__call__ = original

    def call(self, original: Any, layer: Any, args: tuple, kwargs: dict, flat: list) -> Any:
        if layer is self.model and not self.root_node and not self.stack:
            self.stack.append(-1)  # the model's own call: its layers go at the top
            try:
                return original(layer, *args, **kwargs)
            finally:
                self.stack.pop()
        parent = self.stack[-1] if self.stack else -1
        if parent >= 0:
            self.containers.add(parent)
        call = self.count.get(id(layer), 0)
        self.count[id(layer)] = call + 1
        received = [x for x in flat if _is_tensor(x)]
        node = self.draft.add(
            "module",
            layer.name,
            type(layer).__name__,
            parent=parent,
            call=call,
            layer=layer,
            attrs=_attrs(layer),
            inputs=[_shape(x) for x in received],
        )
        self.first.setdefault(id(layer), node)
        self.stack.append(node)
        try:
            result = original(layer, *args, **kwargs)
        finally:
            self.stack.pop()
        made = [x for x in keras.tree.flatten(result) if _is_tensor(x)]
        self.draft.items[node].outputs = [_shape(x) for x in made]
        if node not in self.containers:  # an atom: edges in, and it makes its outputs
            for tensor in received:
                self._edge(tensor, node)
            for tensor in made:
                self._claim(tensor, node)
        return result

    def _edge(self, tensor: Any, node: int) -> None:
        source = self.producer.get(id(tensor))
        if source is None:
            self.orphans += 1
        else:
            self.draft.edge(source, node, _shape(tensor))

    def _claim(self, tensor: Any, node: int) -> None:
        self.producer[id(tensor)] = node
        self.keep.append(tensor)

    def _add_uncalled(self) -> None:
        """Layers of the model's tree that this call never reached, as never-called nodes."""
        before = len(self.draft.items)
        root = self.first.get(id(self.model), -1)
        _walk_layers(self.draft, self.model, root, lambda layer: self.first.get(id(layer)), call=-1, calls=0)
        uncalled = len(self.draft.items) - before
        if uncalled:
            self.draft.notes.append(f"{were(uncalled, 'layer')} never called")


def _is_tensor(value: Any) -> bool:
    return keras.ops.is_tensor(value) and not isinstance(value, keras.Variable)


def _leaf_name(base: str, path: tuple) -> str:
    return "/".join(map(str, path)) if path and isinstance(path[0], str) else "_".join([base, *map(str, path)])


# ---------------------------------------------------------------------------- hierarchy


def _hierarchy(draft: _Draft, model: Any) -> None:
    root = -1
    if not isinstance(model, keras.Model):
        root = draft.add("module", model.name, type(model).__name__, call=-1, calls=0, layer=model, attrs=_attrs(model))
    _walk_layers(draft, model, root, lambda layer: None, call=-1, calls=0)
    draft.notes.append(_HIERARCHY_NOTE)
    unbuilt = sum(1 for item in draft.items if not item.layer.built)
    if unbuilt:
        draft.notes.append(f"{were(unbuilt, 'layer')} not built, with no weights yet: call the model once first")


def _walk_layers(draft: _Draft, model: Any, root: int, known: Any, *, call: int, calls: int) -> None:
    """Adds every tracked sublayer of ``model`` for which ``known(layer)`` gives no node, under
    the node of its nearest known ancestor; InputLayers and repeats are skipped."""
    seen = {id(model)}
    stack = [(model, root)]
    while stack:
        layer, parent = stack.pop()
        added = []
        for child in getattr(layer, "_layers", []):
            if isinstance(child, InputLayer) or id(child) in seen:
                continue
            seen.add(id(child))
            node = known(child)
            if node is None:
                node = draft.add(
                    "module",
                    child.name,
                    type(child).__name__,
                    parent=parent,
                    call=call,
                    calls=calls,
                    layer=child,
                    attrs=_attrs(child),
                )
            added.append((child, node))
        stack.extend(reversed(added))
