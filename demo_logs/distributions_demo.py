"""Training-health demo runs: real training on scikit-learn's 8×8 digits, logged by
``modellens.torch.watch`` (and the Keras callback, and plain ``add_histogram`` for old logs).

- ``deep_sigmoid``: ten sigmoid layers, plain SGD: the early layers' gradients vanish;
- ``deep_relu_norm``: the same depth with ReLU and LayerNorm, Adam: healthy, no verdict;
- ``diverging``: a learning rate high enough that the gradients explode and overflow to Inf,
  then NaN;
- ``keras_mlp``: a Keras 3 model trained with ``model.fit`` and ``modellens.keras.Callback``;
- ``torch_add_histogram``: torch's ``SummaryWriter.add_histogram`` of every parameter and
  gradient, the way TensorBoard users log today (the old-logs path).

``run(out)`` writes them all; tests build the same runs with these functions.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

EVERY = 10
STEPS = 300
BATCH = 64
DEPTH = 10
WIDTH = 64
RUNS = ("deep_sigmoid", "deep_relu_norm", "diverging", "keras_mlp", "torch_add_histogram")


def digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.target))
    return (data.data[order] / 16.0).astype(np.float32), data.target[order].astype(np.int64)


def mlp(activation: str, *, norm: bool, depth: int = DEPTH, seed: int = 0):
    """``depth`` hidden layers of ``WIDTH`` units (optionally LayerNorm before the activation)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    activations = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
    layers: list = []
    width_in = 64
    for _ in range(depth):
        layers.append(nn.Linear(width_in, WIDTH))
        if norm:
            layers.append(nn.LayerNorm(WIDTH))
        layers.append(activations[activation]())
        width_in = WIDTH
    layers.append(nn.Linear(width_in, 10))
    return nn.Sequential(*layers)


def batches(x: np.ndarray, y: np.ndarray, steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        index = rng.integers(0, len(y), BATCH)
        yield x[index], y[index]


def torch_run(
    logdir: str,
    model: Any,
    optimizer: Any,
    *,
    loss: str = "cross_entropy",
    activations: bool = False,
    steps: int = STEPS,
    on_gradients: Callable[[int, Any], None] | None = None,
) -> None:
    """Trains ``model`` for ``steps`` optimizer steps with ``watch(every=EVERY)``; ``loss`` is
    cross-entropy, or "mse" against one-hot targets × 10 (a regression that can diverge).
    ``on_gradients(step, model)`` sees each step's gradients before the optimizer applies them
    (tests use it as ground truth)."""
    import torch

    import modellens.torch

    torch.set_num_threads(1)
    x, y = digits()

    def loss_of(output, labels):
        if loss == "mse":
            return torch.nn.functional.mse_loss(output, torch.nn.functional.one_hot(labels, 10).float() * 10)
        return torch.nn.functional.cross_entropy(output, labels)

    log = ("weights", "gradients", "updates") + (("activations",) if activations else ())
    with modellens.Writer(logdir) as writer:
        handle = modellens.torch.watch(model, writer, every=EVERY, log=log)
        for step, (features, labels) in enumerate(batches(x, y, steps)):
            optimizer.zero_grad()
            value = loss_of(model(torch.from_numpy(features)), torch.from_numpy(labels))
            value.backward()
            if on_gradients is not None:
                on_gradients(step, model)
            optimizer.step()  # watch logs steps 0, EVERY, 2·EVERY, ... (the optimizer's step count)
            if step % EVERY == 0:
                writer.scalar("train/loss", value.item(), step=step)
        handle.remove()


def deep_sigmoid(logdir: str, **options: Any) -> None:
    """Ten sigmoid layers, plain SGD: the early layers' gradients vanish."""
    import torch

    model = mlp("sigmoid", norm=False)
    torch_run(logdir, model, torch.optim.SGD(model.parameters(), lr=0.1), **options)


def deep_relu_norm(logdir: str, **options: Any) -> None:
    """The same depth with LayerNorm and ReLU, Adam: healthy (activations logged too)."""
    import torch

    model = mlp("relu", norm=True)
    torch_run(logdir, model, torch.optim.Adam(model.parameters(), lr=3e-4), activations=True, **options)


def diverging(logdir: str, **options: Any) -> None:
    """A tanh MLP regressing one-hot targets with SGD at lr 0.3 and momentum 0.9: the loss grows
    from step ~20, the gradients explode, and overflow to Inf and NaN near step 160."""
    import torch

    model = mlp("tanh", norm=False, depth=3)
    torch_run(logdir, model, torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9), loss="mse", **options)


def add_histogram_run(logdir: str) -> None:
    """The same healthy MLP, logged the way TensorBoard users do today: every parameter and
    gradient with ``add_histogram`` (its default 'tensorflow' bins, ~13 KB a histogram, so only
    every ``5 * EVERY`` steps here to keep the demo logs small)."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    torch.set_num_threads(1)
    x, y = digits()
    model = mlp("relu", norm=True)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    writer = SummaryWriter(logdir)
    for step, (features, labels) in enumerate(batches(x, y, STEPS)):
        opt.zero_grad()
        loss = loss_fn(model(torch.from_numpy(features)), torch.from_numpy(labels))
        loss.backward()
        opt.step()
        if step % (5 * EVERY) == 0:
            for name, parameter in model.named_parameters():
                writer.add_histogram(name, parameter, step)
                writer.add_histogram(f"{name}.grad", parameter.grad, step)
            writer.add_scalar("train/loss", loss.item(), step)
    writer.close()


def keras_run(logdir: str) -> None:
    """A Keras 3 MLP trained by ``model.fit`` with the ModelLens callback."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    import modellens.keras

    keras.utils.set_random_seed(0)
    x, y = digits()
    model = keras.Sequential(
        [keras.Input((64,))]
        + [keras.layers.Dense(WIDTH, activation="relu", name=f"dense_{i}") for i in range(4)]
        + [keras.layers.Dense(10, name="logits")]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=STEPS * BATCH // len(y),
        verbose=0,
        callbacks=[modellens.keras.Callback(logdir, every=EVERY)],
    )


def run(out: str, *, progress: bool = True) -> None:
    """Writes every demo run under ``out``."""
    jobs = {
        "deep_sigmoid": deep_sigmoid,
        "deep_relu_norm": deep_relu_norm,
        "diverging": diverging,
        "keras_mlp": keras_run,
        "torch_add_histogram": add_histogram_run,
    }
    names = list(jobs)
    if progress:
        from tqdm import tqdm

        names = tqdm(names, desc="training health demo", unit="run")
    for name in names:
        jobs[name](os.path.join(out, name))
