"""Evaluation demo run ``regression_diabetes``: a small torch MLP learns scikit-learn's diabetes
data set (442 patients, 10 features, disease progression after one year) with Adam.

Every epoch logs the validation predictions against the truth (``Writer.predictions``: density
scatter, residuals, error by decile, MAE/RMSE/R²), train and validation losses, and through
``modellens.torch.watch(..., heatmaps=[...])`` the first layer's weights and their gradients as
heatmaps, with the training health of every layer. The digits classifier's ROC/PR curves,
calibration, weight heatmaps and embeddings are logged by ``generate.py``'s ``train_run``.

``run(out)`` writes the run; tests call ``train_regression`` with a ``on_predictions`` hook.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

import numpy as np

import modellens

RUN = "regression_diabetes"
HEATMAPS = ("0.weight", "0.weight.grad", "2.weight")


def train_regression(
    logdir: str,
    *,
    epochs: int = 60,
    seed: int = 0,
    on_predictions: Optional[Callable[[int, np.ndarray, np.ndarray, list[str]], None]] = None,
) -> None:
    """Trains the MLP for ``epochs`` epochs, one logged step per epoch.

    ``on_predictions(epoch, y_true, y_pred, ids)`` sees what was logged (in the target's units).
    """
    import torch
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    torch.manual_seed(seed)
    data = load_diabetes()
    x = (data.data - data.data.mean(0)) / data.data.std(0)
    y = data.target
    x_train, x_val, y_train, y_val, _, index_val = train_test_split(
        x, y, np.arange(len(y)), test_size=0.3, random_state=seed
    )
    mean, scale = y_train.mean(), y_train.std()
    ids = [f"diabetes[{i}]" for i in index_val]
    to_tensor = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    xt, yt = to_tensor(x_train), to_tensor((y_train - mean) / scale)
    xv = to_tensor(x_val)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    batches = int(np.ceil(len(xt) / 32))
    with modellens.Writer(logdir) as writer:
        with modellens.torch.watch(model, writer, every=batches, heatmaps=list(HEATMAPS)):
            for epoch in range(epochs):
                order = torch.randperm(len(xt))
                model.train()
                for start in range(0, len(xt), 32):
                    batch = order[start : start + 32]
                    loss = torch.nn.functional.mse_loss(model(xt[batch]).squeeze(1), yt[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                model.eval()
                with torch.no_grad():
                    predicted = model(xv).squeeze(1).numpy().astype(np.float64) * scale + mean
                    train_loss = torch.nn.functional.mse_loss(model(xt).squeeze(1), yt).item()
                writer.predictions("val/predictions", y_val, predicted, ids=ids, step=epoch)
                writer.scalar("train/loss", train_loss, step=epoch)
                writer.scalar("val/loss", float(np.mean(((predicted - y_val) / scale) ** 2)), step=epoch)
                if on_predictions is not None:
                    on_predictions(epoch, y_val, predicted, ids)


def run(out: str) -> None:
    train_regression(os.path.join(out, RUN))
