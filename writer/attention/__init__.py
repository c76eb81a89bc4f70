"""Attention maps: every layer and head of one step, quantized, with tokens and the rollout.

A step is one ``Summary.Value`` of ``DATA_CLASS_BLOB_SEQUENCE`` whose rank-1 ``DT_STRING``
tensor holds several blobs, so the view reads only what it draws:

- blob 0: the header, an ``AttentionStep`` message (``modellens._proto``): sizes, tokens, layer
  names, the storage policy and its error bound, the head scores;
- blob 1: every map's thumbnail (``wire``);
- blob 2 + m: map m, in the order of ``AttentionHeader.map_index``: for each layer its heads,
  then its head mean; after the layers, the rollout.

What is kept, and its error, is described in ``modellens.attention.reduce``. ``Collector``
reduces layer by layer (from hooks); ``from_input`` accepts it or plain tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _packing, _proto
from modellens._metadata import UnreadableRecord
from modellens.attention import wire
from modellens.attention.reduce import (
    MAX_SIDE,
    MAX_TOKENS,
    QUANTIZATION,
    THUMBNAIL_SIDE,
    TOP_K,
    Collector,
    QuantizedMap,
    ReducedLayer,
    block_factor,
    quantize_map,
    quantize_rows,
    rollout_reference,
    thumbnail,
)

KIND = "ATTENTION"
#: The newest format of this kind that this code writes and reads.
VERSION = 1
DATA_CLASS = summary_pb2.DATA_CLASS_BLOB_SEQUENCE
SCORE_NAMES = ("entropy", "previous", "first", "self", "separator")
#: Tokens whose share of attention is the "separator" score.
SEPARATORS = frozenset({"[SEP]", "</s>", "<sep>", "[EOS]", "<eos>", "<|endoftext|>"})
#: Blobs before the maps: the header and the thumbnails.
FIRST_MAP_BLOB = 2
#: What ``decode`` reads of a step: its header (the plugin reads the rest blob by blob).
HEADER_BLOBS = 1
_MAX_LAYERS = 1024
_MAX_HEADS = 1024

__all__ = [
    "Collector",
    "Attention",
    "AttentionHeader",
    "AttentionRecord",
    "from_input",
    "check",
    "encode",
    "decode",
    "read_step",
    "rollout_reference",
    "KIND",
    "VERSION",
    "DATA_CLASS",
    "MAX_TOKENS",
    "MAX_SIDE",
    "TOP_K",
]


@dataclass(frozen=True)
class Attention:
    """One step as it will be written."""

    tokens: list[str]
    query_tokens: list[str] | None  # None: self-attention (the queries are the tokens)
    layer_names: list[str]
    layers: tuple[ReducedLayer, ...]
    rollout: QuantizedMap | None
    rollout_thumbnail: np.ndarray | None
    rollout_exact: bool
    scores: np.ndarray  # float32 [layers, heads, len(SCORE_NAMES)]

    def maps(self) -> list[QuantizedMap]:
        """Every stored map in blob order."""
        out = [m for layer in self.layers for m in (*layer.heads, layer.mean)]
        return out + ([self.rollout] if self.rollout is not None else [])


# ---------------------------------------------------------------------------- validation


def _collect(weights: Any, batch_index: int | None) -> Collector:
    if isinstance(weights, Collector):
        if batch_index is not None:
            raise ValueError("batch_index is for per-layer tensors; a Collector picked its sample when it was made")
        return weights
    collector = Collector(batch_index)
    if isinstance(weights, (list, tuple)):
        if not weights:
            raise ValueError("weights is an empty sequence; give one [heads, queries, keys] tensor per layer")
        for index, layer in enumerate(weights):
            collector.add(layer, argument=f"weights[{index}]")
        return collector
    shape = tuple(getattr(weights, "shape", np.shape(weights)))
    if len(shape) == 4:
        if batch_index is not None:
            raise ValueError(
                "batch_index applies to a sequence of per-layer [batch, heads, queries, keys] tensors; "
                "a 4-D weights is [layers, heads, queries, keys]"
            )
        if shape[0] > _MAX_LAYERS:
            raise ValueError(f"weights has {shape[0]} layers; at most {_MAX_LAYERS}")
        for index in range(shape[0]):
            collector.add(weights[index], argument=f"weights[{index}]")
    elif len(shape) == 3:
        collector.add(weights)
    elif len(shape) == 2:
        collector.add(weights[None])
    else:
        raise ValueError(
            "weights must be [layers, heads, queries, keys], [heads, queries, keys], [queries, keys] "
            f"or a sequence of per-layer tensors; got shape {list(shape)}"
        )
    return collector


def _scores(layers: Sequence[ReducedLayer], tokens: list[str], self_attention: bool) -> np.ndarray:
    separators = [i for i, token in enumerate(tokens) if token.strip() in SEPARATORS]
    out = np.full((len(layers), len(layers[0].heads), len(SCORE_NAMES)), np.nan, np.float32)
    for index, layer in enumerate(layers):
        out[index, :, 0] = layer.entropy
        out[index, :, 2] = layer.key_share[:, 0]
        if self_attention:
            out[index, :, 1] = layer.previous
            out[index, :, 3] = layer.diagonal
        if separators:
            out[index, :, 4] = layer.key_share[:, separators].sum(axis=1)
    return out


def _rollout(collector: Collector) -> tuple[QuantizedMap | None, np.ndarray | None, bool]:
    rollout, exact = collector.rollout()
    if rollout is None:
        return None, None, True
    if exact:
        return (*quantize_map(rollout), True)
    size = collector.layers[0].mean.queries
    block = block_factor(size)
    values, scales = quantize_rows(rollout)
    empty = np.zeros((size, 0))
    stored = QuantizedMap(values, scales, size, size, block, block, empty.astype(np.uint16), empty.astype(np.float32))
    return stored, thumbnail(rollout), False


def _checked(
    collector: Collector, tokens: Any, query_tokens: Any, layer_names: Any
) -> tuple[list[str], list[str] | None, list[str]]:
    """``(tokens, query_tokens or None for self-attention, layer_names)``, checked against the
    collected layers; raises ``ValueError``/``TypeError`` naming the argument."""
    if not len(collector):
        raise ValueError("weights holds no layer; the Collector saw no attention (was the model called?)")
    if collector.problem is not None:
        raise ValueError(collector.problem)
    heads, queries, keys = collector.layers[0].shape
    if heads > _MAX_HEADS:
        raise ValueError(f"weights has {heads} heads per layer; at most {_MAX_HEADS}")
    tokens = _packing.check_names(tokens, "tokens", what="token", unique=False, allow_empty=True)
    if len(tokens) != keys:
        raise ValueError(
            f"tokens has {len(tokens)} entries but the maps have {keys} keys (their last axis); give one token per key"
        )
    if query_tokens is not None:
        query_tokens = _packing.check_names(query_tokens, "query_tokens", what="token", unique=False, allow_empty=True)
        if len(query_tokens) != queries:
            raise ValueError(
                f"query_tokens has {len(query_tokens)} entries but the maps have {queries} queries "
                "(their second-to-last axis); give one token per query"
            )
    elif queries != keys:
        raise ValueError(
            f"the maps have {queries} queries and {keys} keys: give query_tokens for the queries (cross-attention)"
        )
    count = len(collector)
    if layer_names is None:
        names = collector.names
        unique = all(names) and len(set(names)) == count
        layer_names = [str(n) for n in names] if unique else [f"layer {i}" for i in range(count)]
    else:
        layer_names = _packing.check_names(layer_names, "layer_names", what="layer name")
        if len(layer_names) != count:
            raise ValueError(f"layer_names has {len(layer_names)} names for {count} layers; give one per layer")
    return tokens, query_tokens, layer_names


def check(collector: Collector, *, tokens: Any, query_tokens: Any = None, layer_names: Any = None) -> None:
    """Raises what ``Writer.attention(tag, collector, ...)`` would raise, writing nothing: lets an
    integration that writes several records (encoder, decoder, cross) check them all first."""
    _checked(collector, tokens, query_tokens, layer_names)


def from_input(
    weights: Any,
    *,
    tokens: Any,
    query_tokens: Any = None,
    layer_names: Any = None,
    batch_index: int | None = None,
) -> Attention:
    """Checks and reduces one step (see ``Writer.attention``); raises ``ValueError``/``TypeError``
    naming the argument, before anything is written. Giving ``query_tokens`` makes the step
    cross-attention (no rollout, no previous/self scores), even when they equal ``tokens``."""
    collector = _collect(weights, batch_index)
    tokens, query_tokens, layer_names = _checked(collector, tokens, query_tokens, layer_names)
    self_attention = query_tokens is None
    rollout, rollout_thumbnail, exact = _rollout(collector) if self_attention else (None, None, True)
    return Attention(
        tokens=tokens,
        query_tokens=query_tokens,
        layer_names=layer_names,
        layers=collector.layers,
        rollout=rollout,
        rollout_thumbnail=rollout_thumbnail,
        rollout_exact=exact,
        scores=_scores(collector.layers, tokens, self_attention),
    )


# ---------------------------------------------------------------------------- encode


def encode(tag: str, data: Attention) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` of one step: header, thumbnails, then one blob per map."""
    first = data.layers[0]
    maps = data.maps()
    header = _proto.AttentionStep(
        layers=len(data.layers),
        heads=len(first.heads),
        queries=first.mean.queries,
        keys=first.mean.keys,
        tokens=data.tokens,
        query_tokens=data.query_tokens or [],
        layer_names=data.layer_names,
        row_block=first.mean.row_block,
        col_block=first.mean.col_block,
        top_k=first.mean.top_index.shape[1],
        max_error=max(m.max_error for m in maps),
        score_names=list(SCORE_NAMES),
        scores=data.scores.astype("<f4").tobytes(),
        rollout=data.rollout is not None,
        rollout_exact=data.rollout_exact,
        thumbnail_rows=first.thumbnails.shape[1],
        thumbnail_cols=first.thumbnails.shape[2],
        quantization=QUANTIZATION,
    )
    thumbnails = [layer.thumbnails for layer in data.layers]
    if data.rollout_thumbnail is not None:
        thumbnails.append(data.rollout_thumbnail[None])
    blobs = [header.SerializeToString(), wire.seal(wire.pack_thumbnails(np.concatenate(thumbnails)))]
    blobs += [wire.seal(wire.pack_map(m)) for m in maps]
    tensor = _packing.blob_sequence_tensor(blobs)
    return summary_pb2.Summary.Value(
        tag=tag, metadata=_metadata.summary_metadata(KIND, VERSION, DATA_CLASS), tensor=tensor
    )


