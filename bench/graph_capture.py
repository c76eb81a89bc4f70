"""Cost of ``Writer.graph`` against one forward pass and against torch's ``add_graph``.

Models, all built here (nothing is downloaded; random weights): Hugging Face BERT-large from
its config (sequence 128), a ResNet-50-sized CNN written without torchvision (bottleneck blocks
3-4-6-3, 224×224 input), a synthetic model of 10,000 leaf modules (20 stages × 10 groups × 10
residual blocks of {Linear, GELU, Linear, Dropout, LayerNorm}, d = 8), and Keras
EfficientNetB0 (``weights=None``, 224×224).

Per model, in rounds (forward, ModelLens capture, ``add_graph``), the medians of ``ROUNDS``
paired runs: capture ÷ forward and add_graph ÷ capture, plus the stored blob's size. torch's
``SummaryWriter.add_graph`` needs ``use_strict_trace=False`` for HF's dict outputs; on the 10k
model it takes about 100 s a run, so it runs once there. CPU ratios are measured with
``torch.set_num_threads(1)`` and again with the default thread count.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import table  # noqa: E402

ROUNDS = 5


def bert_large():
    import torch
    import transformers

    config = transformers.BertConfig(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096
    )
    model = transformers.BertModel(config).eval()
    ids = torch.randint(0, config.vocab_size, (1, 128), generator=torch.Generator().manual_seed(0))
    return model, {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def resnet50_like():
    """ResNet-50's layout (25.6 M parameters) written out, since torchvision cannot be installed."""
    import torch
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int) -> None:
            super().__init__()
            width, out = planes, planes * 4
            self.conv1, self.bn1 = nn.Conv2d(inplanes, width, 1, bias=False), nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3, self.bn3 = nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or inplanes != out:
                self.downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            return self.relu(self.bn3(self.conv3(y)) + identity)

    class ResNet50(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1, self.relu, self.maxpool = nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
            inplanes, stages = 64, []
            for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
                layers = []
                for k in range(blocks):
                    layers.append(Bottleneck(inplanes, planes, stride if k == 0 else 1))
                    inplanes = planes * 4
                stages.append(nn.Sequential(*layers))
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(2048, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet50().eval(), torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))


def synthetic_10k():
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8)
            self.drop, self.norm = nn.Dropout(0.1), nn.LayerNorm(8)

        def forward(self, x):
            return self.norm(x + self.drop(self.fc2(self.act(self.fc1(x)))))

    model = nn.Sequential(
        *(nn.Sequential(*(nn.Sequential(*(Block() for _ in range(10))) for _ in range(10))) for _ in range(20))
    )
    return model.eval(), torch.randn(4, 8, generator=torch.Generator().manual_seed(0))


def efficientnet_b0():
    import keras
    import numpy as np

    model = keras.applications.EfficientNetB0(weights=None)
    return model, np.random.default_rng(0).random((1, 224, 224, 3), dtype=np.float32)


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _forward(model, inputs):
    import torch

    def run():
        with torch.no_grad():
            if isinstance(inputs, dict):
                model(**inputs)
            else:
                model(inputs)

    return run


def measure_torch(name: str, build, add_graph_rounds: int) -> list[str]:
    import torch
    from torch.utils.tensorboard import SummaryWriter

    from modellens.graph import from_input, wire

    model, inputs = build()
    blob = wire.to_bytes(from_input(model, inputs))
    forwards, captures, add_graphs = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        writer = SummaryWriter(tmp)
        args = tuple(inputs.values()) if isinstance(inputs, dict) else inputs
        for round_ in range(ROUNDS):
            forwards.append(_seconds(_forward(model, inputs)))
            captures.append(_seconds(lambda: from_input(model, inputs)))
            if round_ < add_graph_rounds:
                add_graphs.append(_seconds(lambda: writer.add_graph(model, args, use_strict_trace=False)))
        writer.close()
    forward, capture = statistics.median(forwards), statistics.median(captures)
    add_graph = f"{statistics.median(add_graphs):.2f} s ({statistics.median(add_graphs) / capture:.0f}×)"
    del torch
    return [
        name,
        f"{forward:.3f} s",
        f"{capture:.3f} s",
        f"{capture / forward:.2f}×",
        add_graph,
        f"{len(blob) / 1024:.1f} KB",
    ]


def measure_keras(name: str, build) -> list[str]:
    from modellens.graph import from_input, wire

    model, x = build()
    blob = wire.to_bytes(from_input(model))
    forwards = [_seconds(lambda: model(x, training=False)) for _ in range(ROUNDS)]
    captures = [_seconds(lambda: from_input(model)) for _ in range(ROUNDS)]
    forward, capture = statistics.median(forwards), statistics.median(captures)
    return [
        name,
        f"{forward:.3f} s",
        f"{capture:.3f} s",
        f"{capture / forward:.2f}×",
        "—",
        f"{len(blob) / 1024:.1f} KB",
    ]


def main() -> str:
    import torch

    header = ["model", "forward", "ModelLens capture", "capture ÷ forward", "torch add_graph (÷ capture)", "blob"]
    out = []
    default_threads = torch.get_num_threads()
    for threads in (1, default_threads):
        torch.set_num_threads(threads)
        rows = [
            measure_torch("BERT-large (HF, seq 128)", bert_large, ROUNDS),
            measure_torch("ResNet-50-sized CNN", resnet50_like, ROUNDS),
            measure_torch("synthetic 10k modules", synthetic_10k, 1),
        ]
        if threads == 1:
            rows.append(measure_keras("Keras EfficientNetB0", efficientnet_b0))
        out.append(table(f"Writer.graph capture cost, torch threads = {threads} (medians of {ROUNDS})", header, rows))
    torch.set_num_threads(default_threads)
    return "\n".join(out)


if __name__ == "__main__":
    print(main())
