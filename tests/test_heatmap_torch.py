"""``modellens.torch.watch(..., heatmaps=[...])``: parameter values, gradients as the optimizer
applies them and module outputs, on logging steps only, written through a real Writer and read
back from the event files; unknown names refused at ``watch()`` time."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import modellens  # noqa: E402
import modellens.torch as mltorch  # noqa: E402
from harness import modellens_values  # noqa: E402
from heatmap_logs import read_heatmaps  # noqa: E402


def convnet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 5, 3, padding=1),  # "0": weight [5, 3, 3, 3] → kernels
        nn.ReLU(),  # "1": output [N, 5, 6, 6] → channels of sample 0
        nn.Flatten(),
        nn.Linear(5 * 6 * 6, 4),  # "3"
    )


def hooks_on(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_values_gradients_and_outputs_are_those_of_each_logging_step(tmp_path):
    model = convnet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    seen: dict[int, dict[str, np.ndarray]] = {}  # what the optimizer saw, from a hook after watch's
    outputs: dict[int, np.ndarray] = {}  # the first training-mode output of "1" per step
    now = {"step": 0}

    def capture(opt, args, kwargs):
        seen[now["step"]] = {
            "weight": model[0].weight.detach().numpy().copy(),
            "grad": model[3].weight.grad.detach().numpy().copy(),
        }

    def first_output(module, inputs, output):
        if module.training and torch.is_grad_enabled() and now["step"] not in outputs:
            outputs[now["step"]] = output.detach().numpy().copy()

    with modellens.Writer(tmp_path) as writer:
        handle = mltorch.watch(
            model,
            writer,
            every=3,
            log=(),
            graph=False,
            heatmaps=["0.weight", "3.weight.grad", "1:output", "3:output"],
        )
        optimizer.register_step_pre_hook(capture)
        model[1].register_forward_hook(first_output)
        generator = torch.Generator().manual_seed(1)
        hooked = []
        for step in range(7):
            now["step"] = step
            hooked.append(hooks_on(model) - 1)  # not counting first_output
            optimizer.zero_grad()
            for _ in range(2):  # accumulated micro-batches: the first one's outputs are drawn
                x = torch.randn(4, 3, 6, 6, generator=generator)
                scaler.scale(model(x).square().mean()).backward()
            with torch.no_grad():
                model(torch.zeros(2, 3, 6, 6))  # an evaluation pass is not drawn
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), 0.05)
            scaler.step(optimizer)
            scaler.update()
        handle.remove()
    assert hooked == [2, 0, 0, 2, 0, 0, 2], "output hooks only for the forward passes of logging steps"
    logged = read_heatmaps(tmp_path)
    assert set(logged) == {f"heatmaps/{e}" for e in ("0.weight", "3.weight.grad", "1:output", "3:output")}
    for tag, records in logged.items():
        assert sorted(records) == [0, 3, 6], tag
    for s in (0, 3, 6):
        header, body = logged["heatmaps/0.weight"][s]
        assert header.layout == "kernels" and header.shape == (5, 3, 3, 3)
        np.testing.assert_array_equal(body.values, seen[s]["weight"].transpose(0, 2, 1, 3).reshape(15, 9))
        header, body = logged["heatmaps/3.weight.grad"][s]
        assert header.shape == (4, 180)
        np.testing.assert_array_equal(body.values, seen[s]["grad"])  # unscaled and clipped
        header, body = logged["heatmaps/1:output"][s]
        assert header.layout == "channels" and header.shape == (4, 5, 6, 6) and header.batch_index == 0
        np.testing.assert_array_equal(body.values[6:12, 0:6], outputs[s][0, 3])  # channel 3: grid row 1, col 0
        assert header.stats.zeros == int((outputs[s][0] == 0).sum())
        header, _ = logged["heatmaps/3:output"][s]
        assert header.layout == "matrix" and header.shape == (4, 4)


def test_each_gradient_is_logged_with_the_optimizer_that_holds_it(tmp_path):
    model = convnet()
    first = torch.optim.SGD(model[0].parameters(), lr=0.1)
    second = torch.optim.Adam(model[3].parameters(), lr=1e-3)
    with modellens.Writer(tmp_path) as writer:
        handle = mltorch.watch(model, writer, every=2, graph=False, heatmaps=["0.bias.grad", "3.bias.grad", "3.bias"])
        expected = {}
        for step in range(3):
            for opt in (first, second):
                opt.zero_grad()
            model(torch.randn(2, 3, 6, 6)).sum().backward()
            expected[step] = (model[0].bias.grad.numpy().copy(), model[3].bias.grad.numpy().copy())
            first.step()
            second.step()
        handle.remove()
    logged = read_heatmaps(tmp_path)
    assert sorted(logged["heatmaps/0.bias.grad"]) == sorted(logged["heatmaps/3.bias.grad"]) == [0, 2]
    assert sorted(logged["heatmaps/3.bias"]) == [0, 2]  # once per step, not once per optimizer
    for step in (0, 2):
        np.testing.assert_array_equal(logged["heatmaps/0.bias.grad"][step][1].values[0], expected[step][0])
        np.testing.assert_array_equal(logged["heatmaps/3.bias.grad"][step][1].values[0], expected[step][1])
    # the other kinds go on as before beside the heatmaps
    assert {"weights", "gradients", "updates"} <= {tag for tag, _, _ in modellens_values(tmp_path)}


def test_several_models_and_a_prefix_name_their_entries(tmp_path):
    models = [nn.Linear(3, 2), nn.Linear(2, 1)]
    optimizer = torch.optim.SGD([p for m in models for p in m.parameters()], lr=0.1)
    with modellens.Writer(tmp_path) as writer:
        with mltorch.watch(models, writer, every=1, log=(), prefix="enc/", graph=False, heatmaps="1.weight"):
            optimizer.zero_grad()
            models[1](models[0](torch.ones(1, 3))).sum().backward()
            before = models[1].weight.detach().numpy().copy()  # the weights the step's gradients belong to
            optimizer.step()
    (header, body) = read_heatmaps(tmp_path)["enc/heatmaps/1.weight"][0]
    np.testing.assert_array_equal(body.values, before)


def test_unknown_names_are_refused_at_watch_time_listing_the_valid_ones(tmp_path):
    from torch.optim import optimizer as optimizer_module

    model = convnet()
    pre = len(optimizer_module._global_optimizer_pre_hooks)
    for entry, hint in [
        ("0.wieght", "'0.weight'"),
        ("5.weight", None),
        ("0.weight.gradient", None),
        ("9:output", None),
    ]:
        with pytest.raises(ValueError, match="heatmaps names") as caught:
            mltorch.watch(model, str(tmp_path / "run"), heatmaps=["0.weight", entry])
        message = str(caught.value)
        for valid in ("0.weight", "0.weight.grad", "3.bias.grad", "1:output", "2:output"):
            assert valid in message
        if hint:
            assert f"did you mean {hint}" in message
    assert len(optimizer_module._global_optimizer_pre_hooks) == pre and hooks_on(model) == 0
    assert not model._forward_pre_hooks
    assert not os.path.exists(tmp_path / "run")  # no writer was opened
    with pytest.raises(TypeError, match="heatmaps"):
        mltorch.watch(model, str(tmp_path / "run"), heatmaps=[3])
    with pytest.raises(TypeError, match="heatmaps"):
        mltorch.watch(model, str(tmp_path / "run"), heatmaps=5)
    with pytest.raises(ValueError, match="log"):  # nothing to log at all
        mltorch.watch(model, str(tmp_path / "run"), log=())


def test_an_output_without_a_tensor_warns_once_and_training_goes_on(tmp_path):
    class Pair(nn.Module):
        def forward(self, x):
            return {"logits": x * 2} if x.shape[0] else None

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.pair = Pair()

        def forward(self, x):
            self.pair(x[:0])  # returns None: nothing to draw
            return self.pair(self.fc(x))["logits"]

    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with modellens.Writer(tmp_path) as writer:
        handle = mltorch.watch(model, writer, every=1, log=(), graph=False, heatmaps=["pair:output"])
        with pytest.warns(UserWarning, match="holds no tensor"):
            for _ in range(2):
                optimizer.zero_grad()
                model(torch.ones(2, 3)).sum().backward()
                optimizer.step()
        handle.remove()
    assert sorted(read_heatmaps(tmp_path)["heatmaps/pair:output"]) == [0, 1]  # the first call's dict value
