"""Byte layouts of an attention step's blobs after the header (little-endian).

Every blob is one compression byte (``_proto.Compression``) and its payload. The payloads are
also what the plugin's binary routes answer, decompressed:

Map (one head, a head mean or the rollout)::

    u32 header[8] = [rows, cols, queries, keys, top_k, row_block, col_block, 0]
    f32 scale[rows]
    u8  value[rows * cols]           value(i, j) = value[i * cols + j] / 255 * scale[i]
        zero padding to a multiple of 4 bytes
    u16 top_index[queries * top_k]   exact top keys of each original query row (blocked maps)
        zero padding to a multiple of 4 bytes
    f32 top_value[queries * top_k]

Thumbnails (every map of the step, in map order)::

    u32 header[4] = [count, rows, cols, 0]
    f32 max[count]
    u8  value[count * rows * cols]   thumbnail value = value / 255 * max[m]
"""

from __future__ import annotations

import zlib

import numpy as np

from modellens import _packing, _proto
from modellens._metadata import UnreadableRecord
from modellens.attention.reduce import QuantizedMap

_U32 = np.dtype("<u4")
_F32 = np.dtype("<f4")
_U16 = np.dtype("<u2")
_NONE = _proto.COMPRESSION.values_by_name["NONE"].number


def _padded(size: int) -> int:
    return -(-size // 4) * 4


def map_size(rows: int, cols: int, queries: int, top_k: int) -> int:
    """Bytes of a map payload of these dimensions."""
    values_end = _padded(32 + 4 * rows + rows * cols)
    return _padded(values_end + 2 * queries * top_k) + 4 * queries * top_k


#: A payload larger than this is compressed only if a sample of it shrinks by a quarter: the
#: near-uniform maps of an untrained model save ~10% for a second of zlib per 12 × 12 × 512²
#: step (most of the encoding), while trained, peaked maps shrink by half or more.
_SAMPLE_BYTES = 64 * 1024
_WORTH = 0.75


def seal(payload: bytes) -> bytes:
    """A blob: the compression byte, then the payload (zlib when it pays, see ``_WORTH``)."""
    if len(payload) > 4 * _SAMPLE_BYTES:
        middle = len(payload) // 2
        sample = payload[middle : middle + _SAMPLE_BYTES]
        if len(zlib.compress(sample, 1)) > _WORTH * len(sample):
            return bytes([_NONE]) + payload
    compression, packed = _packing.compress(payload)
    return bytes([compression]) + packed


def unseal(blob: bytes, size: int) -> bytes:
    """The payload of a blob that must be exactly ``size`` bytes once decompressed."""
    if not isinstance(blob, bytes) or not blob:
        raise UnreadableRecord("an attention blob is empty")
    payload = _packing.decompress(blob[0], blob[1:], size)
    if len(payload) != size:
        raise UnreadableRecord(f"an attention blob holds {len(payload)} bytes, its header says {size}")
    return payload


def pack_map(data: QuantizedMap) -> bytes:
    rows, cols = data.values.shape
    top_k = data.top_index.shape[1]
    header = np.array([rows, cols, data.queries, data.keys, top_k, data.row_block, data.col_block, 0], _U32).tobytes()
    out = bytearray(map_size(rows, cols, data.queries, top_k))
    body = header + data.scales.astype(_F32).tobytes() + np.ascontiguousarray(data.values).tobytes()
    out[: len(body)] = body
    if top_k:
        start = _padded(len(body))
        index = data.top_index.astype(_U16).tobytes()
        out[start : start + len(index)] = index
        start = _padded(start + len(index))
        out[start:] = data.top_value.astype(_F32).tobytes()
    return bytes(out)


def map_header(payload: bytes) -> np.ndarray:
    """The eight u32 of a map payload (checked for length only)."""
    if len(payload) < 32:
        raise UnreadableRecord("an attention map is shorter than its header")
    return np.frombuffer(payload, _U32, 8)


def unpack_map(payload: bytes) -> QuantizedMap:
    """A map payload back as a ``QuantizedMap``; every size is checked first."""
    rows, cols, queries, keys, top_k, row_block, col_block, _ = (int(v) for v in map_header(payload))
    if len(payload) != map_size(rows, cols, queries, top_k):
        raise UnreadableRecord("an attention map's size does not match its header")
    scales = np.frombuffer(payload, _F32, rows, 32)
    values = np.frombuffer(payload, np.uint8, rows * cols, 32 + 4 * rows).reshape(rows, cols)
    start = _padded(32 + 4 * rows + rows * cols)
    top_index = np.frombuffer(payload, _U16, queries * top_k, start).reshape(queries, top_k)
    top_value = np.frombuffer(payload, _F32, queries * top_k, _padded(start + 2 * queries * top_k))
    return QuantizedMap(
        values, scales, queries, keys, row_block, col_block, top_index, top_value.reshape(queries, top_k)
    )


def thumbnails_size(count: int, rows: int, cols: int) -> int:
    return 16 + 4 * count + count * rows * cols


def pack_thumbnails(thumbnails: np.ndarray) -> bytes:
    """Float ``[count, rows, cols]`` thumbnails, each scaled by its own max."""
    count, rows, cols = thumbnails.shape
    maxes = thumbnails.reshape(count, -1).max(axis=1).astype(np.float32)
    inverse = np.divide(np.float32(255), maxes, out=np.zeros_like(maxes), where=maxes > 0)
    values = np.minimum(np.rint(thumbnails * inverse[:, None, None]), 255).astype(np.uint8)
    return np.array([count, rows, cols, 0], _U32).tobytes() + maxes.astype(_F32).tobytes() + values.tobytes()


def unpack_thumbnails(payload: bytes) -> np.ndarray:
    """Thumbnails back as float32 ``[count, rows, cols]``."""
    if len(payload) < 16:
        raise UnreadableRecord("attention thumbnails are shorter than their header")
    count, rows, cols, _ = (int(v) for v in np.frombuffer(payload, _U32, 4))
    if len(payload) != thumbnails_size(count, rows, cols):
        raise UnreadableRecord("attention thumbnails' size does not match their header")
    maxes = np.frombuffer(payload, _F32, count, 16)
    values = np.frombuffer(payload, np.uint8, count * rows * cols, 16 + 4 * count).reshape(count, rows, cols)
    return values.astype(np.float32) * (maxes / np.float32(255))[:, None, None]
