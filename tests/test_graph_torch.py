"""The torch structure capture: module calls, ops and dataflow on real inputs, or the module
tree without them; every model is written here (no downloads)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import modellens  # noqa: E402
from harness import modellens_values  # noqa: E402
from modellens import graph  # noqa: E402
from modellens.graph import torch_capture  # noqa: E402
from modellens.graph.torch_capture import capture  # noqa: E402
from modellens.graph.wire import NODE_KINDS, Graph, to_bytes  # noqa: E402

MODULE, OP, INPUT, OUTPUT = range(4)


# ---------------------------------------------------------------------------- helpers


def edge_paths(g: Graph) -> set[tuple[str, str]]:
    return {(g.path(src), g.path(dst)) for src, dst in g.edge_pairs()}


def node(g: Graph, path: str) -> dict:
    """One node's columns, names and types as text."""
    index = g.find(path)
    row = {column: values[index] for column, values in g.nodes.items()}
    row["kind"] = NODE_KINDS[row["kind"]]
    row["type"] = g.text(row["type"])
    row["attrs"] = g.text(row["attrs"])
    row["param_names"] = [g.text(s) for s in row["param_names"]]
    row["outputs"] = [shape_of(g, s) for s in row["outputs"]]
    return row


def shape_of(g: Graph, index: int) -> tuple[str, tuple[int, ...]]:
    dtype, *dims = g.shapes[index]
    return g.text(dtype), tuple(dims)


def kinds(g: Graph, kind: int) -> list[str]:
    return [g.path(i) for i in range(g.node_count) if g.nodes["kind"][i] == kind]


def children(g: Graph, path: str) -> list[str]:
    parent = g.find(path)
    return [g.text(g.nodes["name"][i]) for i in range(g.node_count) if g.nodes["parent"][i] == parent]


def op_types(g: Graph) -> set[str]:
    return {g.text(g.nodes["type"][i]) for i in range(g.node_count) if g.nodes["kind"][i] == OP}


def is_atom(g: Graph, index: int) -> bool:
    if g.nodes["kind"][index] != MODULE:
        return True
    inner = [i for i in range(g.node_count) if g.nodes["parent"][i] == index]
    return g.nodes["call"][index] >= 0 and all(g.nodes["kind"][i] == MODULE and g.nodes["call"][i] < 0 for i in inner)


def assert_sound(g: Graph) -> None:
    """No orphan inputs, edges only between atoms, one producer for every output."""
    assert g.capture == "calls"
    assert not [note for note in g.notes if "outside the capture" in note], g.notes
    assert all(is_atom(g, src) and is_atom(g, dst) for src, dst in g.edge_pairs())
    for index in range(g.node_count):
        if g.nodes["kind"][index] == OUTPUT:
            assert [src for src, dst in g.edge_pairs() if dst == index], g.path(index)
    assert g.totals["params"] == g.totals["trainable"] + g.totals["frozen"]


def total_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------- models


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        return x + self.fc2(self.relu(self.fc1(x)))


class ConvBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(x + self.bn2(self.conv2(y)))


