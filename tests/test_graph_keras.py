"""``modellens.graph.keras_capture`` on real Keras 3 models (TensorFlow backend): the symbolic DAG
of Functional and Sequential models, one eager call of subclassed ones, their layer tree."""

from __future__ import annotations

import math
import os
from unittest.mock import ANY

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import modellens  # noqa: E402
from harness import modellens_values  # noqa: E402
from modellens import graph  # noqa: E402
from modellens.graph import keras_capture, wire  # noqa: E402
from modellens.keras import _dedupe, _unique_names  # noqa: E402

layers = keras.layers
F32 = "float32"
# Net's spare layer is never called, so Keras warns that Net may have unbuilt state
pytestmark = pytest.mark.filterwarnings("ignore:`build\\(\\)` was called on layer 'net':UserWarning")


# ---------------------------------------------------------------------------- helpers


def nodes(g: wire.Graph) -> dict[str, int]:
    return {g.path(i): i for i in range(g.node_count)}


def edges(g: wire.Graph) -> set[tuple[str, str]]:
    return {(g.path(a), g.path(b)) for a, b in g.edge_pairs()}


def column(g: wire.Graph, path: str, name: str):
    return g.nodes[name][g.find(path)]


def kind(g: wire.Graph, path: str) -> str:
    return wire.NODE_KINDS[column(g, path, "kind")]


def typ(g: wire.Graph, path: str) -> str:
    return g.text(column(g, path, "type"))


def attrs(g: wire.Graph, path: str) -> str:
    return g.text(column(g, path, "attrs"))


def shapes(g: wire.Graph, path: str, side: str) -> list[tuple[str, tuple[int, ...]]]:
    return [(g.text(g.shapes[s][0]), tuple(g.shapes[s][1:])) for s in column(g, path, side)]


def param_names(g: wire.Graph, path: str) -> list[str]:
    return [g.text(s) for s in column(g, path, "param_names")]


def size(variables) -> int:
    return sum(math.prod(v.shape) for v in variables)


def check_params(g: wire.Graph, model) -> None:
    """Totals equal Keras' counts, every group adds up its children (each variable once), every
    variable is named once
    with the name the Training health callback logs."""
    trainable = size(_dedupe(model.trainable_weights))
    assert g.totals == {
        "params": model.count_params(),
        "trainable": trainable,
        "frozen": model.count_params() - trainable,
    }
    children = wire.children_of(g.nodes["parent"])

    def repeats(i: int) -> bool:  # a later call of a shared layer in the subtree shows its weights again
        return g.nodes["call"][i] >= 1 or any(repeats(c) for c in children[i])

    for i in range(g.node_count):
        own = g.nodes["params"][i] - g.nodes["tied"][i]
        if not repeats(i):
            assert g.nodes["total_params"][i] == own + sum(g.nodes["total_params"][c] for c in children[i])
    first = [i for i in range(g.node_count) if g.nodes["param_names"][i]]  # the variables' owners
    assert sum(g.nodes["params"][i] - g.nodes["tied"][i] for i in first) == model.count_params()
    assert sum(g.nodes["frozen"][i] for i in first if not g.nodes["tied"][i]) == g.totals["frozen"]
    named = [g.text(s) for names in g.nodes["param_names"] for s in names]
    assert sorted(named) == sorted(_unique_names(_dedupe(model.weights)))


def weights_of(model) -> list[np.ndarray]:
    return [np.array(v.value.numpy()) for v in model.weights]


# ---------------------------------------------------------------------------- symbolic


def test_sequential():
    model = keras.Sequential(
        [
            keras.Input((8,), name="x"),
            layers.Dense(16, activation="relu", name="d1"),
            layers.Dropout(0.1, name="drop"),
            layers.Dense(3, name="d2"),
        ],
        name="seq",
    )
    g = keras_capture.capture(model)
    assert (g.framework, g.model, g.capture) == ("keras", "seq", "symbolic")
    assert list(nodes(g)) == ["x", "d1", "drop", "d2", "d2_1"]
    assert [kind(g, p) for p in nodes(g)] == ["input", "module", "module", "module", "output"]
    assert [typ(g, p) for p in nodes(g)] == ["Input", "Dense", "Dropout", "Dense", "Output"]
    assert edges(g) == {("x", "d1"), ("d1", "drop"), ("drop", "d2"), ("d2", "d2_1")}
    assert shapes(g, "d1", "inputs") == [(F32, (-1, 8))] and shapes(g, "d1", "outputs") == [(F32, (-1, 16))]
    assert attrs(g, "d1") == "units=16, activation=relu" and attrs(g, "drop") == "rate=0.1"
    assert param_names(g, "d2") == ["seq/d2/kernel", "seq/d2/bias"]
    assert column(g, "d1", "params") == 8 * 16 + 16
    check_params(g, model)


