"""Overhead of ``modellens.torch.watch(every=100)`` on a real small CNN training loop.

scikit-learn's digits (8×8, upsampled to 32×32) through a 4-layer CNN (~0.3 M parameters),
batch 64, SGD. Peers, each in this process on the same data, one run per peer per round, the
rounds repeated and the medians reported:

- no logging (the baseline);
- ``modellens.torch.watch(model, writer, every=100)`` (weights, gradients, updates);
- torch ``SummaryWriter.add_histogram`` of every parameter and gradient every 100 steps;
- ``wandb.watch(model, log="all", log_freq=100)`` in offline mode, when wandb is installed.

Reported: % of the baseline's wall time, the median of per-round paired ratios.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import table  # noqa: E402

STEPS = 300
EVERY = 100
ROUNDS = 5
BATCH = 64


def data():
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0
    x = torch.nn.functional.interpolate(x, size=32, mode="bilinear", align_corners=False)
    return x, torch.tensor(digits.target)


def cnn():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 10),
    )  # fmt: skip


def train(x, y, setup, steps: int = STEPS) -> float:
    """Seconds for ``steps`` training steps; ``setup(model, logdir)`` returns (per-step fn, close fn)."""
    import torch

    torch.manual_seed(0)
    model = cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    with tempfile.TemporaryDirectory() as logdir:
        per_step, close = setup(model, logdir)
        start = time.perf_counter()
        for step in range(steps):
            index = torch.randint(0, len(x), (BATCH,), generator=generator)
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()
            per_step(step)
        elapsed = time.perf_counter() - start
        close()
    return elapsed


def no_logging(model, logdir):
    return (lambda step: None), (lambda: None)


def modellens_watch(model, logdir):
    import modellens
    import modellens.torch

    writer = modellens.Writer(logdir)
    handle = modellens.torch.watch(model, writer, every=EVERY)

    def close():
        handle.remove()
        writer.close()

    return (lambda step: None), close


def torch_add_histogram(model, logdir):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(logdir)

    def per_step(step):
        if step % EVERY == 0:
            for name, p in model.named_parameters():
                writer.add_histogram(f"weights/{name}", p, step)
                if p.grad is not None:
                    writer.add_histogram(f"gradients/{name}", p.grad, step)

    return per_step, writer.close


def wandb_watch(model, logdir):
    import wandb

    run = wandb.init(project="modellens-bench", mode="offline", dir=logdir, reinit=True)
    wandb.watch(model, log="all", log_freq=EVERY)
    step_counter = {"n": 0}

    def per_step(step):  # wandb.watch logs from its hooks on the next wandb.log call
        step_counter["n"] += 1
        if step % EVERY == 0:
            wandb.log({"step": step})

    def close():
        wandb.unwatch(model)
        run.finish()

    return per_step, close


def main() -> str:
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("WANDB_SILENT", "true")
    x, y = data()
    peers = [("modellens watch(every=100)", modellens_watch), ("torch add_histogram every 100", torch_add_histogram)]
    try:
        import wandb  # noqa: F401

        peers.append(("wandb.watch(log='all', log_freq=100), offline", wandb_watch))
    except ImportError:
        print("   wandb not installed: skipped", flush=True)
    for _, setup in [("none", no_logging)] + peers:  # warm up: imports and first-call costs
        train(x, y, setup, steps=EVERY + 1)
    ratios: dict[str, list[float]] = {name: [] for name, _ in peers}
    baselines = []
    for _ in range(ROUNDS):
        for name, setup in peers:
            base = train(x, y, no_logging)
            with_peer = train(x, y, setup)
            baselines.append(base)
            ratios[name].append(with_peer / base - 1)
    base_ms = statistics.median(baselines) / STEPS * 1000
    rows = [["no logging", f"{base_ms:.2f} ms", "—"]]
    for name, values in ratios.items():
        rows.append(
            [name, f"{base_ms * (1 + statistics.median(values)):.2f} ms", f"{100 * statistics.median(values):+.1f} %"]
        )
    return table(
        f"Training-loop overhead: small CNN on digits, {STEPS} steps, batch {BATCH}, 1 thread, median of {ROUNDS} paired rounds",
        ["logging", "time per step", "overhead vs no logging"],
        rows,
    )


if __name__ == "__main__":
    print(main())
