"""What an attention step keeps, computed one layer at a time in float32 (pure numpy).

Each map (a head, a layer's head mean, the rollout) is stored at most ``MAX_SIDE`` per side:
a larger map is block-reduced, stored[i, j] = the mean over the queries of row block i of the
sum over the keys of column block j, so rows that summed to 1 still do. Every stored row is
quantized to uint8 scaled by its own maximum, value = q / 255 · max, so the error of a value is
at most that row's max / 510; an all-zero (padded) row stays exactly zero. A blocked map also
keeps, for every original query row, its ``TOP_K`` exact largest weights with their key
indices. Head scores are computed from the full-resolution float32 weights.

``Collector`` reduces each layer as it arrives (from a forward hook, say) and drops the float
maps, so a long sequence never holds every layer's maps at once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The most rows and columns a stored map has; larger maps are block-reduced.
MAX_SIDE = 512
#: Thumbnails (the layers × heads grid) are block-reduced to at most this many per side.
THUMBNAIL_SIDE = 64
#: Exact top keys kept per query row of a blocked map.
TOP_K = 8
#: The most query or key tokens a step may have.
MAX_TOKENS = 8192
#: Up to this many tokens the rollout is multiplied at token resolution; beyond, per block.
EXACT_ROLLOUT_MAX = 2048
QUANTIZATION = "uint8 per row, scaled by the row's max; |error| <= row max / 510"


@dataclass(frozen=True)
class QuantizedMap:
    """One stored map: ``values[i, j] / 255 * scales[i]``, plus the exact top keys of every
    original query row when the map is blocked (``top_index``/``top_value`` are empty when not)."""

    values: np.ndarray  # uint8 [rows, cols]
    scales: np.ndarray  # float32 [rows]
    queries: int
    keys: int
    row_block: int
    col_block: int
    top_index: np.ndarray  # uint16 [queries, k]
    top_value: np.ndarray  # float32 [queries, k]

    def dense(self) -> np.ndarray:
        """The stored values as float32 ``[rows, cols]``."""
        return self.values.astype(np.float32) * (self.scales / np.float32(255))[:, None]

    @property
    def max_error(self) -> float:
        """The largest quantization error of any stored value (row max / 510)."""
        return float(self.scales.max()) / 510 if self.scales.size else 0.0


@dataclass(frozen=True)
class ReducedLayer:
    """One layer as stored: its heads and head mean quantized, thumbnails (float32
    ``[heads + 1, rows, cols]``, the mean last) and per-head score ingredients."""

    name: str | None
    heads: tuple[QuantizedMap, ...]
    mean: QuantizedMap
    thumbnails: np.ndarray
    entropy: np.ndarray  # [H] mean row entropy in nats
    diagonal: np.ndarray  # [H] mean attention to itself (NaN unless queries == keys)
    previous: np.ndarray  # [H] mean attention to the previous token (NaN unless queries == keys)
    key_share: np.ndarray  # [H, K] mean attention each key receives

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.heads), self.mean.queries, self.mean.keys


def block_factor(size: int, side: int = MAX_SIDE) -> int:
    """How many tokens share one stored row or column so that at most ``side`` remain."""
    return max(1, -(-size // side))


def _block_sums(weights: np.ndarray, block: int, axis: int) -> np.ndarray:
    """Sums of consecutive runs of ``block`` entries along ``axis`` (the last run may be short);
    full runs by a reshape, which is several times faster than ``np.add.reduceat`` on rows."""
    size = weights.shape[axis]
    full = size // block * block
    moved = np.moveaxis(weights, axis, 0)
    parts = [moved[:full].reshape(size // block, block, *moved.shape[1:]).sum(axis=1)] if full else []
    if full < size:
        parts.append(moved[full:].sum(axis=0, keepdims=True))
    return np.moveaxis(np.concatenate(parts) if len(parts) > 1 else parts[0], 0, axis)


def block_reduce(weights: np.ndarray, row_block: int, col_block: int) -> np.ndarray:
    """``[Q, K]`` → ``[ceil(Q / row_block), ceil(K / col_block)]``: the mean over each block's
    queries of the sum over its keys (a last, shorter block averages only its own rows)."""
    if row_block == 1 and col_block == 1:
        return weights
    queries = weights.shape[0]
    summed = _block_sums(weights, col_block, 1) if col_block > 1 else weights
    summed = _block_sums(summed, row_block, 0) if row_block > 1 else summed
    counts = np.minimum(row_block, queries - np.arange(0, queries, row_block)).astype(np.float32)
    return (summed / counts[:, None]).astype(np.float32, copy=False)


def quantize_rows(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(uint8 values, float32 row scales)`` with ``value = q / 255 * scale``."""
    scales = weights.max(axis=1).astype(np.float32) if weights.size else np.zeros(len(weights), np.float32)
    inverse = np.divide(np.float32(255), scales, out=np.zeros_like(scales), where=scales > 0)
    values = np.minimum(np.rint(weights * inverse[:, None]), 255).astype(np.uint8)
    return values, scales


