"""Statistics of a ResNet-50-sized parameter set and its gradients, × the one-pass floor.

161 tensors, 25,557,032 floats, the shapes of torchvision's ``resnet50`` (built by hand here:
torchvision must not be installed next to the CPU torch). The floor is ``[t.sum() for t in
tensors]``: one read of the data. Every peer runs in this process on the same tensors, paired
with the floor (floor, candidate, floor, candidate…); the figure is the median of the per-pair
ratios. One thread (stable on a shared machine) and torch's default thread count.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import table  # noqa: E402

PAIRS = 7


def resnet50_like():
    """A ``torch.nn.Module`` with ResNet-50's parameters (names and shapes as torchvision's)."""
    import torch
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int, downsample: bool) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = (
                nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
                if downsample
                else None
            )

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet50(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            inplanes, layers = 64, []
            for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
                layer = [Bottleneck(inplanes, planes, stride, True)]
                inplanes = planes * 4
                layer += [Bottleneck(inplanes, planes, 1, False) for _ in range(blocks - 1)]
                layers.append(nn.Sequential(*layer))
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(2048, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet50()


def tensors_of_resnet50():
    """(parameters, gradients) of a ResNet-50 after one backward pass on a small batch."""
    import torch

    torch.manual_seed(0)
    model = resnet50_like()
    model(torch.randn(2, 3, 64, 64)).logsumexp(1).sum().backward()
    params = [p.detach() for p in model.parameters()]
    grads = [p.grad.detach() for p in model.parameters()]
    assert len(params) == 161 and sum(p.numel() for p in params) == 25_557_032
    return params, grads


def paired_ratio(
    floor: Callable[[], object], candidate: Callable[[], object], pairs: int = PAIRS
) -> tuple[float, float]:
    """Median of per-pair (candidate / floor) ratios, and the median candidate time in s."""
    candidate()  # warm up: imports, scratch buffers
    ratios, times = [], []
    for _ in range(pairs):
        start = time.perf_counter()
        floor()
        middle = time.perf_counter()
        candidate()
        end = time.perf_counter()
        ratios.append((end - middle) / (middle - start))
        times.append(end - middle)
    return statistics.median(ratios), statistics.median(times)


def peers(tensors, logdir: str) -> list[tuple[str, Callable[[], object]]]:

    from modellens.distributions import torch_stats

    found: list[tuple[str, Callable[[], object]]] = [
        ("ModelLens torch stats", lambda: torch_stats.tensor_stats(tensors))
    ]
    try:
        from modellens.distributions import stats as numpy_stats

        arrays = [t.numpy() for t in tensors]
        found.append(("ModelLens numpy stats", lambda: numpy_stats.tensor_stats(arrays)))
    except ImportError:
        pass
    from torch.utils.tensorboard import SummaryWriter

    torch_writer = SummaryWriter(f"{logdir}/torch")
    found.append(
        (
            "torch SummaryWriter.add_histogram",
            lambda: [torch_writer.add_histogram(f"t{i}", t, 0) for i, t in enumerate(tensors)],
        )
    )
    try:
        import tensorboardX

        tbx_writer = tensorboardX.SummaryWriter(f"{logdir}/tbx")
        found.append(
            (
                "tensorboardX add_histogram",
                lambda: [tbx_writer.add_histogram(f"t{i}", t, 0) for i, t in enumerate(tensors)],
            )
        )
    except ImportError:
        pass
    try:
        import tensorflow as tf

        tf_writer = tf.summary.create_file_writer(f"{logdir}/tf")
        tf_tensors = [tf.constant(t.numpy()) for t in tensors]

        def tf_histograms():
            with tf_writer.as_default():
                for i, t in enumerate(tf_tensors):
                    tf.summary.histogram(f"t{i}", t, step=0)

        found.append(("tf.summary.histogram", tf_histograms))
    except ImportError:
        pass
    return found


def main() -> str:
    import torch

    params, grads = tensors_of_resnet50()
    default_threads = torch.get_num_threads()
    rows = []
    with tempfile.TemporaryDirectory() as logdir:
        for threads in sorted({1, default_threads}):
            torch.set_num_threads(threads)
            for label, tensors in (("parameters", params), ("gradients", grads)):
                floor = lambda tensors=tensors: [t.sum() for t in tensors]  # noqa: E731
                for name, run in peers(tensors, logdir):
                    if name.startswith(("tensorboardX", "tf.")) and label == "gradients" and threads != 1:
                        continue  # numpy/TF peers do not follow torch's thread count
                    ratio, seconds = paired_ratio(floor, run, pairs=PAIRS if "ModelLens" in name else 5)
                    rows.append([name, label, str(threads), f"{seconds * 1000:.0f} ms", f"{ratio:.1f}×"])
                    print("  ", rows[-1], flush=True)
    torch.set_num_threads(default_threads)
    return table(
        "Statistics of ResNet-50's 161 tensors (25.6 M floats), × one `sum` pass over them",
        ["writer", "tensors", "threads", "time", "× floor"],
        rows,
    )


if __name__ == "__main__":
    print(main())