class ResNetish(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(ConvBlock(8), ConvBlock(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Linear(8, 3))

    def forward(self, x):
        return self.head(self.pool(self.blocks(self.stem(x))).flatten(1))


class SharedAndUnused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.unused = nn.Linear(4, 2)

    def forward(self, x):
        return self.proj(torch.relu(self.proj(x)))


class Wrapper(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return torch.tanh(self.inner(x))


class TwoSites(nn.Module):
    """One module registered (and called) under two parents."""

    def __init__(self) -> None:
        super().__init__()
        shared = nn.Linear(4, 4)
        self.enc = Wrapper(shared)
        self.dec = Wrapper(shared)

    def forward(self, x):
        return self.dec(self.enc(x))


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.body = nn.Linear(4, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids):
        return self.head(self.body(self.embed(ids)))


@dataclasses.dataclass
class Pair:
    left: torch.Tensor
    right: torch.Tensor
    label: str = "pair"


@dataclasses.dataclass
class Result:
    total: torch.Tensor
    count: int


class Structured(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x, pair, extra=None):
        out = {"sum": self.fc(x) + pair.left, "parts": (pair.right * 2, None, "text", x.mean())}
        if extra is not None:
            out["extra"] = Result(extra["scale"] * x, count=1)
        return out


class InPlace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU(inplace=True)
        self.same = nn.Identity()

    def forward(self, x):
        y = self.fc(x)
        y.add_(1)
        return self.same(self.act(y))


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(2, 2)
        self.down = nn.Linear(2, 2)

    def forward(self, x):
        return self.up(x) if x.sum() > 0 else self.down(x)


class Boom(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom at the second stage")


class Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)
        self.stages = nn.Sequential(nn.Linear(4, 4), Boom())

    def forward(self, x):
        return self.stages(self.drop(self.bn(x)))


class Scaled(nn.Module):
    """Parameters of its own, outside any submodule, and a constant that is no buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(4))
        self.fc = nn.Linear(4, 4)
        self.offset = torch.full((4,), 0.5)  # a plain attribute: no buffer, no producer

    def forward(self, x):
        return self.fc(x) * self.scale + self.offset


def hooks_left(model: nn.Module) -> list[str]:
    names = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs")
    names += ("_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs")
    return [f"{path}.{name}" for path, m in model.named_modules() for name in names if getattr(m, name)]


# ---------------------------------------------------------------------------- small models


def test_edges_of_a_small_residual_model_are_exact():
    g = torch_capture.capture(Residual(), torch.randn(2, 4))
    assert g.framework == "torch" and g.model == "Residual" and g.capture == "calls"
    assert edge_paths(g) == {
        ("x", "fc1.linear"),
        ("fc1.linear", "relu.relu"),
        ("relu.relu", "fc2.linear"),
        ("fc2.linear", "add"),
        ("x", "add"),
        ("add", "output"),
    }
    assert kinds(g, INPUT) == ["x"] and kinds(g, OUTPUT) == ["output"]
    assert node(g, "output")["type"] == "Output"
    shapes = {(g.path(s), g.path(d)): shape_of(g, k) for (s, d), k in zip(g.edge_pairs(), g.edge_shapes)}
    assert shapes[("x", "fc1.linear")] == ("float32", (2, 4))
    assert shapes[("fc1.linear", "relu.relu")] == ("float32", (2, 8))
    fc1 = node(g, "fc1")
    assert (fc1["kind"], fc1["type"], fc1["call"], fc1["calls"], fc1["params"]) == ("module", "Linear", 0, 1, 40)
    assert fc1["param_names"] == ["fc1.weight", "fc1.bias"]
    assert fc1["attrs"] == "in_features=4, out_features=8, bias=True"
    assert fc1["outputs"] == [("float32", (2, 8))]
    assert g.totals == {"params": 76, "trainable": 76, "frozen": 0}
    assert g.notes == ["inputs had 1 tensor"]
    assert_sound(g)


def test_in_place_ops_and_identity_become_the_newer_producer():
    g = torch_capture.capture(InPlace(), torch.randn(2, 4))
    assert edge_paths(g) == {
        ("x", "fc.linear"),
        ("fc.linear", "add_"),
        ("add_", "act.relu"),  # F.relu(inplace=True) returns its input
        ("act.relu", "same"),
        ("same", "output"),
    }
    assert node(g, "same")["kind"] == "module" and children(g, "same") == []
    assert_sound(g)


def test_op_names_are_normalised():
    class Ops(nn.Module):
        def forward(self, x):
            y = (1 - (1 + x) * 2) / 2 @ x.mT
            y = y.clone()
            y += 1
            y[0] = 0
            return -y

    g = torch_capture.capture(Ops(), torch.randn(3, 3))
    assert [g.path(i) for i in range(g.node_count) if g.nodes["kind"][i] == OP] == [
        "add",
        "mul",
        "sub",
        "div",
        "mT",
        "matmul",
        "clone",
        "add_",
        "setitem",
        "neg",
    ]
    assert_sound(g)


def test_a_residual_cnn_with_a_reused_relu():
    model = ResNetish().train()
    g = torch_capture.capture(model, torch.randn(2, 3, 8, 8))
    first, second = node(g, "blocks.0.relu"), node(g, "blocks.0.relu@1")
    assert (first["call"], first["calls"], second["call"], second["calls"]) == (0, 2, 1, 2)
    assert children(g, "blocks.0") == ["conv1", "bn1", "relu", "conv2", "bn2", "add", "relu@1"]
    assert ("blocks.0.bn2.batch_norm", "blocks.0.add") in edge_paths(g)
    assert ("stem.2.relu", "blocks.0.add") in edge_paths(g)  # the skip connection
    assert ("blocks.0.relu@1.relu", "blocks.1.conv1.conv2d") in edge_paths(g)
    bn = node(g, "blocks.0.bn1")
    assert bn["param_names"] == ["blocks.0.bn1.weight", "blocks.0.bn1.bias"] and bn["params"] == 16
    assert node(g, "stem")["total_params"] == 3 * 8 * 9 + 8 + 16
    assert g.totals["params"] == total_params(model)
    assert_sound(g)


def test_transformer_encoder_shows_the_uncalled_out_proj_with_its_parameters():
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    g = torch_capture.capture(model, torch.randn(2, 5, 16))
    layers = node(g, "layers")
    assert (layers["type"], layers["call"], layers["calls"]) == ("ModuleList", -1, 0)
    assert children(g, "layers") == ["0", "1"]
    out_proj = node(g, "layers.1.self_attn.out_proj")
    assert (out_proj["call"], out_proj["calls"], out_proj["params"]) == (-1, 0, 16 * 16 + 16)
    assert out_proj["param_names"] == ["layers.1.self_attn.out_proj.weight", "layers.1.self_attn.out_proj.bias"]
    assert node(g, "layers.0.self_attn")["total_params"] == 4 * (16 * 16 + 16)
    assert "multi_head_attention_forward" in op_types(g)
    assert "3 modules were never called (their parameters are shown, greyed)" in g.notes
    assert g.totals["params"] == total_params(model)
    assert_sound(g)


def test_a_shared_module_gets_a_node_per_call_and_an_unused_one_shows_uncalled():
    g = torch_capture.capture(SharedAndUnused(), torch.randn(3, 4))
    first, second, unused = node(g, "proj"), node(g, "proj@1"), node(g, "unused")
    assert (first["call"], first["calls"], second["call"], second["calls"]) == (0, 2, 1, 2)
    assert first["param_names"] == ["proj.weight", "proj.bias"] and second["param_names"] == []
    assert first["params"] == second["params"] == 20
    assert (unused["call"], unused["calls"], unused["params"], unused["param_names"]) == (
        -1,
        0,
        10,
        ["unused.weight", "unused.bias"],
    )
    assert edge_paths(g) == {
        ("x", "proj.linear"),
        ("proj.linear", "relu"),
        ("relu", "proj@1.linear"),
        ("proj@1.linear", "output"),
    }
    assert "1 module was never called (their parameters are shown, greyed)" in g.notes
    assert g.totals["params"] == 30
    assert_sound(g)


def test_a_module_under_two_parents_is_placed_under_each_calling_parent():
    g = torch_capture.capture(TwoSites(), torch.randn(3, 4))
    assert edge_paths(g) == {
        ("x", "enc.inner.linear"),
        ("enc.inner.linear", "enc.tanh"),
        ("enc.tanh", "dec.inner@1.linear"),
        ("dec.inner@1.linear", "dec.tanh"),
        ("dec.tanh", "output"),
    }
    first, second = node(g, "enc.inner"), node(g, "dec.inner@1")
    assert (first["param_names"], second["param_names"]) == (["enc.inner.weight", "enc.inner.bias"], [])
    assert first["params"] == second["params"] == node(g, "dec")["total_params"] == 20
    assert g.totals["params"] == 20
    assert_sound(g)
    tree = torch_capture.capture(TwoSites())
    assert [tree.path(i) for i in range(tree.node_count)] == ["enc", "enc.inner", "dec", "dec.inner"]
    assert node(tree, "dec.inner")["params"] == 20 and node(tree, "dec.inner")["param_names"] == []


def test_tied_and_frozen_parameters_are_counted_once():
    model = Tied()
    model.body.requires_grad_(False)
    g = torch_capture.capture(model, torch.tensor([[1, 2, 3]]))
    embed, head = node(g, "embed"), node(g, "head")
    assert (embed["params"], embed["tied"], embed["param_names"]) == (40, 0, ["embed.weight"])
    assert (head["params"], head["tied"], head["param_names"]) == (0, 40, [])
    body = node(g, "body")
    assert (body["params"], body["frozen"], body["total_frozen"]) == (20, 20, 20)
    assert g.totals == {"params": total_params(model), "trainable": 40, "frozen": 20}
    assert total_params(model) == 60
    assert node(g, "ids")["outputs"] == [("int64", (1, 3))]
    assert_sound(g)


def test_structured_inputs_and_outputs_are_flattened_by_name():
    model = Structured()
    x, pair = torch.randn(2, 3), Pair(torch.randn(2, 3), torch.randn(2, 3))
    positional = torch_capture.capture(model, (x, pair))
    keywords = torch_capture.capture(model, {"x": x, "pair": pair, "extra": {"scale": torch.tensor(2.0)}})
    assert kinds(positional, INPUT) == ["x", "pair_left", "pair_right"]
    assert kinds(positional, OUTPUT) == ["sum", "parts_0", "parts_3"]
    assert kinds(keywords, INPUT) == ["x", "pair_left", "pair_right", "extra_scale"]
    assert kinds(keywords, OUTPUT) == ["sum", "parts_0", "parts_3", "extra_total"]
    assert ("pair_right", "mul") in edge_paths(positional) and ("mul", "parts_0") in edge_paths(positional)
    assert ("extra_scale", "mul_1") in edge_paths(keywords)
    assert keywords.notes[0] == "inputs had 4 tensors"
    assert_sound(positional)
    assert_sound(keywords)


def test_unnamed_positional_inputs_and_tuple_outputs():
    class Star(nn.Module):
        def forward(self, *args):
            return args[0] + args[1], args[1]

    g = torch_capture.capture(Star(), [torch.ones(2), torch.ones(2)])
    assert kinds(g, INPUT) == ["input_0", "input_1"] and kinds(g, OUTPUT) == ["output_0", "output_1"]
    assert ("input_1", "output_1") in edge_paths(g)
    assert_sound(g)


@pytest.mark.parametrize("bad", [3.0, "x", {1: torch.ones(1)}, object()])
def test_inputs_of_another_kind_are_refused(bad):
    with pytest.raises(TypeError, match="inputs"):
        torch_capture.capture(Residual(), bad)


def test_data_dependent_control_flow_records_the_branch_taken():
    model = Branchy()
    up = torch_capture.capture(model, torch.ones(1, 2))
    down = torch_capture.capture(model, -torch.ones(1, 2))
    assert (node(up, "up")["call"], node(up, "down")["call"]) == (0, -1)
    assert (node(down, "up")["call"], node(down, "down")["call"]) == (-1, 0)
    assert {"sum", "gt"} <= op_types(up)
    assert ("up.linear", "output") in edge_paths(up) and ("down.linear", "output") in edge_paths(down)
    assert_sound(up)
    assert_sound(down)


def test_own_parameters_of_the_model_and_a_constant_from_outside():
    g = torch_capture.capture(Scaled(), torch.randn(2, 4))
    own = node(g, "Scaled")
    assert g.path(0) == "Scaled"
    assert (own["kind"], own["params"], own["param_names"], own["call"]) == ("module", 4, ["scale"], 0)
    assert own["total_params"] == 4  # its own parameters only, beside the submodules' nodes
    assert g.totals["params"] == 24 == sum(g.nodes["total_params"][i] for i, p in enumerate(g.nodes["parent"]) if p < 0)
    assert "Scaled holds 4 parameters in no submodule (shown as the top-level node Scaled)" in g.notes
    assert [note for note in g.notes if note.startswith("1 input of ops or modules came from outside the capture")]
    tree = torch_capture.capture(Scaled())
    assert tree.path(0) == "Scaled" and node(tree, "Scaled")["call"] == -1 and tree.totals["params"] == 24


def test_a_compiled_model_is_captured_through_its_original_module():
    compiled = torch.compile(Residual())
    g = torch_capture.capture(compiled, torch.randn(2, 4))
    assert g.model == "Residual"
    assert not [g.path(i) for i in range(g.node_count) if "_orig_mod" in g.path(i)]
    assert ("x", "fc1.linear") in edge_paths(g)


def test_hierarchy_without_inputs():
    model = ResNetish()
    g = torch_capture.capture(model)
    assert g.capture == "hierarchy" and g.edges == [] and g.notes[0].startswith("no inputs were given")
    paths = [g.path(i) for i in range(g.node_count)]
    assert paths == [name for name, _ in model.named_modules() if name]
    assert set(g.nodes["call"]) == {-1} and set(g.nodes["calls"]) == {0}
    assert node(g, "blocks")["total_params"] == total_params(model.blocks)
    assert node(g, "head.1")["attrs"] == "in_features=8, out_features=3, bias=True"
    assert g.totals["params"] == total_params(model)


# ---------------------------------------------------------------------------- leaving the model as it was


def test_capture_leaves_the_model_as_it_was():
    model = ResNetish().train()
    model.head.eval()
    before = {name: t.clone() for name, t in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    inputs = torch.randn(2, 3, 8, 8)
    rng = torch.get_rng_state()
    torch_capture.capture(model, inputs)
    assert torch.equal(torch.get_rng_state(), rng)
    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(before[name], t) for name, t in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert hooks_left(model) == []
    assert torch.overrides._get_current_function_mode_stack() == []


def test_a_forward_that_raises_propagates_restores_and_writes_nothing(tmp_path: Path):
    model = Raises().train()
    before = {name: t.clone() for name, t in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    inputs = torch.randn(3, 4)
    rng = torch.get_rng_state()
    with modellens.Writer(tmp_path) as writer, pytest.raises(ValueError, match="boom at the second stage") as error:
        writer.graph(model, inputs, tag="model")
    assert "pass inputs its forward accepts" in str(error.value)
    assert isinstance(error.value.__cause__, RuntimeError)  # the user's own error, kept as the cause
    assert torch.equal(torch.get_rng_state(), rng)
    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(before[name], t) for name, t in model.state_dict().items())
    assert hooks_left(model) == []
    assert torch.overrides._get_current_function_mode_stack() == []
    assert read_graphs(tmp_path) == []


# ---------------------------------------------------------------------------- Hugging Face


@pytest.fixture(scope="module")
def bert():
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=128, vocab_size=100
    )
    torch.manual_seed(0)
    return transformers.BertModel(config).eval()


def test_bert_with_dict_inputs(bert):
    ids = torch.randint(0, 100, (2, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    g = torch_capture.capture(bert, {"input_ids": ids, "attention_mask": mask})
    assert g.model == "BertModel"
    assert kinds(g, INPUT) == ["input_ids", "attention_mask"]
    assert kinds(g, OUTPUT) == ["last_hidden_state", "pooler_output"]
    assert node(g, "last_hidden_state")["type"] == "Output"
    tops = [g.path(i) for i in range(g.node_count) if g.nodes["parent"][i] == -1 and g.nodes["kind"][i] == MODULE]
    assert tops == ["embeddings", "encoder", "pooler"]
    assert node(g, "encoder.layer")["call"] == -1 and children(g, "encoder.layer") == ["0", "1"]
    assert node(g, "encoder.layer.1")["call"] == 0
    assert "scaled_dot_product_attention" in op_types(g)
    sdpa = g.find("encoder.layer.0.attention.self.scaled_dot_product_attention")
    assert [g.path(s) for s, d in g.edge_pairs() if d == sdpa][:3] == [
        "encoder.layer.0.attention.self.transpose",
        "encoder.layer.0.attention.self.transpose_1",
        "encoder.layer.0.attention.self.transpose_2",
    ]
    dropout = node(g, "encoder.layer.0.attention.self.dropout")
    assert (dropout["call"], dropout["calls"]) == (-1, 0)  # the SDPA path takes dropout_p instead
    query = node(g, "encoder.layer.0.attention.self.query")
    assert query["param_names"] == [
        "encoder.layer.0.attention.self.query.weight",
        "encoder.layer.0.attention.self.query.bias",
    ]
    assert node(g, "pooler_output")["inputs"] and ("pooler.activation.tanh", "pooler_output") in edge_paths(g)
    assert g.totals["params"] == total_params(bert)
    assert hooks_left(bert) == []
    assert_sound(g)


def test_a_cache_in_the_output_is_skipped():
    DynamicCache = pytest.importorskip("transformers.cache_utils").DynamicCache

    class Cached(nn.Module):
        def forward(self, x):
            cache = DynamicCache()
            cache.update(x * 2, x * 3, 0)
            return {"hidden": x + 1, "past_key_values": cache}

    g = torch_capture.capture(Cached(), torch.ones(1, 1, 2, 2))
    assert kinds(g, OUTPUT) == ["hidden"]
    assert_sound(g)


def test_bert_without_inputs_is_its_module_tree(bert):
    g = torch_capture.capture(bert)
    assert g.capture == "hierarchy" and g.edges == []
    assert [g.path(i) for i in range(g.node_count)] == [name for name, _ in bert.named_modules() if name]
    assert children(g, "encoder.layer") == ["0", "1"]
    assert node(g, "encoder.layer.0.attention.self.query")["params"] == 64 * 64 + 64
    assert g.totals["params"] == total_params(bert)


# ---------------------------------------------------------------------------- the writer


def read_graphs(logdir: Path) -> list[tuple[str, int, bytes]]:
    return [(tag, step, value.tensor.string_val[0]) for tag, step, value in modellens_values(logdir)]


def test_a_graph_written_by_the_writer_reads_back(tmp_path: Path):
    model = ResNetish()
    inputs = torch.randn(1, 3, 8, 8)
    with modellens.Writer(tmp_path) as writer:
        writer.graph(model, inputs, tag="structure", step=3)
    [(tag, step, blob)] = read_graphs(tmp_path)
    assert (tag, step) == ("structure", 3)
    assert blob == to_bytes(torch_capture.capture(model, inputs))
    back = graph.decode([blob])
    assert back.capture == "calls" and back.model == "ResNetish"
    assert back.totals["params"] == total_params(model)
    assert_sound(back)


def test_inputs_that_do_not_fit_the_forward_say_what_to_pass():
    with pytest.raises(TypeError, match=r"Linear.forward failed on the given inputs .*a tuple of positional"):
        capture(nn.Linear(2, 2), [torch.ones(2), torch.ones(2)])
    with pytest.raises(ValueError, match="mat1 and mat2 shapes cannot be multiplied"):
        capture(nn.Linear(2, 2), torch.ones(3, 5))
    scripted = torch.jit.script(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="ScriptModule runs no forward hooks"):
        capture(scripted, torch.ones(1, 2))
    assert capture(scripted).totals["params"] == 6 and capture(scripted).model == "Sequential"


class Averaging(nn.Module):
    """Replaces its buffer object in forward (``self.ema = ...``), as EMA statistics often do."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.register_buffer("ema", torch.zeros(3))

    def forward(self, x):
        self.ema = 0.9 * self.ema + 0.1 * x.mean(0)
        return self.fc(x)


def test_a_buffer_the_forward_replaces_is_restored_as_the_same_object():
    model = Averaging()
    buffer = model.ema
    capture(model, torch.ones(2, 3))
    assert model.ema is buffer and torch.equal(model.ema, torch.zeros(3))


def test_wrappers_are_recorded_through_with_the_parameter_names_training_health_logs():
    inner = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    wrapped = nn.DataParallel(inner)  # on CPU it runs the module itself
    g = capture(wrapped, torch.ones(1, 2))
    names = {g.text(i) for row in g.nodes["param_names"] for i in row}
    assert names == {name for name, _ in wrapped.named_parameters()} == {"module.0.weight", "module.0.bias"}
    nested = nn.Sequential(nn.Linear(2, 2), torch.compile(nn.Sequential(nn.Linear(2, 2))))
    g = capture(nested)
    assert {g.text(i) for row in g.nodes["param_names"] for i in row} == {
        "0.weight",
        "0.bias",
        "1.0.weight",
        "1.0.bias",
    }
