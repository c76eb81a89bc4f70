"""CRC32C (Castagnoli), as TFRecord framing needs it, fast without a C extension.

Small buffers go through a byte-at-a-time table loop. Large buffers are cut into
many equal lanes whose CRCs numpy advances side by side, one byte of every lane per
step; the lane CRCs are then joined with the GF(2) "advance over n zero bytes"
operator (the technique of zlib's ``crc32_combine``), pairwise in a tree.
"""

from __future__ import annotations

import numpy as np

_POLY = 0x82F63B78  # reflected Castagnoli polynomial
_MASK_DELTA = 0xA282EAD8
_NUMPY_THRESHOLD = 2048  # bytes; below this the plain loop wins


def _make_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


_TABLE = _make_table()
_TABLE_LIST = [int(v) for v in _TABLE]


def _update_bytes(state: int, data: bytes | memoryview) -> int:
    table = _TABLE_LIST
    for byte in bytes(data):
        state = table[(state ^ byte) & 0xFF] ^ (state >> 8)
    return state


def _apply(columns: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Applies the GF(2) 32x32 matrix given by its ``columns`` to every uint32 in ``vectors``."""
    out = np.zeros_like(vectors)
    for bit in range(32):
        out ^= columns[bit] * ((vectors >> np.uint32(bit)) & np.uint32(1))
    return out


def _zeros_operator_one_byte() -> np.ndarray:
    unit = np.array([1 << bit for bit in range(32)], dtype=np.uint32)
    return (_TABLE[unit & 0xFF] ^ (unit >> np.uint32(8))).astype(np.uint32)


_ZEROS_1 = _zeros_operator_one_byte()
_ZEROS_CACHE: dict[int, np.ndarray] = {1: _ZEROS_1}


def _zeros_operator(length: int) -> np.ndarray:
    """The operator that advances a CRC state over ``length`` zero bytes."""
    cached = _ZEROS_CACHE.get(length)
    if cached is not None:
        return cached
    result = None
    power = _ZEROS_1
    remaining = length
    while remaining:
        if remaining & 1:
            result = power if result is None else _apply(power, result)
        remaining >>= 1
        if remaining:
            power = _apply(power, power)
    assert result is not None
    if len(_ZEROS_CACHE) < 256:
        _ZEROS_CACHE[length] = result
    return result


def _lane_count(size: int) -> int:
    lanes = 1
    while lanes < 16384 and lanes * 2 * 128 <= size:
        lanes *= 2
    return lanes


def _update_numpy(state: int, data: bytes | memoryview) -> int:
    buffer = np.frombuffer(data, dtype=np.uint8)
    lanes = _lane_count(buffer.size)
    lane_length = buffer.size // lanes
    body = buffer[: lanes * lane_length]
    rows = np.ascontiguousarray(body.reshape(lanes, lane_length).T)
    crcs = np.zeros(lanes, dtype=np.uint32)
    index = np.empty(lanes, dtype=np.uint8)
    looked_up = np.empty(lanes, dtype=np.uint32)
    table = _TABLE
    shift = np.uint32(8)
    for row in rows:
        np.bitwise_xor(crcs.astype(np.uint8), row, out=index)
        np.take(table, index, out=looked_up)
        np.right_shift(crcs, shift, out=crcs)
        np.bitwise_xor(crcs, looked_up, out=crcs)
    # Fold the incoming state into lane 0, then join lanes pairwise.
    crcs[0] ^= _apply(_zeros_operator(lane_length), np.array([state], dtype=np.uint32))[0]
    segment = lane_length
    while crcs.size > 1:
        crcs = _apply(_zeros_operator(segment), crcs[0::2]) ^ crcs[1::2]
        segment *= 2
    return _update_bytes(int(crcs[0]), buffer[lanes * lane_length :].tobytes())


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC32C of ``data``."""
    state = 0xFFFFFFFF
    if len(data) < _NUMPY_THRESHOLD:
        state = _update_bytes(state, data)
    else:
        state = _update_numpy(state, data)
    return state ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """The masked CRC32C that TFRecord files store."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
