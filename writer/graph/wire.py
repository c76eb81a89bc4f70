"""The in-memory structure graph, the builder the captures fill, and its compact JSON form.

A graph is a tree of nodes (modules, the torch-level ops between them, the model's inputs and
outputs) plus dataflow edges between *atoms*: ops, input and output nodes, and module calls that
contain no recorded op and no called module. The view lifts each edge to the visible ancestors
of its ends, so the server never lays anything out.

Wire form (one gzip-compressed JSON object per step, about 8 KB for BERT-large)::

    {"format": "modellens.graph", "framework": "torch", "model": "BertModel",
     "capture": "calls" | "hierarchy" | "symbolic",
     "strings": [...],                    # every name, type, dtype, attribute text, once
     "shapes": [[dtype, d0, d1, ...]],    # dtype a string index; -1 is an unknown dimension
     "nodes": {                           # columns, one entry per node, parents before children
       "parent": [...],                   # node index, -1 at the top
       "name": [...],                     # string index: the last path component, unique among
                                          # siblings ("relu", "relu@1" for a second call, "add_2")
       "type": [...],                     # string index: class or op name
       "kind": [...],                     # 0 module, 1 op, 2 input, 3 output
       "call": [...],                     # which call of its module (0, 1, ...); -1 never called
       "calls": [...],                    # how many times its module was called
       "inputs": [[shape, ...]], "outputs": [[shape, ...]],
       "params": [...], "frozen": [...],  # own parameters: all, and how many of them are frozen
       "total_params": [...], "total_frozen": [...],   # own and every descendant's, tied once
       "tied": [...],                     # own parameters counted under an earlier owner
       "attrs": [...],                    # string index (extra_repr, Keras config summary)
       "param_names": [[string, ...]],    # full parameter names, as named_parameters() / the
                                          # Keras variable paths (what Training health logs)
       "block": [...]},                   # equal ids mark structurally identical groups; -1 none
     "edges": [src, dst, src, dst, ...], "edge_shapes": [shape or -1, ...],
     "totals": {"params": n, "trainable": n, "frozen": n},
     "notes": ["3 modules were never called", ...]}
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

from modellens._metadata import UnreadableRecord

FORMAT = "modellens.graph"
NODE_KINDS = ("module", "op", "input", "output")
CAPTURES = ("calls", "hierarchy", "symbolic")
#: The most nodes a graph may have (a 10k-module model has about 24k nodes with its ops).
MAX_NODES = 500_000
#: Decompressed size the reader accepts (a graph of MAX_NODES is far below).
MAX_JSON_BYTES = 256 * 2**20

Shape = tuple[str, tuple[int, ...]]  # (dtype, dims); -1 for an unknown dimension
_INT_COLUMNS = ("parent", "name", "type", "kind", "call", "calls", "params", "frozen")
_INT_COLUMNS += ("total_params", "total_frozen", "tied", "attrs", "block")
_LIST_COLUMNS = ("inputs", "outputs", "param_names")
COLUMNS = _INT_COLUMNS + _LIST_COLUMNS


@dataclass(frozen=True)
class Graph:
    """One captured graph: the JSON-ready columns (see the module docstring)."""

    framework: str
    model: str
    capture: str
    strings: list[str]
    shapes: list[list[int]]
    nodes: dict[str, list[Any]]
    edges: list[int]
    edge_shapes: list[int]
    totals: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def node_count(self) -> int:
        return len(self.nodes["parent"])

    def text(self, index: int) -> str:
        return self.strings[index]

    def path(self, node: int) -> str:
        """The node's full path, e.g. ``encoder.layer.0.attention.self.query``."""
        names = []
        while node >= 0:
            names.append(self.strings[self.nodes["name"][node]])
            node = self.nodes["parent"][node]
        return ".".join(reversed(names))

    def find(self, path: str) -> int:
        """The index of the node at ``path``; ``KeyError`` if there is none."""
        for node in range(self.node_count):
            if self.path(node) == path:
                return node
        raise KeyError(path)

    def with_param_prefix(self, prefix: str) -> Graph:
        """The same graph with every parameter name prefixed (``"0."`` when several models are
        watched into one run, as Training health names their tensors)."""
        strings = list(self.strings)
        added: dict[int, int] = {}

        def prefixed(index: int) -> int:
            if index not in added:
                added[index] = len(strings)
                strings.append(prefix + self.strings[index])
            return added[index]

        names = [[prefixed(i) for i in row] for row in self.nodes["param_names"]]
        return replace(self, strings=strings, nodes={**self.nodes, "param_names": names})

    def edge_pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.edges[0::2], self.edges[1::2]))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "framework": self.framework,
            "model": self.model,
            "capture": self.capture,
            "strings": self.strings,
            "shapes": self.shapes,
            "nodes": self.nodes,
            "edges": self.edges,
            "edge_shapes": self.edge_shapes,
            "totals": self.totals,
            "notes": self.notes,
        }


