"""The graph routes over both TensorBoard data providers: the demo's real runs (a trained
two-input CNN whose graph ``watch`` logged, BERT from its config), steps of a changed model,
and the names that tie a graph's parameters to the run's Training health tensors."""

from __future__ import annotations

import pytest

import modellens
from harness import PROVIDERS, Served, load_demo
from modellens import graph

torch = pytest.importorskip("torch")

graph_demo = load_demo("graph_demo")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph_logs")
    graph_demo.two_input_cnn(str(root / "two_input_cnn"))
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    with modellens.Writer(root / "changed") as writer:
        writer.graph(model, torch.zeros(2, 8), step=0)
        model[2] = torch.nn.Linear(16, 2)  # surgery: a new head, logged as a later step
        writer.graph(model, torch.zeros(2, 8), step=10)
        writer.graph(model, tag="tree", step=0)
    return root


@pytest.fixture(params=PROVIDERS, scope="module")
def served(request, logdir):
    served = Served(logdir, request.param)
    served.wait_for(lambda: served.json("/graph/tags")["runs"].get("changed") == ["model", "tree"])
    served.wait_for(lambda: "two_input_cnn" in served.json("/graph/tags")["runs"])
    yield served
    served.close()


def test_tags_list_every_run_with_a_graph(served):
    assert served.json("/graph/tags")["runs"] == {"changed": ["model", "tree"], "two_input_cnn": ["model"]}


def test_a_changed_model_is_a_later_step(served):
    series = served.json("/graph/series", run="changed", tag="model")["steps"]
    assert [(s["step"], s["params"]) for s in series] == [(0, 8 * 16 + 16 + 16 * 4 + 4), (10, 8 * 16 + 16 + 16 * 2 + 2)]
    later = served.json("/graph/step", run="changed", tag="model", step=10)
    head = graph.wire.from_json(later["graph"])
    assert head.nodes["total_params"][head.find("2")] == 16 * 2 + 2
    assert served.json("/graph/step", run="changed", tag="tree", step=0)["graph"]["capture"] == "hierarchy"


def test_the_served_graph_is_what_the_model_gives(served):
    """The route returns the capture unchanged: every column, edge and total."""
    body = served.json("/graph/step", run="two_input_cnn", tag="model", step=0)
    assert body["step"] == 0 and isinstance(body["wall_time"], float)
    served_graph = graph.wire.from_json(body["graph"])
    images, profiles, _ = graph_demo.digit_inputs()
    expected = graph.from_input(
        graph_demo.two_input_model(), (torch.from_numpy(images[:64]), torch.from_numpy(profiles[:64]))
    )
    assert served_graph.nodes == expected.nodes and served_graph.edges == expected.edges
    assert served_graph.totals == expected.totals and served_graph.strings == expected.strings
    kinds = [graph.wire.NODE_KINDS[k] for k in served_graph.nodes["kind"]]
    names = {served_graph.path(i) for i, kind in enumerate(kinds) if kind in ("input", "output")}
    assert names == {"image", "profile", "logits", "embedding"}


def test_graph_parameters_are_the_health_tensors_of_the_run(served):
    """The Structure view colours nodes by Training health: the graph's parameter names must be
    the tensor names ``watch`` logged in the same run."""
    body = served.json("/graph/step", run="two_input_cnn", tag="model", step=0)["graph"]
    names = {body["strings"][i] for row in body["nodes"]["param_names"] for i in row}
    gradients = served.json("/distributions/step", run="two_input_cnn", tag="gradients", step=0)
    assert names == {t["name"] for t in gradients["tensors"]}
    assert names == {name for name, _ in graph_demo.two_input_model().named_parameters()}


def test_several_watched_models_get_one_graph_each_with_prefixed_names(tmp_path):
    encoder, head = torch.nn.Linear(4, 8), torch.nn.Linear(8, 2)
    optimizer = torch.optim.SGD([*encoder.parameters(), *head.parameters()], lr=0.1)
    with modellens.Writer(tmp_path / "run") as writer:
        handle = modellens.torch.watch([encoder, head], writer, every=1, prefix="net/")
        for _ in range(2):
            optimizer.zero_grad()
            head(encoder(torch.ones(3, 4))).sum().backward()
            optimizer.step()
        handle.remove()
    served = Served(tmp_path, "python")
    runs = served.json("/graph/tags")["runs"]
    assert runs["run"] == ["net/model_0", "net/model_1"]
    second = served.json("/graph/step", run="run", tag="net/model_1", step=0)["graph"]
    assert {second["strings"][i] for row in second["nodes"]["param_names"] for i in row} == {"1.weight", "1.bias"}
    tensors = served.json("/distributions/step", run="run", tag="net/gradients", step=0)["tensors"]
    assert {"1.weight", "1.bias"} <= {t["name"] for t in tensors}
    served.close()
