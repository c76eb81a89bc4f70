"""Structure-graph demo runs (the Training health runs log their graphs through ``watch`` and the
Keras callback on their own):

- ``bert_base``: Hugging Face BERT-base built from its config (random weights: nothing is
  downloaded; structure only), captured on 64 tokens;
- ``two_input_cnn``: a CNN over the 8×8 digit images beside an MLP over per-row and per-column
  ink, fused into a dict output ``{"logits", "embedding"}``, trained on scikit-learn's digits
  with ``modellens.torch.watch`` (which logs its graph from the first batch).

``run(out)`` writes both; tests build the same runs with these functions.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

RUNS = ("bert_base", "two_input_cnn")
STEPS = 200
EVERY = 10
BATCH = 64


def bert_base(logdir: str) -> None:
    """BERT-base's structure: 12 identical encoder layers, 110 M parameters."""
    import torch
    import transformers

    import modellens

    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig()).eval()
    ids = torch.randint(1000, 5000, (1, 64), generator=torch.Generator().manual_seed(0))
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    with modellens.Writer(logdir) as writer:
        writer.graph(model, inputs)


def two_input_model():
    import torch
    from torch import nn

    class TwoInputDigits(nn.Module):
        """An image branch (CNN) and an ink-profile branch (MLP), fused; returns a dict."""

        def __init__(self) -> None:
            super().__init__()
            self.image = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1),
                nn.BatchNorm2d(16),
                nn.ReLU(),
                nn.Conv2d(16, 32, 3, padding=1),
                nn.BatchNorm2d(32),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d(2),
                nn.Flatten(),
            )
            self.profile = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
            self.fuse = nn.Linear(32 * 4 + 32, 64)
            self.head = nn.Linear(64, 10)

        def forward(self, image: torch.Tensor, profile: torch.Tensor) -> dict[str, torch.Tensor]:
            embedding = torch.relu(self.fuse(torch.cat([self.image(image), self.profile(profile)], dim=1)))
            return {"logits": self.head(embedding), "embedding": embedding}

    torch.manual_seed(0)
    return TwoInputDigits()


def digit_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(images [n, 1, 8, 8], ink profiles [n, 16], labels)`` of scikit-learn's digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None]
    profiles = np.concatenate([images.mean(axis=3)[:, 0], images.mean(axis=2)[:, 0]], axis=1)
    return images, profiles.astype(np.float32), data.target.astype(np.int64)


def two_input_cnn(logdir: str, **options: Any) -> None:
    import torch

    import modellens
    import modellens.torch

    torch.set_num_threads(1)
    images, profiles, labels = digit_inputs()
    model = two_input_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    with modellens.Writer(logdir) as writer:
        handle = modellens.torch.watch(model, writer, every=EVERY, **options)
        for step in range(STEPS):
            index = rng.integers(0, len(labels), BATCH)
            optimizer.zero_grad()
            output = model(torch.from_numpy(images[index]), torch.from_numpy(profiles[index]))
            loss = torch.nn.functional.cross_entropy(output["logits"], torch.from_numpy(labels[index]))
            loss.backward()
            optimizer.step()
            if step % EVERY == 0:
                writer.scalar("train/loss", loss.item(), step=step)
        handle.remove()


def run(out: str) -> None:
    """Writes every graph demo run under ``out``."""
    bert_base(os.path.join(out, "bert_base"))
    two_input_cnn(os.path.join(out, "two_input_cnn"))