def test_functional_with_several_inputs_and_dict_outputs():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    merged = layers.Concatenate(name="cat")([layers.Dense(5, name="enc_a")(a), layers.Dense(6, name="enc_b")(b)])
    outputs = {"score": layers.Dense(1, name="head1")(merged), "label": layers.Dense(2, name="head2")(merged)}
    model = keras.Model([a, b], outputs, name="multi")
    g = keras_capture.capture(model)
    assert edges(g) == {
        ("a", "enc_a"),
        ("b", "enc_b"),
        ("enc_a", "cat"),
        ("enc_b", "cat"),
        ("cat", "head1"),
        ("cat", "head2"),
        ("head1", "score"),
        ("head2", "label"),
    }
    assert kind(g, "a") == kind(g, "b") == "input" and kind(g, "score") == kind(g, "label") == "output"
    assert shapes(g, "cat", "inputs") == [(F32, (-1, 5)), (F32, (-1, 6))] and shapes(g, "cat", "outputs") == [
        (F32, (-1, 11))
    ]
    assert shapes(g, "label", "inputs") == [(F32, (-1, 2))]
    assert g.notes == []
    check_params(g, model)


def test_inputs_give_a_symbolic_graph_concrete_shapes_and_bad_ones_fail():
    a, b = keras.Input((None, 4), name="a"), keras.Input((4,), name="b")
    shared = layers.Dense(5, name="shared")
    pooled = layers.GlobalAveragePooling1D(name="pool")(shared(a))
    model = keras.Model([a, b], layers.Concatenate(name="cat")([pooled, shared(b)]), name="concrete")
    x = [np.zeros((2, 7, 4), "float32"), np.zeros((2, 4), "float32")]
    g = keras_capture.capture(model, x)
    assert g.capture == "symbolic" and "shapes from one call on the given inputs" in g.notes
    assert shapes(g, "a", "outputs") == [(F32, (2, 7, 4))] and shapes(g, "shared", "outputs") == [(F32, (2, 7, 5))]
    assert shapes(g, "shared@1", "outputs") == [(F32, (2, 5))] and shapes(g, "cat", "outputs") == [(F32, (2, 10))]
    assert keras_capture.capture(model).nodes == {**g.nodes, "inputs": ANY, "outputs": ANY}
    with pytest.raises(ValueError, match="incompatible"):  # Keras' own error for inputs it cannot take
        keras_capture.capture(model, [np.zeros((2, 7, 9), "float32"), np.zeros((2, 4), "float32")])


def test_keras_ops_are_op_nodes_and_a_shared_layer_has_a_node_per_call():
    a, b = keras.Input((6, 4), name="a"), keras.Input((3, 4), name="b")
    shared = layers.Dense(4, name="shared")
    joined = keras.ops.concatenate([shared(a), shared(b)], axis=1)
    summed = joined + layers.Dense(4, name="skip")(joined)
    model = keras.Model([a, b], [layers.Dense(2, name="head")(summed)], name="ops")
    assert len(model.layers) < len(model._operations)  # model.layers drops the ops
    g = keras_capture.capture(model)
    assert kind(g, "concatenate") == kind(g, "add") == "op" and typ(g, "add") == "Add"
    assert (column(g, "shared", "call"), column(g, "shared", "calls")) == (0, 2)
    assert (column(g, "shared@1", "call"), column(g, "shared@1", "calls")) == (1, 2)
    assert shapes(g, "shared", "outputs") == [(F32, (-1, 6, 4))]  # per call, not layer.output
    assert shapes(g, "shared@1", "outputs") == [(F32, (-1, 3, 4))]
    assert edges(g) == {
        ("a", "shared"),
        ("b", "shared@1"),
        ("shared", "concatenate"),
        ("shared@1", "concatenate"),
        ("concatenate", "skip"),
        ("concatenate", "add"),
        ("skip", "add"),
        ("add", "head"),
        ("head", "head_1"),
    }
    # a second call shows the same parameters (named under the first), not tied ones; totals count them once
    assert param_names(g, "shared") == ["shared/kernel", "shared/bias"] and param_names(g, "shared@1") == []
    assert [column(g, "shared@1", c) for c in ("params", "tied", "total_params")] == [20, 0, 20]
    check_params(g, model)


