"""``modellens.torch.watch``: what it logs, when, and that it costs nothing in between."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import modellens  # noqa: E402
import modellens.distributions as distributions  # noqa: E402
import modellens.graph as graph  # noqa: E402
import modellens.torch as mltorch  # noqa: E402
from modellens.distributions import torch_stats  # noqa: E402


class Recorder:
    """Stands in for a ``modellens.Writer``: reduces each call at once, as the writer does."""

    def __init__(self) -> None:
        self.records: list[tuple[str, int, distributions.Distributions]] = []
        self.graphs: list[tuple[str, int, graph.Graph]] = []

    def distributions(self, tag, tensors, *, step, wall_time=None, extras=None):
        self.records.append((tag, step, distributions.from_input(tensors, extras=extras)))

    def graph(self, model, inputs=None, *, tag="model", step=0, wall_time=None):
        self.graphs.append((tag, step, graph.from_input(model, inputs)))

    def steps(self, tag: str) -> list[int]:
        return [s for t, s, _ in self.records if t == tag]

    def get(self, tag: str, step: int) -> distributions.Distributions:
        found = [d for t, s, d in self.records if t == tag and s == step]
        assert len(found) == 1, f"{len(found)} records of {tag!r} at step {step}"
        return found[0]


def row(data: distributions.Distributions, name: str) -> int:
    return data.names.index(name)


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    for p in model[0].parameters():  # a frozen first layer
        p.requires_grad_(False)
    return model


def batches(seed: int = 0, size: int = 16):
    g = torch.Generator().manual_seed(seed)
    while True:
        yield torch.randn(size, 20, generator=g), torch.randint(0, 3, (size,), generator=g)


def test_gradients_are_what_the_optimizer_applies_under_amp_clipping_and_accumulation():
    model = mlp()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    recorder = Recorder()
    handle = mltorch.watch(model, recorder, every=2, log=("weights", "gradients"))
    applied = []  # what the optimizer saw, captured by a hook registered after watch's

    def capture(opt, args, kwargs):
        names = [n for n, p in model.named_parameters() if p.grad is not None]
        grads = [p.grad.detach().clone() for p in model.parameters() if p.grad is not None]
        applied.append((names, grads))

    optimizer.register_step_pre_hook(capture)
    data = batches()
    skipped = 3
    for iteration in range(9):
        optimizer.zero_grad()
        for micro in range(4):
            x, y = next(data)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = nn.functional.cross_entropy(model(x), y) / 4
            if iteration == skipped and micro == 2:
                loss = loss * math.inf  # the scaler finds Inf and skips this step
            scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        scaler.step(optimizer)
        scaler.update()
    handle.remove()
    assert len(applied) == 8, "the skipped step fires no step hook"
    assert recorder.steps("gradients") == [0, 2, 4, 6]
    assert recorder.steps("weights") == [0, 2, 4, 6]
    for step in (0, 2, 4, 6):
        logged = recorder.get("gradients", step)
        names, grads = applied[step]
        assert logged.names == names and "0.weight" not in names
        expected = torch_stats.tensor_stats(grads)
        assert np.array_equal(logged.stats.counts, expected.counts)
        np.testing.assert_array_equal(logged.stats.values, expected.values)
        np.testing.assert_array_equal(logged.stats.histograms, expected.histograms)
        # unscaled and clipped: the global norm is the clip value, not 2¹² times larger
        global_norm = math.sqrt(float((logged.stats.values[:, 4] ** 2).sum()))
        assert global_norm <= 0.5 * (1 + 1e-4)
        assert np.isfinite(logged.stats.values).all() and logged.stats.counts[:, 2:].sum() == 0


def test_frozen_and_unused_parameters_are_left_out_of_gradients_only():
    model = mlp()
    unused = nn.Linear(5, 5)  # gets no gradient: never called
    model.add_module("unused", unused)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    recorder = Recorder()
    with mltorch.watch(model, recorder, every=1):
        x, y = next(batches())
        nn.functional.cross_entropy(model[:5](x), y).backward()
        optimizer.step()
    weights, grads = recorder.get("weights", 0), recorder.get("gradients", 0)
    assert weights.names == [n for n, _ in model.named_parameters()]
    assert grads.names == ["2.weight", "2.bias", "4.weight", "4.bias"]
    assert recorder.get("updates", 0).names == grads.names


@pytest.mark.parametrize("exact", [False, True])
def test_update_ratio_matches_the_exact_ratio(exact):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(600, 500), nn.Tanh(), nn.Linear(500, 10))  # 300,000 > SAMPLE
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = {}

    def snapshot(opt, args, kwargs):
        before.update({n: p.detach().clone() for n, p in model.named_parameters()})

    optimizer.register_step_pre_hook(snapshot)
    recorder = Recorder()
    handle = mltorch.watch(model, recorder, every=3, exact=exact)
    exact_ratios = {}
    for step in range(4):
        optimizer.zero_grad()
        x = torch.randn(32, 600)
        model(x).pow(2).mean().backward()
        optimizer.step()
        exact_ratios[step] = {
            n: float((p.detach() - before[n]).norm() / before[n].norm()) for n, p in model.named_parameters()
        }
    handle.remove()
    assert recorder.steps("updates") == [0, 3]
    for step in (0, 3):
        updates = recorder.get("updates", step)
        ratio = updates.extras["update_ratio"]
        for name, truth in exact_ratios[step].items():
            got = ratio[row(updates, name)]
            assert abs(got - truth) <= (1e-4 if exact else 0.05) * truth, (name, got, truth)
        big = row(updates, "0.weight")
        assert updates.stats.counts[big, 0] == (300_000 if exact else -(-300_000 // mltorch._stride(300_000)))


def relu_nets():
    torch.manual_seed(1)
    dense = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():  # unit 3 is dead: its pre-activation is always -100
        dense[0].weight[3] = 0
        dense[0].bias[3] = -100
    conv = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    with torch.no_grad():  # channel 2 is dead
        conv[0].weight[2] = 0
        conv[0].bias[2] = -100
    return dense, conv


def test_activations_dead_fraction_on_logging_steps_only():
    dense, conv = relu_nets()
    recorder = Recorder()
    optimizer = torch.optim.SGD(list(dense.parameters()) + list(conv.parameters()), lr=0.01)
    handle = mltorch.watch([dense, conv], recorder, every=3, log=("activations",))
    hooked = []
    for _ in range(7):
        hooked.append(sum(len(m._forward_hooks) for m in list(dense.modules()) + list(conv.modules())))
        optimizer.zero_grad()
        for _ in range(2):  # two micro-batches: the first one is recorded
            loss = dense(torch.randn(16, 10)).sum() + conv(torch.randn(5, 3, 6, 6)).sum()
            loss.backward()
        with torch.no_grad():  # an evaluation pass is not recorded
            dense(torch.zeros(4, 10))
        optimizer.step()
    handle.remove()
    leaves = 3 + 4
    assert hooked == [leaves, 0, 0, leaves, 0, 0, leaves], "forward hooks only before logging steps"
    assert recorder.steps("activations") == [0, 3, 6]
    acts = recorder.get("activations", 3)
    dead = acts.extras["dead_fraction"]
    assert acts.names == ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2", "1.3"]
    assert dead[row(acts, "0.1")] == pytest.approx(1 / 8)  # ReLU of [16, 8]: last dim
    assert dead[row(acts, "1.1")] == pytest.approx(1 / 4)  # ReLU of [5, 4, 6, 6]: dim 1
    assert dead[row(acts, "1.0")] == 0  # the conv's output is -100 there, not 0
    assert acts.stats.counts[row(acts, "0.1"), 0] == 16 * 8
    assert acts.stats.counts[row(acts, "0.1"), 1] >= 16  # the dead unit's zeros, at least
    assert not any(m._forward_hooks for m in list(dense.modules()) + list(conv.modules()))


def test_remove_takes_every_hook_away():
    from torch.optim import optimizer as optimizer_module

    model = mlp()
    pre, post = len(optimizer_module._global_optimizer_pre_hooks), len(optimizer_module._global_optimizer_post_hooks)
    recorder = Recorder()
    handle = mltorch.watch(model, recorder, every=1, log=("weights", "gradients", "updates", "activations"))
    assert handle.hooks == 2 + 5 + 1  # optimizer, activations, the graph's first-batch hook
    assert len(optimizer_module._global_optimizer_pre_hooks) == pre + 1
    handle.remove()
    handle.remove()  # twice is fine
    assert handle.hooks == 0
    assert len(optimizer_module._global_optimizer_pre_hooks) == pre
    assert len(optimizer_module._global_optimizer_post_hooks) == post
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x, y = next(batches())
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    assert recorder.records == [] and recorder.graphs == []


class _CountTorchCalls(torch.overrides.TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        return func(*args, **(kwargs or {}))


def test_nothing_runs_between_logging_steps():
    def torch_calls_in_steps(watched: bool) -> list[int]:
        model = mlp()
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        recorder = Recorder()
        handle = mltorch.watch(model, recorder, every=4) if watched else None
        counts = []
        data = batches()
        for _ in range(4):
            x, y = next(data)
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            with _CountTorchCalls() as mode:
                optimizer.step()
            counts.append(mode.calls)
        if handle:
            handle.remove()
        return counts

    plain, watched = torch_calls_in_steps(False), torch_calls_in_steps(True)
    assert watched[1:] == plain[1:], "steps 1-3 are not logging steps: no tensor op added"
    assert watched[0] > plain[0]


def test_optimizers_created_after_watch_and_several_models_in_one_record():
    first, second = mlp(1), mlp(2)
    recorder = Recorder()
    handle = mltorch.watch([first, second], recorder, every=2, log=("gradients", "updates"))
    optimizers = [torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1) for m in (first, second)]
    unrelated = nn.Linear(3, 3)
    other = torch.optim.SGD(unrelated.parameters(), lr=0.1)
    data = batches()
    for _ in range(5):
        x, y = next(data)
        for opt in optimizers + [other]:
            opt.zero_grad()
        loss = nn.functional.cross_entropy(first(x), y) + nn.functional.cross_entropy(second(x), y)
        (loss + unrelated(torch.randn(2, 3)).sum()).backward()
        for opt in optimizers + [other]:
            opt.step()
    handle.remove()
    both = ["0.2.weight", "0.2.bias", "0.4.weight", "0.4.bias", "1.2.weight", "1.2.bias", "1.4.weight", "1.4.bias"]
    for tag in ("gradients", "updates"):
        assert sorted(set(recorder.steps(tag))) == [0, 2, 4]
        for step in (2, 4):  # from the first logging step on, one record holds both optimizers' parts
            assert sorted(recorder.get(tag, step).names) == sorted(both)


def test_one_model_split_over_two_optimizers():
    model = mlp()
    recorder = Recorder()
    handle = mltorch.watch(model, recorder, every=2, log=("gradients",))
    opt_a = torch.optim.SGD(model[2].parameters(), lr=0.1)
    opt_b = torch.optim.Adam(model[4].parameters(), lr=1e-3)
    data = batches()
    for _ in range(5):
        x, y = next(data)
        opt_a.zero_grad()
        opt_b.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt_a.step()
        opt_b.step()
    handle.remove()
    # one record per step holding both optimizers' parts, the first logging step included (a
    # second record at the same step would replace the first in TensorBoard's loaders)
    assert recorder.steps("gradients") == [0, 2, 4]
    for step in (0, 2, 4):
        assert recorder.get("gradients", step).names == ["2.weight", "2.bias", "4.weight", "4.bias"]


def test_prefix_and_step_fn():
    first, second = mlp(1), mlp(2)
    recorder = Recorder()
    iteration = {"value": 0}
    handles = [
        mltorch.watch(
            first, recorder, every=1, log="weights", prefix="encoder/", step_fn=lambda: iteration["value"] * 10
        ),
        mltorch.watch(second, recorder, every=1, log="weights", prefix="decoder/"),
    ]
    optimizer = torch.optim.SGD([p for m in (first, second) for p in m.parameters() if p.requires_grad], lr=0.1)
    for i in range(2):
        iteration["value"] = i
        x, y = next(batches(i))
        (nn.functional.cross_entropy(first(x), y) + nn.functional.cross_entropy(second(x), y)).backward()
        optimizer.step()
    for handle in handles:
        handle.remove()
    assert recorder.steps("encoder/weights") == [0, 10]
    assert recorder.steps("decoder/weights") == [0, 1]
    assert recorder.get("encoder/weights", 0).names == [n for n, _ in first.named_parameters()]


def test_tied_weights_once():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    model[1].weight = model[0].weight
    recorder = Recorder()
    with mltorch.watch(model, recorder, every=1, log=("weights", "gradients")):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model(torch.tensor([1, 2, 3])).sum().backward()
        optimizer.step()
    assert recorder.get("weights", 0).names == ["0.weight"]
    assert recorder.get("gradients", 0).names == ["0.weight"]


def test_compiled_model():
    model = mlp()
    try:
        compiled = torch.compile(model)
        x, y = next(batches())
        compiled(x)
    except Exception as error:  # no C++ compiler or an unsupported platform
        pytest.skip(f"torch.compile unavailable: {error}")
    recorder = Recorder()
    optimizer = torch.optim.SGD([p for p in compiled.parameters() if p.requires_grad], lr=0.1)
    with pytest.warns(UserWarning, match="compile"):
        mltorch.watch(compiled, Recorder(), log=("weights", "activations")).remove()
    with mltorch.watch(compiled, recorder, every=2, log=("weights", "gradients", "updates")):
        data = batches()
        for _ in range(3):
            x, y = next(data)
            optimizer.zero_grad()
            nn.functional.cross_entropy(compiled(x), y).backward()
            optimizer.step()
    assert recorder.steps("gradients") == [0, 2]
    assert recorder.get("weights", 2).names == [n for n, _ in model.named_parameters()]
    assert recorder.get("gradients", 2).names == ["2.weight", "2.bias", "4.weight", "4.bias"]
    assert all("_orig_mod" not in n for _, _, d in recorder.records for n in d.names)


def test_written_records_read_back(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    model = mlp()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    with modellens.Writer(tmp_path) as writer, mltorch.watch(model, writer, every=2, log=KINDS_ALL):
        data = batches()
        for _ in range(3):
            x, y = next(data)
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert sorted(accumulator.Tags()["tensors"]) == sorted([*KINDS_ALL, "model"])  # and the graph
    for tag in KINDS_ALL:
        events = accumulator.Tensors(tag)
        assert [e.step for e in events] == [0, 2]
        step = distributions.decode(tensor_util.make_ndarray(events[-1].tensor_proto))
        assert step.names
    updates = distributions.decode(tensor_util.make_ndarray(accumulator.Tensors("updates")[0].tensor_proto))
    assert np.all(updates.extras["update_ratio"] > 0)
    activations = distributions.decode(tensor_util.make_ndarray(accumulator.Tensors("activations")[0].tensor_proto))
    assert "dead_fraction" in activations.extras


KINDS_ALL = ("weights", "gradients", "updates", "activations")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"every": 0}, ValueError, "every"),
        ({"every": -5}, ValueError, "every"),
        ({"every": 2.5}, ValueError, "every"),
        ({"every": True}, ValueError, "every"),
        ({"log": ("weights", "bogus")}, ValueError, "log"),
        ({"log": ()}, ValueError, "log"),
        ({"log": 3}, TypeError, "log"),
        ({"exact": "yes"}, TypeError, "exact"),
        ({"step_fn": 5}, TypeError, "step_fn"),
        ({"prefix": 1}, TypeError, "prefix"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        mltorch.watch(mlp(), Recorder(), **kwargs)


def test_bad_model_and_writer():
    with pytest.raises(TypeError, match="model"):
        mltorch.watch("not a model", Recorder())
    with pytest.raises(TypeError, match="model"):
        mltorch.watch([mlp(), object()], Recorder())
    with pytest.raises(ValueError, match="model"):
        mltorch.watch(nn.ReLU(), Recorder())
    with pytest.raises(TypeError, match="writer"):
        mltorch.watch(mlp(), 42)


def test_stride_is_coprime_with_kernel_and_channel_strides():
    for n in (10, SAMPLE_PLUS := mltorch.SAMPLE + 1, 300_000, 9_437_184, 25_557_032):
        stride = mltorch._stride(n)
        assert math.gcd(stride, 576) == 1 or stride == 1
        assert -(-n // stride) <= mltorch.SAMPLE
    assert mltorch._stride(SAMPLE_PLUS) == 5


def test_without_torch_watch_says_how_to_install():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import modellens.torch as mt\n"
        "try:\n    mt.watch(object(), object())\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "modellens.torch needs PyTorch: pip install 'modellens[torch]'"


def test_a_failing_writer_warns_once_and_training_goes_on(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    writer = modellens.Writer(tmp_path)
    handle = mltorch.watch(model, writer, every=1)
    writer.close()  # every later write raises ValueError inside the optimizer's step hooks
    data = batches()
    with pytest.warns(UserWarning, match="could not log this step") as caught:
        for _ in range(3):
            x, y = next(data)
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    assert len([w for w in caught if "could not log" in str(w.message)]) == 1
    handle.remove()


def test_a_fused_optimizer_step_that_the_scaler_skips_logs_nothing():
    model = mlp()
    params = [p for p in model.parameters() if p.requires_grad]
    try:
        optimizer = torch.optim.Adam(params, lr=1e-3, fused=True)
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    except (RuntimeError, TypeError, ValueError) as error:
        pytest.skip(f"no fused CPU Adam with GradScaler here: {error}")
    if not getattr(optimizer, "_step_supports_amp_scaling", False):
        pytest.skip("this Adam does not take the scaler's arguments")
    recorder = Recorder()
    handle = mltorch.watch(model, recorder, every=1, log=("gradients",))
    data = batches()
    applied = {}
    for step in range(3):
        x, y = next(data)
        optimizer.zero_grad()
        scaler.scale(nn.functional.cross_entropy(model(x), y)).backward()
        if step == 1:
            params[0].grad[0, 0] = float("inf")  # the scaler skips this step
        applied[step] = {
            n: p.grad.detach().clone() / scaler.get_scale() for n, p in model.named_parameters() if p.grad is not None
        }
        scaler.step(optimizer)  # no unscale_: the fused step unscales itself
        scaler.update()
    handle.remove()
    assert recorder.steps("gradients") == [0, 1]  # the skipped step is neither logged nor counted
    first = recorder.get("gradients", 0)
    for name, grad in applied[0].items():
        got = first.stats.values[row(first, name), 4]
        assert got == pytest.approx(float(grad.double().norm()), rel=1e-4)  # unscaled, as applied
    assert np.isfinite(recorder.get("gradients", 1).stats.values[:, 4]).all()


def test_a_resumed_optimizer_goes_on_from_its_own_step_count():
    model = mlp()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    data = batches()

    def step():
        x, y = next(data)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(7):  # trained (or restored from a checkpoint) before watch is attached
        step()
    restored = torch.optim.Adam(params, lr=1e-3)
    restored.load_state_dict(optimizer.state_dict())
    optimizer = restored
    recorder = Recorder()
    handle = mltorch.watch(model, recorder, every=5, log=("gradients",))
    for _ in range(9):
        step()
    handle.remove()
    assert recorder.steps("gradients") == [10, 15]  # not 0 and 5 again: the run's steps go on


def test_watching_the_same_model_twice_warns():
    model = mlp()
    first = mltorch.watch(model, Recorder(), every=5)
    with pytest.warns(UserWarning, match="already watched"):
        second = mltorch.watch(model, Recorder(), every=5)
    second.remove()
    first.remove()
    import warnings as warnings_module

    with warnings_module.catch_warnings():
        warnings_module.simplefilter("error")
        mltorch.watch(model, Recorder(), every=5).remove()  # after remove(), no warning


def train(model: nn.Module, steps: int, **call: object) -> None:
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    for x, y in itertools.islice(batches(), steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x, **call), y).backward()
        optimizer.step()


def test_the_graph_is_logged_once_from_the_first_batch():
    model, recorder = mlp(), Recorder()
    handle = mltorch.watch(model, recorder, every=2)
    train(model, 5)
    handle.remove()
    ((tag, step, logged),) = recorder.graphs
    assert (tag, step, logged.capture) == ("model", 0, "calls")
    x, _ = next(batches())
    expected = graph.from_input(model, (x,))
    assert logged.nodes == expected.nodes and logged.edges == expected.edges
    assert not any(m._forward_pre_hooks for m in model.modules())


def test_keyword_arguments_of_the_first_batch_are_bound_to_their_names():
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(20, 3)

        def forward(self, x, scale=1.0, bias=None, **extra):
            return self.fc(x) * scale + (0 if bias is None else bias) + sum(extra.values())

    model, recorder = Scaled(), Recorder()
    handle = mltorch.watch(model, recorder, every=1)
    train(model, 1, bias=torch.zeros(3), shift=torch.ones(3))
    handle.remove()
    logged = recorder.graphs[0][2]
    inputs = {logged.path(i) for i, k in enumerate(logged.nodes["kind"]) if k == graph.wire.NODE_KINDS.index("input")}
    assert inputs == {"x", "bias", "shift"} and logged.capture == "calls"  # **extra keywords under their names


def test_graph_false_logs_no_graph_and_a_failing_capture_falls_back_to_the_module_tree():
    model, recorder = mlp(), Recorder()
    handle = mltorch.watch(model, recorder, every=1, graph=False)
    assert handle.hooks == 2
    train(model, 1)
    handle.remove()
    assert recorder.graphs == []

    class OnlyOnce(nn.Module):
        """Fails when called again (a stateful model the capture cannot re-run)."""

        def __init__(self) -> None:
            super().__init__()
            self.fc, self.calls = nn.Linear(20, 3), 0

        def forward(self, x):
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("called twice")
            return self.fc(x)

    model, recorder = OnlyOnce(), Recorder()
    handle = mltorch.watch(model, recorder, every=1)
    with pytest.warns(UserWarning, match="could not capture the graph on the first batch"):
        train(model, 1)
    handle.remove()
    fallback = recorder.graphs[0][2]
    assert fallback.capture == "hierarchy" and fallback.totals["params"] == 63
    assert fallback.notes[0].startswith("the capture on the first batch failed") and "called twice" in fallback.notes[0]
    with pytest.raises(TypeError, match="graph must be True or False"):
        mltorch.watch(model, recorder, graph="yes")
