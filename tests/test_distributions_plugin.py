"""Training health routes over both TensorBoard data providers, on runs built like the demo's
(real training on scikit-learn's digits): verdicts, statistics against the gradients the
optimizer saw, standard histograms from torch and tensorboardX, and bad parameters."""

from __future__ import annotations

import numpy as np
import pytest

from harness import PROVIDERS, Served, load_demo

torch = pytest.importorskip("torch")

STEPS = 200
EVERY = 10


@pytest.fixture(scope="module")
def health_runs(tmp_path_factory):
    """The demo's torch runs (shorter), plus old-style histogram runs from torch and tensorboardX.

    Returns the logdir and the ground truth: gradients seen before each logged optimizer step.
    """
    demo = load_demo("distributions_demo")
    logdir = tmp_path_factory.mktemp("health_runs")
    truth: dict[str, dict[int, dict[str, np.ndarray]]] = {}

    def recorder(run):
        def on_gradients(step, model):
            if step % EVERY == 0:
                grads = {name: p.grad.detach().double().numpy().copy() for name, p in model.named_parameters()}
                truth.setdefault(run, {})[step] = grads

        return on_gradients

    for run in ("deep_sigmoid", "deep_relu_norm", "diverging"):
        getattr(demo, run)(str(logdir / run), steps=STEPS, on_gradients=recorder(run))
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(0)
    writer = SummaryWriter(str(logdir / "torch_add_histogram"))
    for step in range(3):
        writer.add_histogram("fc.weight", rng.normal(size=(32, 16)), step)
        writer.add_histogram("fc.weight.grad", rng.normal(size=(32, 16)) * 1e-3, step)
    writer.close()
    import tensorboardX

    writer = tensorboardX.SummaryWriter(str(logdir / "tensorboardx_histogram"))
    for step in range(3):
        writer.add_histogram("layer/weight", rng.normal(size=1000), step)
    writer.close()
    return logdir, truth


@pytest.fixture(scope="module", params=PROVIDERS)
def served(request, health_runs):
    logdir, _ = health_runs
    served = Served(logdir, request.param)
    served.wait_for(
        lambda: (
            len(served.json("/distributions/series", run="diverging", tag="gradients")["steps"]) == STEPS // EVERY
            and "tensorboardx_histogram" in served.json("/distributions/tags")["runs"]
        ),
        timeout=60,
    )
    yield served
    served.close()


def test_tags_list_watch_tags_and_standard_histograms(served):
    runs = served.json("/distributions/tags")["runs"]
    assert runs["deep_relu_norm"] == ["activations", "gradients", "updates", "weights"]
    assert runs["deep_sigmoid"] == ["gradients", "updates", "weights"]
    assert runs["torch_add_histogram"] == ["TensorBoard histograms"]
    assert runs["tensorboardx_histogram"] == ["TensorBoard histograms"]


def test_logged_gradients_are_the_ones_the_optimizer_applied(served, health_runs):
    _, truth = health_runs
    for step in (0, 100, STEPS - EVERY):
        body = served.json("/distributions/step", run="deep_relu_norm", tag="gradients", step=step)
        tensors = {t["name"]: t for t in body["tensors"]}
        assert set(tensors) == set(truth["deep_relu_norm"][step])
        for name, grad in truth["deep_relu_norm"][step].items():
            got = tensors[name]
            assert got["elements"] == grad.size and got["shape"] == list(grad.shape)
            assert got["norm"] == pytest.approx(np.linalg.norm(grad), rel=1e-5)
            assert got["min"] == pytest.approx(grad.min(), rel=1e-6) and got["max"] == pytest.approx(
                grad.max(), rel=1e-6
            )
            assert sum(got["histogram"]) == grad.size


def test_a_healthy_run_has_no_verdict(served):
    assert served.json("/distributions/verdicts", run="deep_relu_norm")["verdicts"] == []


def test_vanishing_gradients_are_flagged_on_the_early_layers(served):
    verdicts = {v["kind"]: v for v in served.json("/distributions/verdicts", run="deep_sigmoid")["verdicts"]}
    vanishing = verdicts["vanishing_gradients"]
    assert vanishing["tensors"][0] == "0.weight" and vanishing["evidence"]["ratio_median"] < 1e-3
    # what follows from it: the early layers barely move; nothing breaks
    assert "0.weight" in verdicts["update_ratio_low"]["tensors"]
    assert not {"nonfinite", "exploding_gradients", "weights_not_updating"} & set(verdicts)