def test_nested_models_are_groups_whose_layers_take_the_edges():
    inner_input = keras.Input((4,), name="inner_in")
    hidden = layers.Dense(3, name="h")(inner_input)
    inner = keras.Model(inner_input, [hidden, layers.Dense(2, name="g")(hidden)], name="inner")
    seq = keras.Sequential([layers.Dense(4, name="s1"), layers.BatchNormalization(name="bn")], name="stack")
    x = keras.Input((5,), name="x")
    first, second = inner(seq(x))
    model = keras.Model(x, layers.Concatenate(name="cat")([first, second]), name="outer")
    g = keras_capture.capture(model)
    assert list(nodes(g)) == ["x", "stack", "stack.s1", "stack.bn", "inner", "inner.h", "inner.g", "cat", "cat_1"]
    assert (kind(g, "stack"), typ(g, "stack"), typ(g, "inner")) == ("module", "Sequential", "Functional")
    assert edges(g) == {
        ("x", "stack.s1"),
        ("stack.s1", "stack.bn"),
        ("stack.bn", "inner.h"),
        ("inner.h", "inner.g"),
        ("inner.h", "cat"),
        ("inner.g", "cat"),
        ("cat", "cat_1"),
    }
    assert column(g, "stack", "params") == 0 and column(g, "stack", "total_params") == seq.count_params()
    assert (column(g, "stack.bn", "frozen"), column(g, "stack", "total_frozen")) == (8, 8)  # moving mean, variance
    assert param_names(g, "stack.bn") == [
        "stack/bn/gamma",
        "stack/bn/beta",
        "stack/bn/moving_mean",
        "stack/bn/moving_variance",
    ]
    check_params(g, model)


def test_a_nested_model_called_twice_is_drawn_per_call():
    seq = keras.Sequential([layers.Dense(3, name="s1"), layers.Dense(2, name="s2")], name="tower")
    x = keras.Input((3,), name="x")
    model = keras.Model(x, layers.Add(name="sum")([seq(x), seq(layers.Dense(3, name="pre")(x))]), name="twice")
    g = keras_capture.capture(model)
    assert {("x", "tower.s1"), ("pre", "tower@1.s1"), ("tower@1.s1", "tower@1.s2"), ("tower@1.s2", "sum")} <= edges(g)
    # the second call shows the tower's own parameters again; nothing is tied
    assert column(g, "tower@1", "total_params") == column(g, "tower", "total_params") == 20
    assert column(g, "tower@1.s1", "tied") == 0 and column(g, "tower@1.s1", "params") == 12
    check_params(g, model)


def test_flat_layer_lists_are_grouped_by_name_prefix():
    x = keras.Input((8,), name="x")
    y = x
    for name in ("stem_conv", "stem_bn", "stem_act", "block1_se_a", "block1_se_b", "block1_se_c", "block1_out"):
        y = layers.Dense(8, name=name)(y)
    for _ in range(3):
        y = layers.Dense(8)(y)  # dense, dense_1, ...: Keras' own names are never grouped
    model = keras.Model(x, layers.Dense(1, name="head_out")(y), name="flat")
    g = keras_capture.capture(model)
    top = [g.path(i) for i, p in enumerate(g.nodes["parent"]) if p == -1]
    assert top[:3] == ["x", "stem", "block1"] and top[-2:] == ["head_out", "head_out_1"]
    assert len(top) == 3 + 3 + 2
    assert [p for p in nodes(g) if p.startswith("block1.")] == [
        "block1.se",
        "block1.se.block1_se_a",
        "block1.se.block1_se_b",
        "block1.se.block1_se_c",
        "block1.block1_out",
    ]
    assert (typ(g, "stem"), kind(g, "stem"), column(g, "stem", "call")) == ("Group", "module", 0)
    assert column(g, "stem", "total_params") == 3 * 72
    assert ("stem.stem_act", "block1.se.block1_se_a") in edges(g)
    assert g.notes == ["3 groups of layers gathered by name prefix (type Group)"]
    assert wire.to_bytes(keras_capture.capture(model)) == wire.to_bytes(g)  # deterministic
    check_params(g, model)


def test_efficientnet_b0():  # in the normal suite: about 1 s
    model = keras.applications.EfficientNetB0(weights=None)
    g = keras_capture.capture(model)
    layer_nodes = [i for i in range(g.node_count) if g.text(g.nodes["type"][i]) not in ("Group", "Input", "Output")]
    assert len(layer_nodes) == len(model._operations) - 1  # all but the InputLayer
    assert len(g.edge_pairs()) == 264 + 1  # the DAG's edges and the one to the output
    top = [g.path(i) for i, p in enumerate(g.nodes["parent"]) if p == -1]
    assert "stem" in top and "block1a" in top and "block7a" in top and len(top) < 30
    assert g.totals["frozen"] == 42_023
    assert len(wire.to_bytes(g)) < 20_000
    check_params(g, model)


