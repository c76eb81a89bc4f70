"""Byte packing shared by the kinds: the one-string step tensor, narrowest unsigned counts,
zlib when it pays, and checks of user-supplied name lists."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from tensorboard.compat.proto import tensor_pb2, types_pb2

from modellens import _proto
from modellens._metadata import UnreadableRecord

COUNT_TYPES = (
    ("UINT8", np.dtype("<u1")),
    ("UINT16", np.dtype("<u2")),
    ("UINT32", np.dtype("<u4")),
    ("UINT64", np.dtype("<u8")),
)
_COMPRESS_FROM_BYTES = 4096
INT64_MAX = np.iinfo(np.int64).max


def string_tensor(payload: bytes) -> tensor_pb2.TensorProto:
    """A rank-1 ``DT_STRING`` tensor of one element (what both TensorBoard loaders keep)."""
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[payload])
    tensor.tensor_shape.dim.add(size=1)
    return tensor


def single_string(tensor_value: Any, what: str) -> bytes:
    """The one serialized message of a step, as a data provider returns it."""
    array = np.asarray(tensor_value, dtype=object).reshape(-1)
    if array.size != 1 or not isinstance(array[0], bytes):
        raise UnreadableRecord(f"a {what} step is one serialized message")
    return array[0]


def parse_step(message_class: Any, tensor_value: Any, what: str) -> Any:
    """The step message of a kind, parsed from the value a data provider returns; every defect
    is an ``UnreadableRecord``."""
    payload = single_string(tensor_value, what)
    try:
        return message_class.FromString(payload)
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"malformed {what} step: {error}") from None


def narrowest_counts(counts: np.ndarray) -> tuple[int, bytes]:
    """``(CountType number, little-endian bytes)`` of non-negative integer counts."""
    largest = int(counts.max()) if counts.size else 0
    name, dtype = next((name, t) for name, t in COUNT_TYPES if largest <= np.iinfo(t).max)
    return _proto.COUNT_TYPE.values_by_name[name].number, np.ascontiguousarray(counts).astype(dtype).tobytes()


def count_dtype(count_type: int) -> np.dtype:
    try:
        return dict(COUNT_TYPES)[_proto.COUNT_TYPE.values_by_number[count_type].name]
    except KeyError:
        raise UnreadableRecord(f"unknown count type {count_type}") from None


def compress(raw: bytes) -> tuple[int, bytes]:
    """``(Compression number, bytes)``: zlib when it saves at least 10%."""
    if len(raw) >= _COMPRESS_FROM_BYTES:
        packed = zlib.compress(raw, 1)
        if len(packed) < 0.9 * len(raw):
            return _proto.COMPRESSION.values_by_name["ZLIB"].number, packed
    return _proto.COMPRESSION.values_by_name["NONE"].number, raw


def decompress(compression: int, raw: bytes, limit: int) -> bytes:
    """Undoes ``compress``; refuses output longer than ``limit`` bytes (a zip bomb)."""
    name = _proto.COMPRESSION.values_by_number.get(compression)
    if name is None:
        raise UnreadableRecord(f"unknown compression {compression}")
    if name.name == "NONE":
        return raw
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise UnreadableRecord(f"corrupt compressed data: {error}") from None
    if len(data) > limit or not inflater.eof:
        raise UnreadableRecord("compressed data is larger than its header says")
    return data


def check_names(
    names: Any, argument: str, *, what: str = "name", unique: bool = True, allow_empty: bool = False
) -> list[str]:
    """A list of valid-Unicode strings, unique and non-empty unless told otherwise (tokens
    repeat and may be empty); the error names ``argument``."""
    if isinstance(names, (str, bytes)):
        raise TypeError(f"{argument} must be a sequence of str, not a single {type(names).__name__}")
    values = names.tolist() if isinstance(names, np.ndarray) else list(names)
    if not values:
        raise ValueError(f"{argument} is empty; give at least one {what}")
    seen: set[str] = set()
    for name in values:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must all be str; got {name!r} ({type(name).__name__})")
        if not name and not allow_empty:
            raise ValueError(f"{argument} has an empty {what}; every {what} needs at least one character")
        check_text(name, argument)
        if unique and name in seen:
            raise ValueError(f"{argument} has the duplicate {what} {name!r}; each must be unique")
        seen.add(name)
    return values


def check_text(text: str, argument: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{argument} has {text!r}, which is not valid Unicode text") from None
    return text


# ---------------------------------------------------------------------------- named arrays

#: The element types a named array may hold (what the readers accept).
ARRAY_DTYPES = frozenset({"<f8", "<f4", "<i8", "<i4", "<u8", "<u4", "<u2", "|u1", "|i1", "|b1"})
#: The most elements one named array may claim (a reader refuses larger claims before allocating).
MAX_ARRAY_ELEMENTS = 2**28


def pack_array(name: str, values: Any) -> Any:
    """One ``modellens.Array`` (little-endian, zlib when it saves ≥ 10%)."""
    array = np.asarray(values)
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder not in "|" else array.dtype
    if dtype.str not in ARRAY_DTYPES:
        raise TypeError(f"cannot pack {name} of dtype {array.dtype}")  # a bug in the kind, not user input
    compression, raw = compress(np.ascontiguousarray(array, dtype=dtype).tobytes())
    return _proto.Array(name=name, dtype=dtype.str, shape=list(array.shape), data=raw, compression=compression)


def unpack_arrays(arrays: Any, what: str) -> dict[str, np.ndarray]:
    """``{name: array}`` of repeated ``modellens.Array``; every size is checked before
    ``np.frombuffer`` and every defect is an ``UnreadableRecord``."""
    result: dict[str, np.ndarray] = {}
    for item in arrays:
        if item.dtype not in ARRAY_DTYPES:
            raise UnreadableRecord(f"{what}: array {item.name!r} has the unknown dtype {item.dtype!r}")
        shape = tuple(int(size) for size in item.shape)
        if any(size < 0 for size in shape) or len(shape) > 8:
            raise UnreadableRecord(f"{what}: array {item.name!r} has the bad shape {shape}")
        elements = int(np.prod(shape, dtype=np.float64)) if shape else 1
        if elements > MAX_ARRAY_ELEMENTS:
            raise UnreadableRecord(f"{what}: array {item.name!r} claims {elements} elements")
        dtype = np.dtype(item.dtype)
        expected = elements * dtype.itemsize
        raw = decompress(item.compression, item.data, expected)
        if len(raw) != expected:
            raise UnreadableRecord(f"{what}: array {item.name!r} has {len(raw)} bytes, its shape needs {expected}")
        if item.name in result:
            raise UnreadableRecord(f"{what}: array {item.name!r} appears twice")
        result[item.name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return result


def require_arrays(arrays: dict[str, np.ndarray], what: str, shapes: dict[str, tuple[int, ...]]) -> None:
    """Raises ``UnreadableRecord`` unless each named array is present with the given shape."""
    for name, shape in shapes.items():
        found = arrays.get(name)
        if found is None:
            raise UnreadableRecord(f"{what}: the array {name!r} is missing")
        if found.shape != tuple(shape):
            raise UnreadableRecord(f"{what}: the array {name!r} has shape {found.shape}, expected {tuple(shape)}")


def blob_sequence_tensor(blobs: list[bytes]) -> tensor_pb2.TensorProto:
    """The rank-1 ``DT_STRING`` tensor of a blob-sequence step (rank 0 is dropped by Rust)."""
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=blobs)
    tensor.tensor_shape.dim.add(size=len(blobs))
    return tensor


def header_blob(value: Any, what: str) -> bytes:
    """The first blob of a blob-sequence step, as the plugin's reader hands it over."""
    array = np.asarray(value, dtype=object).reshape(-1)
    if array.size < 1 or not isinstance(array[0], bytes):
        raise UnreadableRecord(f"a {what} step starts with its header blob")
    return array[0]