def test_divergence_is_flagged_at_the_right_first_step(served, health_runs):
    _, truth = health_runs
    first = min(s for s, grads in truth["diverging"].items() if not all(np.isfinite(g).all() for g in grads.values()))
    verdicts = served.json("/distributions/verdicts", run="diverging")["verdicts"]
    by_kind = {}
    for verdict in verdicts:
        by_kind.setdefault(verdict["kind"], []).append(verdict)
    (gradients,) = [v for v in by_kind["nonfinite"] if v["tag"] == "gradients"]
    assert gradients["first_step"] == first
    assert "exploding_gradients" in by_kind and by_kind["exploding_gradients"][0]["first_step"] < first
    series = served.json("/distributions/series", run="diverging", tag="gradients", metric="nonfinite")
    column = series["steps"].index(first)
    starts = [start for _, start, _ in series["nonfinite"]]
    assert min(starts) == column  # the first non-finite cell is at the first non-finite step
    assert all(end == len(series["steps"]) - 1 for _, _, end in series["nonfinite"])  # and it stays so


def test_thresholds_can_be_moved_per_request(served):
    strict = served.json("/distributions/verdicts", run="deep_relu_norm", update_ratio_high="1e-5")
    assert strict["thresholds"]["update_ratio_high"] == 1e-5
    assert [v["kind"] for v in strict["verdicts"]] == ["update_ratio_high"]


def test_series_tensor_and_activations(served):
    series = served.json("/distributions/series", run="deep_relu_norm", tag="gradients", metric="norm")
    names = [t["name"] for t in series["tensors"]]
    assert names[:3] == ["0.weight", "0.bias", "1.weight"]  # model order
    assert len(series["values"]) == len(names) and all(len(row) == STEPS // EVERY for row in series["values"])
    updates = served.json("/distributions/series", run="deep_relu_norm", tag="updates", metric="update_ratio")
    assert "update_ratio" in updates["metrics"]
    ratio = updates["values"][0][5]
    assert 1e-5 < ratio < 1e-1
    activations = served.json("/distributions/series", run="deep_relu_norm", tag="activations", metric="dead_fraction")
    assert all(0 <= v <= 1 for row in activations["values"] for v in row if v is not None)
    tensor = served.json("/distributions/tensor", run="deep_sigmoid", tag="weights", name="0.weight")
    assert [s["step"] for s in tensor["steps"]] == list(range(0, STEPS, EVERY))
    assert tensor["bins"] == 64 and all(sum(s["histogram"]) == 64 * 64 for s in tensor["steps"])
    first = tensor["steps"][0]
    assert first["percentiles"]["1"] <= first["percentiles"]["50"] <= first["percentiles"]["99"]


@pytest.mark.parametrize(
    "run, name, elements",
    [
        ("torch_add_histogram", "fc.weight", 512),
        ("torch_add_histogram", "fc.weight.grad", 512),
        ("tensorboardx_histogram", "layer/weight", 1000),
    ],
)
def test_standard_histograms_are_read_as_approximate(served, run, name, elements):
    tensor = served.json("/distributions/tensor", run=run, tag="TensorBoard histograms", name=name)
    assert tensor["approximate"] is True
    assert [s["step"] for s in tensor["steps"]] == [0, 1, 2]
    step = tensor["steps"][0]
    assert step["elements"] == elements and step["zeros"] is None and step["nan"] is None
    assert len(step["edges"]) == len(step["histogram"]) + 1 and sum(step["histogram"]) == pytest.approx(elements)
    series = served.json("/distributions/series", run=run, tag="TensorBoard histograms")
    assert series["approximate"] is True and name in [t["name"] for t in series["tensors"]]
    assert served.json("/distributions/verdicts", run=run)["verdicts"] == []


@pytest.mark.parametrize(
    "route, params, status",
    [
        ("series", {"run": "deep_sigmoid", "tag": "gradients", "metric": "bogus"}, 400),
        ("series", {"run": "deep_sigmoid", "tag": "gradients", "metric": "dead_fraction"}, 400),
        ("tensor", {"run": "deep_sigmoid", "tag": "gradients"}, 400),
        ("tensor", {"run": "deep_sigmoid", "tag": "gradients", "name": "nope"}, 404),
        ("tensor", {"run": "nope", "tag": "gradients", "name": "0.weight"}, 404),
        ("tensor", {"run": "deep_sigmoid", "tag": "TensorBoard histograms", "name": "0.weight"}, 404),
        ("verdicts", {}, 400),
        ("verdicts", {"run": "nope"}, 404),
        ("verdicts", {"run": "deep_sigmoid", "persistence": "-1"}, 400),
        ("verdicts", {"run": "deep_sigmoid", "exploding_factor": "abc"}, 400),
        ("verdicts", {"run": "deep_sigmoid", "dead_fraction": "inf"}, 400),
        ("step", {"run": "torch_add_histogram", "tag": "TensorBoard histograms", "step": "7"}, 404),
    ],
)
def test_bad_parameters_get_400_or_404(served, route, params, status):
    response = served.get(f"/distributions/{route}", **params)
    assert response.status_code == status, response.get_data(as_text=True)