# ---------------------------------------------------------------------------- subclassed


class Block(layers.Layer):
    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.fc = layers.Dense(units, name="fc")
        self.norm = layers.LayerNormalization(name="norm")

    def call(self, x):
        return x + self.norm(self.fc(x))  # the add is a keras op: the next block's input has no producer


class Net(keras.Model):
    def __init__(self):
        super().__init__(name="net")
        self.block0 = Block(4, name="block0")
        self.block1 = Block(4, name="block1")
        self.head = layers.Dense(2, name="head")
        self.drop = layers.Dropout(0.5, name="drop")
        self.bn = layers.BatchNormalization(name="bn")
        self.spare = layers.Dense(3, name="spare")  # never called

    def call(self, inputs):
        x = self.block1(self.block0(inputs["x"]))
        return self.head(self.drop(self.bn(self.head(x)[:, :1] * 0 + inputs["y"])))


def net_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(2, 4)), "y": rng.normal(size=(2, 4)).astype(F32)}


def test_subclassed_with_inputs_gives_the_call_tree():
    model = Net()
    g = keras_capture.capture(model, net_inputs())  # builds the model by this one call
    assert g.capture == "calls"
    assert list(nodes(g)) == [
        "x",
        "y",
        "block0",
        "block0.fc",
        "block0.norm",
        "block1",
        "block1.fc",
        "block1.norm",
        "head",
        "bn",
        "drop",
        "head@1",
        "output",
        "spare",
    ]
    assert (column(g, "head", "calls"), column(g, "head@1", "call")) == (2, 1)
    assert (column(g, "spare", "call"), column(g, "spare", "calls")) == (-1, 0)
    assert shapes(g, "x", "outputs") == [(F32, (2, 4))]  # the float64 array as the model casts it
    assert shapes(g, "head", "outputs") == [(F32, (2, 2))] and shapes(g, "head@1", "inputs") == [(F32, (2, 4))]
    assert edges(g) == {
        ("x", "block0.fc"),
        ("block0.fc", "block0.norm"),
        ("block1.fc", "block1.norm"),
        ("bn", "drop"),
        ("drop", "head@1"),
        ("head@1", "output"),
    }
    assert "1 layer was never called" in g.notes
    assert any(n.startswith("3 tensors reaching a layer or the output from no recorded layer") for n in g.notes)
    assert param_names(g, "block1.fc") == ["net/block1/fc/kernel", "net/block1/fc/bias"]
    check_params(g, model)


def test_an_unbuilt_sequential_is_called_once_and_its_building_calls_are_not_drawn():
    model = keras.Sequential([layers.Dense(4, name="a1"), layers.Dense(2, name="a2")], name="lazy")
    g = keras_capture.capture(model, np.zeros((3, 5), F32))  # Keras builds it by a symbolic call first
    assert g.capture == "calls" and list(nodes(g)) == ["input", "a1", "a2", "output"]
    assert edges(g) == {("input", "a1"), ("a1", "a2"), ("a2", "output")}
    assert shapes(g, "a1", "outputs") == [(F32, (3, 4))]
    check_params(g, model)
    assert keras_capture.capture(model).capture == "symbolic"  # now it has its DAG


def test_subclassed_built_without_inputs_gives_the_layer_tree():
    model = Net()
    model(net_inputs())
    g = keras_capture.capture(model)
    assert g.capture == "hierarchy" and g.edges == []
    assert list(nodes(g)) == [
        "block0",
        "block0.fc",
        "block0.norm",
        "block1",
        "block1.fc",
        "block1.norm",
        "head",
        "drop",
        "bn",
        "spare",
    ]
    assert column(g, "block0", "params") == 0 and column(g, "block0", "total_params") == 4 * 4 + 4 + 8
    assert column(g, "bn", "frozen") == 8
    assert {column(g, p, "call") for p in nodes(g)} == {-1}  # nothing was called
    assert g.notes == [
        keras_capture._HIERARCHY_NOTE,
        "1 layer was not built, with no weights yet: call the model once first",
    ]
    check_params(g, model)


def test_subclassed_unbuilt_without_inputs_raises_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="pass inputs .* or call the model once first"):
        keras_capture.capture(Net())
    with modellens.Writer(tmp_path) as writer, pytest.raises(ValueError, match="not built"):
        writer.graph(Net())
    assert read_graphs(tmp_path) == []