# ---------------------------------------------------------------------------- building


@dataclass
class _Node:
    parent: int
    name: str
    type: str
    kind: int
    call: int
    calls: int
    params: int
    frozen: int
    total_params: int
    total_frozen: int
    tied: int
    attrs: str
    param_names: list[str]
    inputs: list[Shape] = field(default_factory=list)
    outputs: list[Shape] = field(default_factory=list)


class GraphBuilder:
    """What a capture fills: nodes in any order (a parent may come after its child), edges
    between node indices, then ``build()``. Sibling names are made unique at build time."""

    def __init__(self, framework: str, model: str) -> None:
        self.framework = framework
        self.model = model
        self._nodes: list[_Node] = []
        self._edges: list[tuple[int, int, Shape | None]] = []

    def add(
        self,
        kind: str,
        name: str,
        type: str,
        *,
        parent: int = -1,
        call: int = 0,
        calls: int = 1,
        params: int = 0,
        frozen: int = 0,
        total_params: int | None = None,
        total_frozen: int | None = None,
        tied: int = 0,
        attrs: str = "",
        param_names: Sequence[str] = (),
    ) -> int:
        """A new node; returns its index. Totals default to the node's own counts."""
        if kind not in NODE_KINDS:
            raise ValueError(f"kind must be one of {NODE_KINDS}, got {kind!r}")
        self._nodes.append(
            _Node(
                parent,
                str(name),
                str(type),
                NODE_KINDS.index(kind),
                call,
                calls,
                params,
                frozen,
                params if total_params is None else total_params,
                frozen if total_frozen is None else total_frozen,
                tied,
                attrs,
                list(param_names),
            )
        )
        return len(self._nodes) - 1

    def set_shapes(self, node: int, inputs: Iterable[Shape] | None = None, outputs: Iterable[Shape] | None = None):
        if inputs is not None:
            self._nodes[node].inputs = list(inputs)
        if outputs is not None:
            self._nodes[node].outputs = list(outputs)

    def edge(self, src: int, dst: int, shape: Shape | None = None) -> None:
        """Dataflow from atom ``src`` to atom ``dst`` carrying a tensor of ``shape``."""
        self._edges.append((src, dst, shape))

    def build(self, capture: str, notes: Sequence[str] = (), totals: dict[str, int] | None = None) -> Graph:
        """The finished graph: parents before children (siblings in insertion order), unique
        sibling names, interned strings and shapes, identical groups marked."""
        if capture not in CAPTURES:
            raise ValueError(f"capture must be one of {CAPTURES}, got {capture!r}")
        count = len(self._nodes)
        children: list[list[int]] = [[] for _ in range(count)]
        roots = []
        for index, node in enumerate(self._nodes):
            if not -1 <= node.parent < count or node.parent == index:
                raise ValueError(f"node {index} has the parent {node.parent}")
            (children[node.parent] if node.parent >= 0 else roots).append(index)
        order: list[int] = []
        stack = list(reversed(roots))
        while stack:  # pre-order, iteratively (10k-module models nest deeply)
            index = stack.pop()
            order.append(index)
            stack.extend(reversed(children[index]))
        if len(order) != count:
            raise ValueError("the graph's parents form a cycle")
        new_index = {old: new for new, old in enumerate(order)}

        strings: dict[str, int] = {}
        shapes: dict[tuple, int] = {}

        def text(value: str) -> int:
            return strings.setdefault(value, len(strings))

        def shape(value: Shape | None) -> int:
            if value is None:
                return -1
            dtype, dims = value
            key = (text(str(dtype)), *(int(d) if d is not None and int(d) >= 0 else -1 for d in dims))
            return shapes.setdefault(key, len(shapes))

        names = _unique_sibling_names(self._nodes, children, roots)
        columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        for old in order:
            node = self._nodes[old]
            columns["parent"].append(new_index[node.parent] if node.parent >= 0 else -1)
            columns["name"].append(text(names[old]))
            columns["type"].append(text(node.type))
            columns["kind"].append(node.kind)
            columns["call"].append(node.call)
            columns["calls"].append(node.calls)
            columns["inputs"].append([shape(s) for s in node.inputs])
            columns["outputs"].append([shape(s) for s in node.outputs])
            columns["params"].append(int(node.params))
            columns["frozen"].append(int(node.frozen))
            columns["total_params"].append(int(node.total_params))
            columns["total_frozen"].append(int(node.total_frozen))
            columns["tied"].append(int(node.tied))
            columns["attrs"].append(text(node.attrs))
            columns["param_names"].append([text(n) for n in node.param_names])
        columns["block"] = _identical_groups(columns, children_of(columns["parent"]))
        edges: list[int] = []
        edge_shapes: list[int] = []
        seen = set()
        for src, dst, edge_shape in self._edges:
            pair = (new_index[src], new_index[dst])
            if pair in seen or pair[0] == pair[1]:
                continue
            seen.add(pair)
            edges.extend(pair)
            edge_shapes.append(shape(edge_shape))
        if totals is None:
            top = [i for i, p in enumerate(columns["parent"]) if p == -1]
            params = sum(columns["total_params"][i] for i in top)
            frozen = sum(columns["total_frozen"][i] for i in top)
            totals = {"params": params, "trainable": params - frozen, "frozen": frozen}
        return Graph(
            self.framework,
            self.model,
            capture,
            list(strings),
            [list(key) for key in shapes],
            columns,
            edges,
            edge_shapes,
            dict(totals),
            list(notes),
        )