# ---------------------------------------------------------------------------- decode


@dataclass(frozen=True)
class AttentionHeader:
    """What the first blob of a step says (checked): sizes, tokens, policy, scores."""

    layers: int
    heads: int
    queries: int
    keys: int
    tokens: list[str]
    query_tokens: list[str]  # the tokens themselves for self-attention
    self_attention: bool
    layer_names: list[str]
    rows: int
    cols: int
    row_block: int
    col_block: int
    top_k: int
    max_error: float
    quantization: str
    scores: np.ndarray  # float32 [layers, heads, len(score_names)], NaN where undefined
    score_names: list[str]
    rollout: bool
    rollout_exact: bool
    thumbnail_rows: int
    thumbnail_cols: int

    @property
    def map_count(self) -> int:
        return self.layers * (self.heads + 1) + int(self.rollout)

    def map_index(self, layer: int | str, head: int | str | None) -> int:
        """The position of a map (``layer`` an index or ``"rollout"``, ``head`` an index or
        ``"mean"``); ``IndexError`` when this step has no such map."""
        if layer == "rollout":
            if not self.rollout:
                raise IndexError("this step has no rollout (cross-attention)")
            return self.layers * (self.heads + 1)
        if not isinstance(layer, int) or not 0 <= layer < self.layers:
            raise IndexError(f"layer {layer} is out of range: this step has {self.layers} layers")
        if head == "mean":
            return layer * (self.heads + 1) + self.heads
        if not isinstance(head, int) or not 0 <= head < self.heads:
            raise IndexError(f"head {head} is out of range: this step has {self.heads} heads")
        return layer * (self.heads + 1) + head


