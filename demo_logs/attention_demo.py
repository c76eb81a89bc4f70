"""Attention demo runs:

- ``reverse_transformer``: a two-layer torch ``nn.TransformerEncoder`` learns to reverse eight
  digits written after them (``3 1 4 1 5 9 2 6 | _ _ _ _ _ _ _ _`` → ``6 2 9 5 1 4 1 3``). At
  the start attention is diffuse; as the loss falls the heads of the placeholder positions
  learn the anti-diagonal onto the digits. ``modellens.torch.attention`` captures every head on
  one held example at logging steps, and ``watch`` logs the training health and graph.
- ``keras_reverse_mha``: the same task for a Keras 3 model with two ``MultiHeadAttention``
  layers, trained with ``fit``; the ModelLens callback logs their scores on the held example
  every epoch (``attention_example=``).
- ``bert_base_random_init``: Hugging Face BERT-base built from its config (RANDOM WEIGHTS:
  nothing can be downloaded here), its 12 × 12 heads on a 128-token sentence through
  ``modellens.transformers.log_attention``: what the view shows at BERT's size, not what a
  trained BERT attends to.

``run(out)`` writes all three; tests build the same runs with these functions.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

import numpy as np

RUNS = ("reverse_transformer", "keras_reverse_mha", "bert_base_random_init")
DIGITS = 8  # digits to reverse
DELIMITER, BLANK = 10, 11
LENGTH = 2 * DIGITS + 1
LOG_STEPS = (0, 5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 150, 200, 300)


def reversal_batch(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs [count, LENGTH], targets [count, DIGITS])`` of the reversal task."""
    digits = rng.integers(0, 10, (count, DIGITS))
    inputs = np.concatenate([digits, np.full((count, 1), DELIMITER), np.full((count, DIGITS), BLANK)], axis=1)
    return inputs, digits[:, ::-1].copy()


def reversal_tokens(inputs: np.ndarray) -> list[str]:
    return [str(int(t)) if t < 10 else ("|" if t == DELIMITER else "_") for t in inputs]


def torch_reverser(dim: int = 64, heads: int = 4, layers: int = 2):
    import torch
    from torch import nn

    class Reverser(nn.Module):
        """Token and position embeddings, a ``TransformerEncoder``, a digit read-out."""

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(12, dim)
            self.position = nn.Embedding(LENGTH, dim)
            layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.out = nn.Linear(dim, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            hidden = self.embed(x) + self.position(torch.arange(x.shape[1], device=x.device))
            return self.out(self.encoder(hidden))

    return Reverser()


def reverse_transformer(
    logdir: str, *, steps: int = 300, on_record: Optional[Callable[[int, Any, list[str]], None]] = None
) -> None:
    """Trains the torch reverser; at each of ``LOG_STEPS`` logs its attention on a held example.
    ``on_record(step, captured, tokens)`` sees what was logged (tests use it)."""
    import torch

    import modellens
    import modellens.torch

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = torch_reverser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    held, _ = reversal_batch(1, np.random.default_rng(123))
    held_tokens = reversal_tokens(held[0])
    with modellens.Writer(logdir) as writer:
        modellens.torch.watch(model, writer, every=20)
        for step in range(steps + 1):
            if step in LOG_STEPS:
                model.eval()
                with torch.no_grad(), modellens.torch.attention(model) as captured:
                    model(torch.as_tensor(held))
                model.train()
                writer.attention("encoder/self", captured.weights, tokens=held_tokens, step=step)
                if on_record is not None:
                    on_record(step, captured, held_tokens)
            inputs, targets = reversal_batch(128, rng)
            logits = model(torch.as_tensor(inputs))[:, DIGITS + 1 :]
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), torch.as_tensor(targets).reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 10 == 0:
                accuracy = (logits.argmax(-1) == torch.as_tensor(targets)).float().mean()
                writer.scalar("train/loss", loss.item(), step=step)
                writer.scalar("train/accuracy", accuracy.item(), step=step)


def keras_reverser(dim: int = 32, heads: int = 2):
    import keras

    ids = keras.Input((LENGTH,), dtype="int32", name="digits")
    hidden = keras.layers.Embedding(12, dim, name="embed")(ids)
    positions = keras.layers.Embedding(LENGTH, dim, name="position")(keras.ops.arange(LENGTH)[None])
    hidden = hidden + positions
    for index in range(2):
        attended = keras.layers.MultiHeadAttention(heads, dim // heads, name=f"attention_{index}")(hidden, hidden)
        hidden = keras.layers.LayerNormalization(name=f"norm_{index}")(hidden + attended)
        hidden = keras.layers.LayerNormalization(name=f"ffn_norm_{index}")(
            hidden + keras.layers.Dense(dim, name=f"ffn_{index}")(keras.layers.Dense(2 * dim, "relu")(hidden))
        )
    logits = keras.layers.Dense(10, name="digit")(hidden[:, DIGITS + 1 :])
    return keras.Model(ids, logits, name="keras_reverser")


def keras_reverse_mha(logdir: str, *, epochs: int = 12) -> None:
    """Trains the Keras reverser with ``fit``; the callback logs attention every epoch."""
    import keras

    import modellens.keras

    keras.utils.set_random_seed(0)
    inputs, targets = reversal_batch(4096, np.random.default_rng(1))
    held, _ = reversal_batch(1, np.random.default_rng(123))
    model = keras_reverser()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callback = modellens.keras.Callback(logdir, every=32, attention_example=(held, reversal_tokens(held[0])))
    model.fit(inputs, targets, batch_size=128, epochs=epochs, verbose=0, callbacks=[callback])


SENTENCE = (
    "attention maps show which tokens each head reads : this demo feeds a bert model built from its "
    "config , with random weights because nothing can be downloaded here , so the heads are not trained "
    "and their patterns are mostly flat . a trained model would show heads that look at the previous "
    "token , at the separator , or at the same word ; the view lets you find them by their scores , "
    "compare steps and runs , and follow one query token to the keys it reads ."
).split()


def bert_base_random_init(logdir: str, *, tokens: int = 128) -> None:
    """BERT-base (random weights) on ``tokens`` word tokens: 12 layers × 12 heads."""
    import torch
    import transformers

    import modellens
    import modellens.transformers

    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig()).eval()
    words = (["[CLS]"] + (SENTENCE * 4)[: tokens - 2] + ["[SEP]"])[:tokens]
    vocabulary = {word: 1000 + index for index, word in enumerate(dict.fromkeys(words))}
    vocabulary.update({"[CLS]": 101, "[SEP]": 102})
    ids = torch.tensor([[vocabulary[w] for w in words]])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    with modellens.Writer(logdir) as writer:
        modellens.transformers.log_attention(
            writer, model, inputs, tokens=words, step=0, tag="attention (random weights)"
        )


def run(out: str) -> None:
    reverse_transformer(os.path.join(out, "reverse_transformer"))
    keras_reverse_mha(os.path.join(out, "keras_reverse_mha"))
    bert_base_random_init(os.path.join(out, "bert_base_random_init"))