def _unique_sibling_names(nodes: list[_Node], children: list[list[int]], roots: list[int]) -> dict[int, str]:
    """Names unique among siblings: a module's later calls get ``@k``, ops ``_k``."""
    names: dict[int, str] = {}
    for group in [roots, *children]:
        taken: set[str] = set()
        for index in group:
            node = nodes[index]
            base = node.name.replace(".", "_") or NODE_KINDS[node.kind]
            if node.kind == 0 and node.call > 0:
                base = f"{base}@{node.call}"
            name, k = base, 1
            while name in taken:
                name = f"{base}_{k}" if node.kind != 0 else f"{base}#{k}"
                k += 1
            taken.add(name)
            names[index] = name
    return names


def count_of(number: int, noun: str) -> str:
    """``"1 module"``, ``"1,024 modules"``: for the notes of the captures."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def were(number: int, noun: str) -> str:
    """``"1 module was"``, ``"3 modules were"``."""
    return count_of(number, noun) + (" was" if number == 1 else " were")


def children_of(parents: Sequence[int]) -> list[list[int]]:
    children: list[list[int]] = [[] for _ in parents]
    for index, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(index)
    return children


def _identical_groups(columns: dict[str, list[Any]], children: list[list[int]]) -> list[int]:
    """A block id per group of modules whose structure (types, kinds, attributes, shapes,
    children and their order) another group repeats; -1 for the others, for leaves and for
    modules that hold only ops (a ``Linear`` and its ``linear``)."""
    count = len(columns["parent"])
    signature = [b""] * count
    for index in reversed(range(count)):  # children come after parents: bottom up
        parts = (
            columns["type"][index],
            columns["kind"][index],
            columns["attrs"][index],
            columns["outputs"][index],
            columns["total_params"][index],
            [signature[c] for c in children[index]],
        )
        signature[index] = hashlib.blake2b(repr(parts).encode(), digest_size=12).digest()
    seen: dict[bytes, list[int]] = {}
    for index in range(count):  # blocks of modules; a module holding only its own op is a leaf
        if any(columns["kind"][child] == 0 for child in children[index]):
            seen.setdefault(signature[index], []).append(index)
    block = [-1] * count
    next_id = 0
    for members in seen.values():
        if len(members) >= 2:
            for index in members:
                block[index] = next_id
            next_id += 1
    return block


# ---------------------------------------------------------------------------- bytes


def to_bytes(graph: Graph) -> bytes:
    """The gzip-compressed compact JSON of ``graph``."""
    text = json.dumps(graph.to_json(), separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def from_bytes(payload: bytes) -> Graph:
    """Reads ``to_bytes`` back, checking every column; raises ``UnreadableRecord``."""
    try:
        inflater = zlib.decompressobj(wbits=31)
        raw = inflater.decompress(payload, MAX_JSON_BYTES + 1)
    except zlib.error as error:
        raise UnreadableRecord(f"graph blob is not gzip data: {error}") from None
    if len(raw) > MAX_JSON_BYTES or not inflater.eof:
        raise UnreadableRecord("graph blob is truncated or larger than a graph can be")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableRecord(f"graph blob is not JSON: {error}") from None
    return from_json(data)


def _ints(value: Any, what: str, low: int, high: int) -> list[int]:
    if not isinstance(value, list) or not all(type(v) is int and low <= v < high for v in value):
        raise UnreadableRecord(f"graph {what} must be integers in [{low}, {high})")
    return value


def from_json(data: Any) -> Graph:
    """A ``Graph`` from its JSON object, every index checked; raises ``UnreadableRecord``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UnreadableRecord("not a ModelLens graph")
    strings = data.get("strings")
    if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings):
        raise UnreadableRecord("graph strings must be a list of strings")
    n_strings = len(strings)
    shapes = data.get("shapes")
    if not isinstance(shapes, list):
        raise UnreadableRecord("graph shapes must be a list")
    for item in shapes:
        if not isinstance(item, list) or not item:
            raise UnreadableRecord("a graph shape must be [dtype, dims...]")
        _ints(item[:1], "shape dtypes", 0, n_strings)
        _ints(item[1:], "shape dimensions", -1, 2**63)
    n_shapes = len(shapes)
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or set(nodes) != set(COLUMNS):
        raise UnreadableRecord(f"graph nodes must have exactly the columns {COLUMNS}")
    count = len(nodes["parent"]) if isinstance(nodes["parent"], list) else -1
    if not 0 <= count <= MAX_NODES or any(not isinstance(nodes[c], list) or len(nodes[c]) != count for c in COLUMNS):
        raise UnreadableRecord("graph node columns must be lists of one length")
    for index, parent in enumerate(_ints(nodes["parent"], "parents", -1, max(count, 1))):
        if parent >= index:
            raise UnreadableRecord("a graph node comes before its parent")
    for column in ("name", "type", "attrs"):
        _ints(nodes[column], column, 0, n_strings)
    _ints(nodes["kind"], "kinds", 0, len(NODE_KINDS))
    _ints(nodes["call"], "call indices", -1, 2**31)
    _ints(nodes["block"], "block ids", -1, 2**31)
    for column in ("calls", "params", "frozen", "total_params", "total_frozen", "tied"):
        _ints(nodes[column], column, 0, 2**63)
    for column, limit in (("inputs", n_shapes), ("outputs", n_shapes), ("param_names", n_strings)):
        for item in nodes[column]:
            _ints(item, column, 0, limit)
    edges = _ints(data.get("edges"), "edges", 0, max(count, 1))
    edge_shapes = _ints(data.get("edge_shapes"), "edge shapes", -1, n_shapes)
    if len(edges) != 2 * len(edge_shapes):
        raise UnreadableRecord("graph edges and edge shapes differ in length")
    totals = data.get("totals")
    if not isinstance(totals, dict) or set(totals) != {"params", "trainable", "frozen"}:
        raise UnreadableRecord("graph totals must give params, trainable and frozen")
    _ints(list(totals.values()), "totals", 0, 2**63)
    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise UnreadableRecord("graph notes must be strings")
    for key in ("framework", "model", "capture"):
        if not isinstance(data.get(key), str):
            raise UnreadableRecord(f"graph {key} must be a string")
    return Graph(
        data["framework"], data["model"], data["capture"], strings, shapes, nodes, edges, edge_shapes, totals, notes
    )