def decode(value: Any) -> AttentionHeader:
    """The header of a step, from what a data provider returns (its blobs as a bytes array; only
    the first is read). Raises ``UnreadableRecord`` for anything malformed."""
    try:
        message = _proto.AttentionStep.FromString(_packing.header_blob(value, "attention"))
    except UnreadableRecord:
        raise
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"malformed attention header: {error}") from None
    layers, heads, queries, keys = message.layers, message.heads, message.queries, message.keys
    if not (
        0 < layers <= _MAX_LAYERS and 0 < heads <= _MAX_HEADS and 0 < queries <= MAX_TOKENS and 0 < keys <= MAX_TOKENS
    ):
        raise UnreadableRecord(f"attention sizes out of range: {layers} × {heads} × {queries} × {keys}")
    if len(message.tokens) != keys or len(message.layer_names) != layers:
        raise UnreadableRecord("attention tokens or layer names do not match the sizes")
    if message.query_tokens and len(message.query_tokens) != queries:
        raise UnreadableRecord("attention query tokens do not match the sizes")
    if not message.query_tokens and queries != keys:
        raise UnreadableRecord("cross-attention without query tokens")
    if message.row_block != block_factor(queries) or message.col_block != block_factor(keys):
        raise UnreadableRecord("attention block sizes do not match the token counts")
    if message.top_k not in (0, min(TOP_K, keys)) or (message.top_k == 0) != (
        message.row_block == message.col_block == 1
    ):
        raise UnreadableRecord(f"attention top_k {message.top_k} does not match the blocking")
    names = list(message.score_names)
    if len(message.scores) != 4 * layers * heads * len(names):
        raise UnreadableRecord("attention scores do not match the sizes")
    rows, cols = -(-queries // message.row_block), -(-keys // message.col_block)
    expected = (-(-rows // block_factor(rows, THUMBNAIL_SIDE)), -(-cols // block_factor(cols, THUMBNAIL_SIDE)))
    if (message.thumbnail_rows, message.thumbnail_cols) != expected:
        raise UnreadableRecord("attention thumbnail size does not match the sizes")
    tokens = list(message.tokens)
    return AttentionHeader(
        layers=layers,
        heads=heads,
        queries=queries,
        keys=keys,
        tokens=tokens,
        query_tokens=list(message.query_tokens) or tokens,
        self_attention=not message.query_tokens,
        layer_names=list(message.layer_names),
        rows=rows,
        cols=cols,
        row_block=message.row_block,
        col_block=message.col_block,
        top_k=message.top_k,
        max_error=message.max_error,
        quantization=message.quantization,
        scores=np.frombuffer(message.scores, "<f4").reshape(layers, heads, len(names)),
        score_names=names,
        rollout=message.rollout and not message.query_tokens,
        rollout_exact=message.rollout_exact,
        thumbnail_rows=message.thumbnail_rows,
        thumbnail_cols=message.thumbnail_cols,
    )


def map_payload(header: AttentionHeader, index: int, blob: bytes) -> bytes:
    """Map ``index``'s payload (``wire``'s layout), decompressed and checked against ``header``."""
    rollout = header.rollout and index == header.map_count - 1
    top_k = 0 if rollout and not header.rollout_exact else header.top_k
    rows, cols = header.rows, header.cols
    payload = wire.unseal(blob, wire.map_size(rows, cols, header.queries, top_k))
    expected = [rows, cols, header.queries, header.keys, top_k, header.row_block, header.col_block, 0]
    if [int(v) for v in wire.map_header(payload)] != expected:
        raise UnreadableRecord(f"attention map {index} does not match its step's header")
    return payload


def thumbnails_payload(header: AttentionHeader, blob: bytes) -> bytes:
    """The thumbnails' payload (``wire``'s layout), decompressed and checked against ``header``."""
    count, rows, cols = header.map_count, header.thumbnail_rows, header.thumbnail_cols
    payload = wire.unseal(blob, wire.thumbnails_size(count, rows, cols))
    if [int(v) for v in np.frombuffer(payload, "<u4", 3)] != [count, rows, cols]:
        raise UnreadableRecord("attention thumbnails do not match their step's header")
    return payload


@dataclass(frozen=True)
class AttentionRecord:
    """A whole step read back (from an event file's tensor): the header and its maps."""

    header: AttentionHeader
    blobs: tuple[bytes, ...]

    def quantized(self, layer: int | str, head: int | str | None = None) -> QuantizedMap:
        index = self.header.map_index(layer, head)
        return wire.unpack_map(map_payload(self.header, index, self.blobs[FIRST_MAP_BLOB + index]))

    def map(self, layer: int | str, head: int | str | None = None) -> np.ndarray:
        """One map as stored, dequantized: float32 ``[rows, cols]``."""
        return self.quantized(layer, head).dense()

    def thumbnails(self) -> np.ndarray:
        """Every map's thumbnail, float32 ``[maps, rows, cols]``."""
        return wire.unpack_thumbnails(thumbnails_payload(self.header, self.blobs[1]))


def read_step(blobs: Sequence[bytes]) -> AttentionRecord:
    """A step from its blobs (``Summary.Value.tensor.string_val``)."""
    header = decode(blobs)
    if len(blobs) != FIRST_MAP_BLOB + header.map_count:
        raise UnreadableRecord(
            f"an attention step has {len(blobs)} blobs, its header says {FIRST_MAP_BLOB + header.map_count}"
        )
    return AttentionRecord(header, tuple(blobs))
