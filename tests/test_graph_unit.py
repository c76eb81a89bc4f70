"""The graph kind's wire format: builder, compact JSON round trip, every malformed blob refused."""

from __future__ import annotations

import copy
import gzip
import json

import numpy as np
import pytest

import modellens
from modellens import _metadata, graph
from modellens.graph import wire


def small_graph() -> wire.Graph:
    """x → enc.{fc@0 → relu → fc@1} → add(x) → out, with a never-called container."""
    b = wire.GraphBuilder("torch", "Toy")
    enc = b.add("module", "enc", "Block", total_params=12, param_names=[])
    fc0 = b.add(
        "module",
        "fc",
        "Linear",
        parent=enc,
        calls=2,
        params=12,
        attrs="in_features=3",
        param_names=["enc.fc.weight", "enc.fc.bias"],
    )
    relu = b.add("op", "relu", "relu", parent=enc)
    fc1 = b.add("module", "fc", "Linear", parent=enc, call=1, calls=2, params=12)
    unused = b.add("module", "spare", "ModuleList", parent=enc, call=-1, calls=0)
    x = b.add("input", "x", "Input")
    add = b.add("op", "add", "add")
    out = b.add("output", "output", "Output")
    shape = ("float32", (2, 3))
    for node in (x, fc0, relu, fc1, add, out):
        b.set_shapes(node, outputs=[shape])
    for src, dst in ((x, fc0), (fc0, relu), (relu, fc1), (fc1, add), (x, add), (add, out), (x, fc0)):
        b.edge(src, dst, shape)
    assert unused >= 0
    return b.build("calls", notes=["1 module was never called"])


def test_builder_orders_parents_first_and_names_siblings_uniquely():
    g = small_graph()
    paths = [g.path(i) for i in range(g.node_count)]
    assert paths == ["enc", "enc.fc", "enc.relu", "enc.fc@1", "enc.spare", "x", "add", "output"]
    assert all(p < i for i, p in enumerate(g.nodes["parent"]))
    assert g.totals == {"params": 12, "trainable": 12, "frozen": 0}
    assert len(g.edge_pairs()) == 6  # the repeated x → fc edge is kept once
    assert [g.text(g.nodes["type"][i]) for i in range(3)] == ["Block", "Linear", "relu"]


def test_identical_groups_share_a_block_id():
    b = wire.GraphBuilder("torch", "Stack")
    for k in range(3):
        layer = b.add("module", str(k), "Layer", total_params=4)
        b.add("module", "fc", "Linear", parent=layer, params=4)
    odd = b.add("module", "3", "Layer", total_params=8)
    b.add("module", "fc", "Linear", parent=odd, params=8)
    g = b.build("hierarchy")
    blocks = [g.nodes["block"][g.find(p)] for p in ("0", "1", "2", "3")]
    assert blocks[0] == blocks[1] == blocks[2] >= 0 and blocks[3] == -1
    assert g.nodes["block"][g.find("0.fc")] == -1  # leaves are never marked


def test_modules_holding_only_ops_are_not_blocks():
    b = wire.GraphBuilder("torch", "Linears")
    for k in range(3):
        b.add("op", "linear", "linear", parent=b.add("module", str(k), "Linear", params=4))
    assert b.build("calls").nodes["block"] == [-1] * 6


def test_round_trip_through_bytes_and_the_summary_value():
    g = small_graph()
    assert wire.from_bytes(wire.to_bytes(g)) == g
    value = graph.encode("model", g)
    assert value.metadata.data_class == graph.DATA_CLASS and value.tensor.tensor_shape.dim[0].size == 1
    assert graph.decode(np.array([value.tensor.string_val[0]], dtype=object)) == g


def test_a_cycle_or_a_bad_parent_is_refused_at_build_time():
    b = wire.GraphBuilder("torch", "M")
    b.add("module", "a", "A", parent=1)  # a parent may come later, but not in a cycle
    b.add("module", "c", "C", parent=0)
    with pytest.raises(ValueError, match="cycle"):
        b.build("calls")
    with pytest.raises(ValueError, match="capture"):
        wire.GraphBuilder("torch", "M").build("everything")


def corrupt(mutate) -> bytes:
    data = copy.deepcopy(small_graph().to_json())
    mutate(data)
    return gzip.compress(json.dumps(data).encode())


MALFORMED = {
    "not gzip": b"\x0a\x05ab",
    "gzip of garbage": gzip.compress(b"\xff\xfe"),
    "truncated gzip": wire.to_bytes(small_graph())[:-9],
    "not a graph": gzip.compress(b'{"format": "other"}'),
    "child before parent": corrupt(lambda d: d["nodes"]["parent"].__setitem__(0, 3)),
    "string index out of range": corrupt(lambda d: d["nodes"]["name"].__setitem__(1, 10**6)),
    "shape index out of range": corrupt(lambda d: d["nodes"]["outputs"].__setitem__(1, [99])),
    "edge to no node": corrupt(lambda d: d["edges"].__setitem__(0, 500)),
    "columns of two lengths": corrupt(lambda d: d["nodes"]["kind"].pop()),
    "a missing column": corrupt(lambda d: d["nodes"].pop("tied")),
    "unknown kind": corrupt(lambda d: d["nodes"]["kind"].__setitem__(0, 9)),
    "negative params": corrupt(lambda d: d["nodes"]["params"].__setitem__(0, -1)),
    "float index": corrupt(lambda d: d["nodes"]["type"].__setitem__(0, 1.0)),
    "edges without shapes": corrupt(lambda d: d["edge_shapes"].pop()),
    "totals incomplete": corrupt(lambda d: d["totals"].pop("frozen")),
    "notes not text": corrupt(lambda d: d.__setitem__("notes", [1])),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_every_malformed_blob_is_an_unreadable_record(name):
    with pytest.raises(_metadata.UnreadableRecord):
        graph.decode(np.array([MALFORMED[name]], dtype=object))


def test_a_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(wire, "MAX_JSON_BYTES", 1000)
    with pytest.raises(_metadata.UnreadableRecord, match="larger"):
        wire.from_bytes(gzip.compress(b" " * 5000))


@pytest.mark.parametrize("model", [None, 3, "model", {"fc": 1}, np.zeros(3)])
def test_writer_graph_refuses_what_is_not_a_model(tmp_path, model):
    with modellens.Writer(tmp_path / "run") as writer:
        with pytest.raises(TypeError, match="torch.nn.Module or a Keras 3 model"):
            writer.graph(model)
        with pytest.raises(ValueError, match="step"):
            writer.graph(model, step=-1)