def test_the_own_weights_of_a_model_have_a_node_named_after_its_class():
    class Scaled(keras.Model):
        def __init__(self):
            super().__init__(name="scaled")
            self.fc = layers.Dense(2, name="fc")

        def build(self, shape):
            self.scale = self.add_weight(shape=(2,), name="scale")

        def call(self, x):
            return self.fc(x) * self.scale

    model = Scaled()
    g = keras_capture.capture(model, np.ones((1, 3), F32))
    assert list(nodes(g)) == ["Scaled", "input", "fc", "output"] and typ(g, "Scaled") == "Scaled"
    assert param_names(g, "Scaled") == ["scaled/scale"] and column(g, "Scaled", "params") == 2
    assert "scaled holds 2 parameters in no layer (the node Scaled)" in g.notes
    check_params(g, model)
    assert column(keras_capture.capture(model), "Scaled", "call") == -1


def test_layers_sharing_a_name_get_the_callbacks_numbered_names():
    class Twins(keras.Model):
        def __init__(self):
            super().__init__(name="twins")
            self.a = layers.Dense(2, name="fc")
            self.b = layers.Dense(2, name="fc")

        def call(self, x):
            return self.b(self.a(x))

    model = Twins()
    g = keras_capture.capture(model, np.ones((1, 3), F32))
    assert param_names(g, "fc") == ["twins/fc/kernel", "twins/fc/bias"]
    assert param_names(g, "fc#1") == ["twins/fc/kernel#2", "twins/fc/bias#2"]
    assert edges(g) == {("input", "fc"), ("fc", "fc#1"), ("fc#1", "output")}
    check_params(g, model)


def test_a_bare_layer_is_one_node_with_its_sublayers():
    attention = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")
    query = np.ones((1, 3, 8), F32)
    g = keras_capture.capture(attention, (query, query))  # a tuple: positional arguments
    assert g.path(g.find("mha.query")) == "mha.query" and typ(g, "mha") == "MultiHeadAttention"
    assert attrs(g, "mha") == "num_heads=2, key_dim=4"
    assert {("input_0", "mha.query"), ("input_1", "mha.key"), ("mha.attention_output", "output")} <= edges(g)
    check_params(g, attention)
    tree = keras_capture.capture(attention)
    assert tree.capture == "hierarchy" and list(nodes(tree))[0] == "mha"
    check_params(tree, attention)


def test_not_a_keras_layer_is_a_type_error():
    with pytest.raises(TypeError, match="Keras 3 model or layer"):
        keras_capture.capture(object())


def test_the_capture_changes_nothing():
    model = Net()
    model(net_inputs())
    model.block1.trainable = False
    before = weights_of(model)
    original = keras.src.layers.layer.Layer.__call__
    graphs = [keras_capture.capture(model, net_inputs()), keras_capture.capture(model)]
    assert keras.src.layers.layer.Layer.__call__ is original
    assert all(np.array_equal(a, b) for a, b in zip(before, weights_of(model)))  # BatchNorm's statistics too
    assert model.block1.trainable is False and model.block0.trainable is True
    assert graphs[0].totals["frozen"] == 8 + 28  # bn's moving statistics and the frozen block
    check_params(graphs[0], model)

    class Broken(keras.Model):
        def __init__(self):
            super().__init__()
            self.fc = layers.Dense(2)

        def call(self, x):
            raise RuntimeError("broken forward")

    with pytest.raises(RuntimeError, match="broken forward"):
        keras_capture.capture(Broken(), np.ones((1, 2), F32))
    assert keras.src.layers.layer.Layer.__call__ is original


# ---------------------------------------------------------------------------- the writer


def read_graphs(logdir) -> list[tuple[int, str, wire.Graph]]:
    return [
        (step, tag, graph.decode(np.array([value.tensor.string_val[0]], dtype=object)))
        for tag, step, value in modellens_values(logdir)
    ]


def test_round_trip_through_the_writer(tmp_path):
    a = keras.Input((4,), name="a")
    model = keras.Model(a, layers.Dense(2, name="fc")(layers.BatchNormalization(name="bn")(a)), name="small")
    with modellens.Writer(tmp_path) as writer:
        writer.graph(model, step=3)
    [(step, tag, decoded)] = read_graphs(tmp_path)
    assert (step, tag) == (3, "model")
    assert decoded.to_json() == keras_capture.capture(model).to_json()
    assert decoded.model == "small" and edges(decoded) == {("a", "bn"), ("bn", "fc"), ("fc", "fc_1")}