#: Rows handled at once by the full-width passes (top keys, entropy), so their int64 and float
#: temporaries stay a few MB even at 8,192 keys.
_ROW_CHUNK = 256


def top_keys(weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` largest weights, largest first: ``(uint16 key indices, float32 values)``."""
    rows, keys = weights.shape
    k = min(k, keys)
    index = np.empty((rows, k), np.uint16)
    values = np.empty((rows, k), np.float32)
    for start in range(0, rows, _ROW_CHUNK):
        chunk = weights[start : start + _ROW_CHUNK]
        part = np.argpartition(chunk, keys - k, axis=1)[:, keys - k :]
        top = np.take_along_axis(chunk, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        index[start : start + len(chunk)] = np.take_along_axis(part, order, axis=1)
        values[start : start + len(chunk)] = np.take_along_axis(top, order, axis=1)
    return index, values


def quantize_map(weights: np.ndarray) -> tuple[QuantizedMap, np.ndarray]:
    """One float32 ``[Q, K]`` map as stored (see the module docstring), and its thumbnail."""
    queries, keys = weights.shape
    row_block, col_block = block_factor(queries), block_factor(keys)
    blocked = block_reduce(weights, row_block, col_block)
    values, scales = quantize_rows(blocked)
    if row_block > 1 or col_block > 1:
        top_index, top_value = top_keys(weights, TOP_K)
    else:
        top_index, top_value = np.zeros((queries, 0), np.uint16), np.zeros((queries, 0), np.float32)
    stored = QuantizedMap(values, scales, queries, keys, row_block, col_block, top_index, top_value)
    return stored, thumbnail(blocked)


def thumbnail(stored: np.ndarray) -> np.ndarray:
    """A float32 map of at most ``THUMBNAIL_SIDE`` per side, block-reduced from the stored
    resolution (so every map of a step, the rollout included, has the same thumbnail size)."""
    rows, cols = stored.shape
    return block_reduce(stored, block_factor(rows, THUMBNAIL_SIDE), block_factor(cols, THUMBNAIL_SIDE))


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in float32, through torch when the user's program has loaded it: numpy's BLAS
    would start a second thread pool beside torch's, and the two spin against each other
    (measured: ``log_attention`` 3.8× slower at 128 tokens on 2 cores)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return a @ b
    return (torch.from_numpy(np.ascontiguousarray(a)) @ torch.from_numpy(np.ascontiguousarray(b))).numpy()


def _head_scores(head: np.ndarray, live_rows: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """``(entropy, diagonal, previous, key_share)`` of one ``[Q, K]`` head over its non-padded rows."""
    queries, keys = head.shape
    count = int(live_rows.sum())
    if count == 0:
        return float("nan"), float("nan"), float("nan"), np.full(keys, np.nan, np.float32)
    row_entropy = np.empty(queries, np.float64)
    for start in range(0, queries, _ROW_CHUNK):
        chunk = head[start : start + _ROW_CHUNK]
        row_entropy[start : start + len(chunk)] = -np.einsum("ij,ij->i", chunk, np.log(np.where(chunk > 0, chunk, 1)))
    entropy = float(row_entropy[live_rows].sum()) / count
    key_share = _matmul(live_rows.astype(np.float32)[None], head)[0] / count
    diagonal = previous = float("nan")
    if queries == keys:
        diagonal = float(np.diagonal(head)[live_rows].mean())
        if queries > 1 and live_rows[1:].any():
            previous = float(np.diagonal(head, -1)[live_rows[1:]].mean())
    return entropy, diagonal, previous, key_share.astype(np.float32)


def reduce_layer(weights: np.ndarray, name: str | None = None) -> tuple[ReducedLayer, np.ndarray]:
    """A checked float32 ``[H, Q, K]`` layer → ``(ReducedLayer, float32 head mean [Q, K])``; one
    head at a time, so only one extra full-size map is ever allocated."""
    heads_count, queries, keys = weights.shape
    mean = np.zeros((queries, keys), np.float32)
    heads, thumbs, scores = [], [], []
    for head in weights:
        head = np.ascontiguousarray(head, dtype=np.float32)
        mean += head
        stored, thumb = quantize_map(head)
        heads.append(stored)
        thumbs.append(thumb)
        scores.append(_head_scores(head, head.sum(axis=1) > 0))
    mean /= np.float32(heads_count)
    stored_mean, thumb = quantize_map(mean)
    thumbs.append(thumb)
    entropy, diagonal, previous, key_share = zip(*scores)
    layer = ReducedLayer(
        name=name,
        heads=tuple(heads),
        mean=stored_mean,
        thumbnails=np.stack(thumbs).astype(np.float32),
        entropy=np.array(entropy, np.float32),
        diagonal=np.array(diagonal, np.float32),
        previous=np.array(previous, np.float32),
        key_share=np.stack(key_share),
    )
    return layer, mean


def rollout_step(rollout: np.ndarray | None, head_mean: np.ndarray) -> np.ndarray:
    """One layer of attention rollout (Abnar & Zuidema 2020): Â = rownorm(0.5·A + 0.5·I) and
    R ← Â · R (R = Â for the first layer), in float32."""
    mixed = 0.5 * head_mean.astype(np.float32)
    mixed[np.diag_indices_from(mixed)] += np.float32(0.5)
    mixed /= mixed.sum(axis=1, keepdims=True)
    return mixed if rollout is None else _matmul(mixed, rollout)


def rollout_reference(layers: np.ndarray) -> np.ndarray:
    """The rollout of float ``[L, H, T, T]`` weights in float64, written plainly (for checks)."""
    result = np.eye(layers.shape[-1])
    for layer in layers.astype(np.float64):
        mixed = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(layer.shape[-1])
        result = (mixed / mixed.sum(axis=1, keepdims=True)) @ result
    return result


def layer_array(weights: Any, batch_index: int | None, argument: str) -> np.ndarray:
    """One layer's weights as float32 ``[H, Q, K]``: accepts ``[H, Q, K]`` or ``[B, H, Q, K]``
    (``batch_index`` picks the sample; may be omitted when B is 1), numpy, torch (any device,
    any float dtype) or TensorFlow. Raises ``TypeError``/``ValueError`` naming ``argument``."""
    if isinstance(weights, (list, tuple)):
        raise TypeError(f"{argument} must be one tensor or array, not a {type(weights).__name__}")
    shape = tuple(int(d) for d in getattr(weights, "shape", np.shape(weights)))
    if len(shape) == 4:  # pick the sample where the tensor lives: never the whole batch on the host
        if batch_index is None:
            if shape[0] != 1:
                raise ValueError(
                    f"{argument} has a batch of {shape[0]} samples ({list(shape)}); "
                    "pass batch_index= to pick the sample to show"
                )
            batch_index = 0
        if not -shape[0] <= batch_index < shape[0]:
            raise ValueError(f"batch_index {batch_index} is out of range for {argument}'s batch of {shape[0]}")
        weights = weights[batch_index]
    array = _float32(weights, argument)
    if array.ndim != 3:
        raise ValueError(
            f"{argument} must be one layer's weights [heads, queries, keys] or [batch, heads, queries, keys], "
            f"got shape {list(array.shape)}"
        )
    heads, queries, keys = array.shape
    if min(array.shape) < 1:
        raise ValueError(f"{argument} has an empty axis: shape {list(array.shape)}")
    if queries > MAX_TOKENS or keys > MAX_TOKENS:
        raise ValueError(
            f"{argument} has {queries} queries × {keys} keys; ModelLens stores at most {MAX_TOKENS} tokens "
            "per side: log a window of the sequence"
        )
    return array


def check_values(array: np.ndarray, argument: str) -> str | None:
    """Why ``array`` cannot be attention weights (NaN/Inf or negative), or ``None``."""
    if not np.isfinite(array.sum(dtype=np.float64)) and not np.isfinite(array).all():  # a finite sum: no NaN/Inf
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        return f"{argument} holds {bad} NaN or infinite values; attention weights must be finite"
    lowest = float(array.min())
    if lowest < 0:
        return f"{argument} holds negative values (down to {lowest:g}); attention weights are >= 0 (after softmax)"
    return None


def _float32(weights: Any, argument: str) -> np.ndarray:
    module = type(weights).__module__ or ""
    if module.startswith("torch") and hasattr(weights, "detach"):
        torch = sys.modules["torch"]
        if not (weights.is_floating_point()):
            raise TypeError(f"{argument} must be a floating-point tensor, got {weights.dtype}")
        return weights.detach().to(torch.float32).cpu().numpy()
    from modellens._convert import to_numpy

    array = to_numpy(weights, argument)
    if array.dtype.kind != "f":
        raise TypeError(f"{argument} must hold floating-point weights, got dtype {array.dtype}")
    return np.asarray(array, dtype=np.float32)


class Collector:
    """Attention weights gathered layer by layer and reduced as they arrive.

    ``add`` takes one layer (``[heads, queries, keys]`` or ``[batch, heads, queries, keys]``;
    ``batch_index`` picks the sample) and keeps only what the step stores, so hooks can feed it
    during a forward pass; pass the collector to ``Writer.attention`` as ``weights``. Layers are
    kept in call order, which is the order the rollout multiplies them in. Shape and type errors
    raise at once; weights that are NaN or negative are refused when the step is written.
    """

    def __init__(self, batch_index: int | None = None) -> None:
        if batch_index is not None and (
            isinstance(batch_index, bool) or not isinstance(batch_index, (int, np.integer))
        ):
            raise TypeError(f"batch_index must be an int or None, got {batch_index!r}")
        self.batch_index = batch_index
        self._layers: list[ReducedLayer] = []
        self._names: list[str | None] = []
        self._rollout: np.ndarray | None = None
        self._rollout_exact = True
        self.problem: str | None = None

    def __len__(self) -> int:
        return len(self._names)

    @property
    def names(self) -> list[str | None]:
        """The layers' names as given to ``add`` (``None`` where none was)."""
        return list(self._names)

    @property
    def layers(self) -> tuple[ReducedLayer, ...]:
        return tuple(self._layers)

    def add(self, weights: Any, name: str | None = None, *, argument: str = "weights") -> None:
        """Reduces one layer's weights now (see the class docstring)."""
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {name!r}")
        array = layer_array(weights, self.batch_index, argument)
        if self._layers and array.shape != self._layers[0].shape:
            raise ValueError(
                f"{argument} has shape {list(array.shape)} [heads, queries, keys] but the first layer had "
                f"{list(self._layers[0].shape)}; every layer of one step must have the same shape"
            )
        self._names.append(name)
        if self.problem is not None:
            return
        self.problem = check_values(array, f"{argument} (layer {len(self._names) - 1})")
        if self.problem is not None:
            return
        layer, mean = reduce_layer(array, name)
        self._layers.append(layer)
        if mean.shape[0] == mean.shape[1]:
            size = mean.shape[0]
            if size > EXACT_ROLLOUT_MAX:
                block = block_factor(size)
                mean = block_reduce(mean, block, block)
                self._rollout_exact = False
            self._rollout = rollout_step(self._rollout, mean)

    def rollout(self) -> tuple[np.ndarray | None, bool]:
        """``(float32 rollout of the layers so far, exact)``; ``None`` for cross-attention.
        ``exact`` is False when it was multiplied per block (more than ``EXACT_ROLLOUT_MAX``
        tokens)."""
        return self._rollout, self._rollout_exact
