"""Tensor heatmaps: a 1–4-D tensor drawn as one 2-D image, its layouts, block reduction and
wire format (encode, decode of the header, the body reader).

Layouts (``geometry``) turn the tensor into an image of ``rows × cols`` cells:

- ``row``: 1-D ``[n]`` → ``1 × n``;
- ``matrix``: 2-D as is, 3-D ``[a, b·c]``, 4-D ``[d0, d1·d2·d3]`` (a reshape);
- ``kernels``: a 4-D conv weight ``[out, in, kh, kw]`` (``channels_last``: Keras' ``[kh, kw, in,
  out]``) as a grid of ``out × in`` tiles of ``kh × kw``: image ``[out·kh, in·kw]``, cell
  ``(o·kh + i, c·kw + j)`` is ``w[o, c, i, j]``;
- ``channels``: an activation ``[N, C, H, W]`` (sample ``batch_index``; also 3-D ``[C, H, W]``;
  ``channels_last``: ``[N, H, W, C]`` / ``[H, W, C]``) as ``C`` maps of ``H × W`` in a grid of
  ``ceil(sqrt(C))`` columns, row-major; the tiles past ``C`` in the last grid row are padding,
  not data.

An image of at most ``MAX_SIDE`` (1024) per side is stored exactly (float32, or float64 when the
tensor is float64 or a 32/64-bit integer; NaN and ±Inf kept). A larger one is block-reduced to at
most ``MAX_SIDE`` per side (``block_factor``: ``ceil(side / 1024)`` cells per block): per block the
mean, min and max of its finite values and its counts of NaN, +Inf and −Inf; padding cells (past
the image's edge or in padding tiles) count for nothing. The global statistics are always those
of every data cell: exact finite min/max, mean and std (float64 accumulation, over the finite
values), element count and counts of NaN, +Inf, −Inf and zeros.

A step is a blob sequence: blob 0 the ``HeatmapStep`` header (``modellens._proto``; statistics
in its ``arrays``: ``stats`` f8 ``[finite_min, finite_max, mean, std]``, ``counts`` i8 ``[count,
nan, posinf, neginf, zeros]``), blob 1 the body, an ``Arrays``: exact ``values`` ``[rows,
cols]`` (padding tiles NaN); reduced ``mean``, ``min``, ``max`` ``[rows', cols']`` and, when any,
``nan``, ``posinf``, ``neginf`` u4 per block.
"""

from __future__ import annotations

import math
import sys
import zlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _packing, _proto
from modellens._convert import to_numpy
from modellens._metadata import UnreadableRecord

KIND = "HEATMAP"
#: The newest format of this kind that this code writes and reads.
VERSION = 1
DATA_CLASS = summary_pb2.DATA_CLASS_BLOB_SEQUENCE
#: Blobs the plugin's reader decodes per step (the header); the body is read on demand.
HEADER_BLOBS = 1
BODY_BLOB = 1

#: The most rows and columns stored; larger images are block-reduced.
MAX_SIDE = 1024
LAYOUTS = ("row", "matrix", "kernels", "channels")
#: In ``auto``, a 4-D tensor whose two spatial dims are both at most this is a conv weight.
KERNEL_MAX_SIDE = 11
STAT_NAMES = ("finite_min", "finite_max", "mean", "std")
COUNT_NAMES = ("count", "nan", "posinf", "neginf", "zeros")
BLOCK_COUNTS = ("nan", "posinf", "neginf")
#: Cells handled at once by the reduction (bounds its temporaries to a few tens of MB).
_CHUNK_CELLS = 1 << 22
#: Floating types that numpy lacks (``ml_dtypes``, as TensorFlow's ``.numpy()`` returns them).
_EXTENSION_FLOATS = ("bfloat16", "float8")


# ---------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Geometry:
    """How a tensor of ``shape`` maps onto the image: its size, and for the grid layouts the
    tile and grid sizes (``channels``: the number of data tiles)."""

    rows: int
    cols: int
    tile: tuple[int, int] | None = None
    grid: tuple[int, int] | None = None
    channels: int | None = None

    def padding(self) -> tuple[int, int, int, int] | None:
        """``(row0, row1, col0, col1)`` of the padding tiles of a channel grid, or ``None``."""
        if self.channels is None or self.grid is None or self.tile is None:
            return None
        grid_rows, grid_cols = self.grid
        used = self.channels - (grid_rows - 1) * grid_cols
        if used == grid_cols:
            return None
        th, tw = self.tile
        return ((grid_rows - 1) * th, grid_rows * th, used * tw, grid_cols * tw)

    def data_mask(self) -> np.ndarray:
        """Bool ``[rows, cols]``: True for the cells that hold tensor values."""
        mask = np.ones((self.rows, self.cols), bool)
        padding = self.padding()
        if padding is not None:
            mask[padding[0] : padding[1], padding[2] : padding[3]] = False
        return mask


def geometry(shape: Sequence[int], layout: str, channels_last: bool = False) -> Geometry:
    """The image of a tensor of ``shape`` in ``layout`` (one of ``LAYOUTS``, already resolved);
    ``ValueError`` when the layout does not fit the rank. ``channels`` of a 4-D tensor is the
    image of one sample."""
    shape = tuple(int(d) for d in shape)
    rank = len(shape)
    if layout == "row":
        if rank != 1:
            raise ValueError(f"layout 'row' is for 1-D tensors; this one has shape {list(shape)}")
        return Geometry(1, shape[0])
    if layout == "matrix":
        if rank == 1:
            raise ValueError(f"layout 'matrix' is for 2-D to 4-D tensors; this one has shape {list(shape)} (use 'row')")
        return Geometry(shape[0], math.prod(shape[1:]))
    if layout == "kernels":
        if rank != 4:
            raise ValueError(
                f"layout 'kernels' is for 4-D conv weights [out, in, kh, kw] ([kh, kw, in, out] with "
                f"channels_last=True); this one has shape {list(shape)}"
            )
        kh, kw, inputs, outputs = shape if channels_last else (shape[2], shape[3], shape[1], shape[0])
        return Geometry(outputs * kh, inputs * kw, (kh, kw), (outputs, inputs))
    if layout == "channels":
        if rank not in (3, 4):
            raise ValueError(
                f"layout 'channels' is for activations [N, C, H, W] or [C, H, W] ([N, H, W, C] / [H, W, C] "
                f"with channels_last=True); this one has shape {list(shape)}"
            )
        sample = shape[1:] if rank == 4 else shape
        channels, height, width = (sample[2], sample[0], sample[1]) if channels_last else sample
        grid_cols = math.isqrt(channels - 1) + 1 if channels > 1 else 1  # ceil(sqrt(C))
        grid_rows = -(-channels // grid_cols)
        return Geometry(grid_rows * height, grid_cols * width, (height, width), (grid_rows, grid_cols), channels)
    raise ValueError(f"layout must be one of {('auto', *LAYOUTS)}, got {layout!r}")


def resolve_layout(shape: Sequence[int], layout: str, channels_last: bool = False) -> str:
    """``auto`` → 1-D ``row``, 2-D/3-D ``matrix``, 4-D ``kernels`` when the two spatial dims
    (``kh, kw``: the last two, or the first two with ``channels_last``) are both at most
    ``KERNEL_MAX_SIDE``, else ``channels``. Other layouts are returned as given."""
    if layout != "auto":
        return layout
    rank = len(shape)
    if rank == 1:
        return "row"
    if rank in (2, 3):
        return "matrix"
    spatial = shape[:2] if channels_last else shape[2:]
    return "kernels" if max(spatial) <= KERNEL_MAX_SIDE else "channels"


def block_factor(size: int, side: int = MAX_SIDE) -> int:
    """How many image rows (or columns) share one stored row (column): ``ceil(size / side)``."""
    return max(1, -(-int(size) // side))


def stored_shape(rows: int, cols: int, row_block: int, col_block: int) -> tuple[int, int]:
    return -(-rows // row_block), -(-cols // col_block)


# ---------------------------------------------------------------------------- one step


@dataclass(frozen=True)
class Stats:
    """The exact global statistics of a step's data cells (NaN where no value is finite)."""

    finite_min: float
    finite_max: float
    mean: float
    std: float
    count: int
    nan: int
    posinf: int
    neginf: int
    zeros: int


@dataclass(frozen=True)
class Heatmap:
    """One step as stored. Exact: ``values`` ``[rows, cols]`` (padding tiles NaN). Reduced:
    ``mean``/``min``/``max`` ``[rows', cols']`` (NaN where a block has no finite value) and the
    per-block ``nan``/``posinf``/``neginf`` counts (uint32)."""

    shape: tuple[int, ...]
    dtype: str
    layout: str
    channels_last: bool
    batch_index: int | None  # the sample shown (channels layout of a 4-D tensor), else None
    geometry: Geometry
    row_block: int
    col_block: int
    stats: Stats
    values: np.ndarray | None = None
    mean: np.ndarray | None = None
    min: np.ndarray | None = None
    max: np.ndarray | None = None
    nan: np.ndarray | None = None
    posinf: np.ndarray | None = None
    neginf: np.ndarray | None = None

    @property
    def reduced(self) -> bool:
        return self.row_block > 1 or self.col_block > 1

    @property
    def stored(self) -> tuple[int, int]:
        return stored_shape(self.geometry.rows, self.geometry.cols, self.row_block, self.col_block)


# ---------------------------------------------------------------------------- input


def _dtype_name(tensor: Any) -> str:
    dtype = getattr(tensor, "dtype", None)
    if dtype is None:
        return ""
    name = getattr(dtype, "name", None)
    text = name if isinstance(name, str) else str(dtype)
    return text.removeprefix("torch.")


def _host(tensor: Any, argument: str) -> np.ndarray:
    """A numpy array of real numbers (numpy's own dtypes) from numpy, torch (any device, any
    dtype incl. bfloat16), TensorFlow tensors, Keras variables or nested lists."""
    module = type(tensor).__module__ or ""
    if module.startswith("torch") and hasattr(tensor, "detach"):
        torch = sys.modules["torch"]
        value = tensor.detach()
        if value.is_complex() or getattr(value, "is_quantized", False) or value.layout != torch.strided:
            raise TypeError(f"{argument} must be a dense real tensor, got {value.dtype} ({value.layout})")
        if value.dtype in (torch.bfloat16,) or "float8" in str(value.dtype):
            value = value.to(torch.float32)
        return value.cpu().numpy()
    array = to_numpy(tensor, argument)
    if array.dtype.kind == "V" and any(array.dtype.name.startswith(n) for n in _EXTENSION_FLOATS):
        array = array.astype(np.float32)
    return array


def _work_dtype(dtype: np.dtype) -> np.dtype:
    """The float type a tensor is stored (and reduced) in: float64 for float64 and for 32/64-bit
    integers (exact up to 2**53), float32 otherwise."""
    if dtype.kind == "f" and dtype.itemsize >= 8:
        return np.dtype("<f8")
    if dtype.kind in "iu" and dtype.itemsize >= 4:
        return np.dtype("<f8")
    return np.dtype("<f4")


def _shape_of(tensor: Any, argument: str) -> tuple[int, ...]:
    shape = getattr(tensor, "shape", None)
    if shape is None:
        return tuple(to_numpy(tensor, argument).shape)
    try:
        return tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{argument} has a shape that is not fully known: {shape}") from None


def _check_batch_index(batch_index: Any) -> int:
    if isinstance(batch_index, (bool, np.bool_)) or not isinstance(batch_index, (int, np.integer)):
        raise TypeError(f"batch_index must be an int (the sample of a batch to show), got {batch_index!r}")
    return int(batch_index)


def _image(array: np.ndarray, geo: Geometry, layout: str, channels_last: bool, work: np.dtype) -> np.ndarray:
    """The ``[rows, cols]`` image (a view when the layout is a plain reshape of ``work`` data);
    padding tiles are NaN."""
    if layout in ("row", "matrix"):
        return np.asarray(array, dtype=work).reshape(geo.rows, geo.cols)
    if layout == "kernels":
        order = (3, 0, 2, 1) if channels_last else (0, 2, 1, 3)  # → [out, kh, in, kw]
        image = np.empty((geo.grid[0], geo.tile[0], geo.grid[1], geo.tile[1]), work)
        image[...] = array.transpose(order)
        return image.reshape(geo.rows, geo.cols)
    sample = array.transpose(2, 0, 1) if channels_last else array  # → [C, H, W]
    (grid_rows, grid_cols), (height, width) = geo.grid, geo.tile
    tiles = np.empty((grid_rows * grid_cols, height, width), work)
    tiles[: geo.channels] = sample
    tiles[geo.channels :] = np.nan
    return tiles.reshape(grid_rows, grid_cols, height, width).transpose(0, 2, 1, 3).reshape(geo.rows, geo.cols)


def from_input(
    tensor: Any, *, layout: str = "auto", channels_last: bool = False, batch_index: int = 0, argument: str = "tensor"
) -> Heatmap:
    """Checks and reduces one step (see ``Writer.tensor_heatmap``); raises ``ValueError`` or
    ``TypeError`` naming the argument, before anything is written. A ``Heatmap`` is returned
    as is (reduced earlier, e.g. inside a forward hook)."""
    if isinstance(tensor, Heatmap):
        return tensor
    if not isinstance(layout, str) or layout not in ("auto", *LAYOUTS):
        raise ValueError(f"layout must be one of {('auto', *LAYOUTS)}, got {layout!r}")
    if not isinstance(channels_last, (bool, np.bool_)):
        raise TypeError(f"channels_last must be True or False, got {channels_last!r}")
    channels_last = bool(channels_last)
    batch_index = _check_batch_index(batch_index)
    if isinstance(tensor, (str, bytes)):
        raise TypeError(f"{argument} must be a numeric tensor or array, got {type(tensor).__name__}")
    if (type(tensor).__module__ or "").startswith("torch") and hasattr(tensor, "detach"):
        tensor = tensor.detach()  # indexing a sample below must not record autograd history
    shape = _shape_of(tensor, argument)
    if not 1 <= len(shape) <= 4:
        raise ValueError(f"{argument} must be a 1-D to 4-D tensor, got shape {list(shape)} (rank {len(shape)})")
    if min(shape) == 0:
        raise ValueError(f"{argument} is empty: shape {list(shape)}")
    layout = resolve_layout(shape, layout, channels_last)
    geo = geometry(shape, layout, channels_last)
    sample: int | None = None
    data = tensor
    if layout == "channels" and len(shape) == 4:
        if not -shape[0] <= batch_index < shape[0]:
            raise ValueError(f"batch_index {batch_index} is out of range for {argument}'s batch of {shape[0]}")
        sample = batch_index % shape[0]
        data = tensor[sample]  # picked where the tensor lives: only one sample crosses to the host
    elif batch_index != 0:
        raise ValueError(
            f"batch_index={batch_index} picks a sample of a 4-D [N, C, H, W] activation in the 'channels' layout; "
            f"{argument} (shape {list(shape)}) is shown in the {layout!r} layout (pass layout='channels')"
        )
    dtype = _dtype_name(tensor)
    array = _host(data, argument)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{argument} must hold real numbers, got dtype {array.dtype}")
    work = _work_dtype(array.dtype)
    image = _image(array, geo, layout, channels_last, work)
    row_block, col_block = block_factor(geo.rows), block_factor(geo.cols)
    reduction = _Reduction(image, geo, row_block, col_block)
    common = dict(
        shape=shape,
        dtype=dtype or array.dtype.name,
        layout=layout,
        channels_last=channels_last and layout in ("kernels", "channels"),
        batch_index=sample,
        geometry=geo,
        row_block=row_block,
        col_block=col_block,
    )
    if row_block == 1 and col_block == 1:
        # a copy: the image may be a view of the caller's (or a CPU tensor's) memory
        return Heatmap(**common, stats=reduction.stats(), values=np.array(image, copy=True, order="C"))
    blocks = reduction.blocks()
    return Heatmap(**common, stats=reduction.stats(), **blocks)


# ---------------------------------------------------------------------------- reduction


def _reduce_blocks(x: np.ndarray, row_block: int, col_block: int, op: Any, dtype: Any = None) -> np.ndarray:
    """``op`` (``np.add``, ``np.fmin``, ...) over each ``row_block × col_block`` block of ``x``
    (whose sides are multiples of the blocks): rows first (contiguous), then columns (strided
    slices when blocks are narrow, a reshape otherwise)."""
    rows, cols = x.shape
    if row_block > 1:
        x = op.reduce(x.reshape(rows // row_block, row_block, cols), axis=1, dtype=dtype)
    elif dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    if col_block == 1:
        return x
    if col_block <= 32:
        out = x[:, 0::col_block].copy()
        for j in range(1, col_block):
            op(out, x[:, j::col_block], out=out)
        return out
    return op.reduce(x.reshape(x.shape[0], cols // col_block, col_block), axis=2)


class _Reduction:
    """Block statistics and global statistics of one image, computed chunk by chunk."""

    def __init__(self, image: np.ndarray, geo: Geometry, row_block: int, col_block: int) -> None:
        self.image = image
        self.geo = geo
        self.row_block, self.col_block = row_block, col_block
        self.block_rows, self.block_cols = stored_shape(geo.rows, geo.cols, row_block, col_block)
        padding = geo.padding()
        self.padding_cells = 0 if padding is None else (padding[1] - padding[0]) * (padding[3] - padding[2])
        # global accumulators (Chan et al.'s pairwise update for the variance)
        self.n = 0
        self.mean_acc = 0.0
        self.m2 = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.nan = self.posinf = self.neginf = self.zeros = 0
        self.counted_nan_padding = 0  # NaN cells counted that were padding

    # -------------------------------------------------------------- global statistics

    def _add(self, x: np.ndarray, finite: np.ndarray | None, extremes: bool = True) -> None:
        """Adds a chunk's cells (``finite``: its mask, ``None`` when every cell is finite);
        ``extremes=False`` leaves min/max to the caller (taken from the block extremes)."""
        if finite is None:
            count, total = x.size, float(x.sum(dtype=np.float64))
            values = x
        else:
            count = int(np.count_nonzero(finite))
            values = x[finite]
            total = float(values.sum(dtype=np.float64))
            nan = np.isnan(x)
            self.nan += int(np.count_nonzero(nan))
            self.posinf += int(np.count_nonzero(x == np.inf))
            self.neginf += int(np.count_nonzero(x == -np.inf))
        self.zeros += int(np.count_nonzero(x == 0))
        if count == 0:
            return
        chunk_mean = total / count
        deviation = np.subtract(values, chunk_mean, dtype=np.float64)
        chunk_m2 = float(np.dot(deviation.reshape(-1), deviation.reshape(-1)))
        if extremes:
            self.lo = min(self.lo, float(values.min()))
            self.hi = max(self.hi, float(values.max()))
        self._merge(count, chunk_mean, chunk_m2)

    def _merge(self, count: int, mean: float, m2: float) -> None:
        """Adds ``count`` finite values of mean ``mean`` and sum of squared deviations ``m2``."""
        n = self.n + count
        delta = mean - self.mean_acc
        self.mean_acc += delta * count / n
        self.m2 += m2 + delta * delta * self.n * count / n
        self.n = n

    def stats(self) -> Stats:
        if not hasattr(self, "_done"):
            self._exact_pass()
        data_cells = self.geo.rows * self.geo.cols - self.padding_cells
        nan = self.nan - self.padding_cells - self.counted_nan_padding
        finite = self.n > 0
        return Stats(
            finite_min=self.lo if finite else math.nan,
            finite_max=self.hi if finite else math.nan,
            mean=self.mean_acc if finite else math.nan,
            std=math.sqrt(self.m2 / self.n) if finite else math.nan,
            count=data_cells,
            nan=nan,
            posinf=self.posinf,
            neginf=self.neginf,
            zeros=self.zeros,
        )

    def _exact_pass(self) -> None:
        """Global statistics only, over row slabs of the image."""
        self._done = True
        rows, cols = self.image.shape
        step = max(1, _CHUNK_CELLS // cols)
        for r0 in range(0, rows, step):
            x = self.image[r0 : r0 + step]
            finite = np.isfinite(x)
            self._add(x, None if finite.all() else finite)

    # -------------------------------------------------------------- blocks

    def _valid_cells(self, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
        """Data cells per block of block rows ``i0:i1``, block columns ``j0:j1`` (int64)."""
        rb, cb = self.row_block, self.col_block
        starts_r = np.arange(i0, i1) * rb
        starts_c = np.arange(j0, j1) * cb

        def overlap(starts: np.ndarray, block: int, lo: int, hi: int) -> np.ndarray:
            return np.clip(np.minimum(starts + block, hi) - np.maximum(starts, lo), 0, None)

        valid = np.outer(overlap(starts_r, rb, 0, self.geo.rows), overlap(starts_c, cb, 0, self.geo.cols))
        padding = self.geo.padding()
        if padding is not None:
            valid -= np.outer(
                overlap(starts_r, rb, padding[0], padding[1]), overlap(starts_c, cb, padding[2], padding[3])
            )
        return valid

    def blocks(self) -> dict[str, np.ndarray]:
        """``mean``/``min``/``max`` (work dtype) and, when any, ``nan``/``posinf``/``neginf``
        (uint32) per block; accumulates the global statistics on the way."""
        self._done = True
        image, rb, cb = self.image, self.row_block, self.col_block
        rows, cols = image.shape
        br, bc = self.block_rows, self.block_cols
        work = image.dtype
        out = {
            "mean": np.empty((br, bc), work),
            "min": np.empty((br, bc), work),
            "max": np.empty((br, bc), work),
            **{name: np.zeros((br, bc), np.uint32) for name in BLOCK_COUNTS},
        }
        chunk_cols = bc if bc * cb * rb <= _CHUNK_CELLS else max(1, _CHUNK_CELLS // (rb * cb))
        chunk_rows = max(1, _CHUNK_CELLS // (rb * cb * chunk_cols))
        for i0 in range(0, br, chunk_rows):
            i1 = min(br, i0 + chunk_rows)
            for j0 in range(0, bc, chunk_cols):
                j1 = min(bc, j0 + chunk_cols)
                x = image[i0 * rb : i1 * rb, j0 * cb : j1 * cb]
                full = ((i1 - i0) * rb, (j1 - j0) * cb)
                edge = x.shape != full
                if edge:  # the image's last blocks: pad with NaN, taken off the NaN counts below
                    padded = np.full(full, np.nan, work)
                    padded[: x.shape[0], : x.shape[1]] = x
                    self.counted_nan_padding += padded.size - x.size
                    x = padded
                self._block_chunk(x, out, (slice(i0, i1), slice(j0, j1)), edge)
        if self.n:
            self.lo = float(np.fmin.reduce(out["min"], axis=None))
            self.hi = float(np.fmax.reduce(out["max"], axis=None))
        for name in BLOCK_COUNTS:
            if not out[name].any():
                del out[name]
        return out

    def _block_chunk(self, x: np.ndarray, out: dict[str, np.ndarray], where: tuple[slice, slice], edge: bool) -> None:
        """One chunk of whole blocks (padding cells NaN): its block statistics into ``out`` at
        ``where``, its cells into the global statistics."""
        rb, cb = self.row_block, self.col_block
        finite = np.isfinite(x)
        bad = None if finite.all() else np.flatnonzero(~finite)
        if bad is None or bad.size * _SPARSE_FROM <= x.size:
            self._sparse_chunk(x, bad, out, where)
            return
        self._add(x, finite, extremes=False)
        counts = _reduce_blocks(finite, rb, cb, np.add, np.int64)
        masked = np.where(finite, x, np.nan)
        sums = _reduce_blocks(np.where(finite, x, 0), rb, cb, np.add, np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["mean"][where] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        out["min"][where] = _reduce_blocks(masked, rb, cb, np.fmin)
        out["max"][where] = _reduce_blocks(masked, rb, cb, np.fmax)
        nan = _reduce_blocks(np.isnan(x), rb, cb, np.add, np.int64)
        nan -= rb * cb - self._valid_cells(where[0].start, where[0].stop, where[1].start, where[1].stop)
        out["nan"][where] = nan
        out["posinf"][where] = _reduce_blocks(x == np.inf, rb, cb, np.add, np.int64)
        out["neginf"][where] = _reduce_blocks(x == -np.inf, rb, cb, np.add, np.int64)

    def _sparse_chunk(
        self, x: np.ndarray, bad: np.ndarray | None, out: dict[str, np.ndarray], where: tuple[slice, slice]
    ) -> None:
        """``_block_chunk`` when at most 1 / ``_SPARSE_FROM`` of the cells are not finite
        (``bad``: their flat indices, ``None`` for none): those are counted per block from their
        indices, and overwritten in one copy of the chunk for the sums and the extremes."""
        rb, cb = self.row_block, self.col_block
        rows, cols = x.shape
        shape = (rows // rb, cols // cb)
        if bad is None:
            y = x
            finite_counts: Any = rb * cb
        else:
            values = x.reshape(-1)[bad]
            block = (bad // cols // rb) * shape[1] + (bad % cols) // cb
            per_block = {
                "nan": np.isnan(values),
                "posinf": values == np.inf,
                "neginf": values == -np.inf,
            }
            size = shape[0] * shape[1]
            for name, mask in per_block.items():
                if mask.any():
                    out[name][where] = np.bincount(block[mask], minlength=size).reshape(shape)
                self._count(name, int(np.count_nonzero(mask)))
            if per_block["nan"].any():  # padding cells are NaN: they are not the tensor's
                out["nan"][where] -= (
                    rb * cb - self._valid_cells(where[0].start, where[0].stop, where[1].start, where[1].stop)
                ).astype(np.uint32)
            finite_counts = rb * cb - np.bincount(block, minlength=size).reshape(shape)
            y = np.array(x, order="C")
            y.reshape(-1)[bad] = 0
        sums = _reduce_blocks(y, rb, cb, np.add, np.float64)
        count = x.size - (0 if bad is None else bad.size)
        total = float(sums.sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            out["mean"][where] = (
                sums / finite_counts
                if bad is None
                else np.where(finite_counts > 0, sums / np.maximum(finite_counts, 1), np.nan)
            )
        self.zeros += int(np.count_nonzero(x == 0))
        if count:
            mean = total / count
            if bad is not None:
                y.reshape(-1)[bad] = mean  # no deviation
            deviation = np.subtract(y, mean, dtype=np.float64).reshape(-1)
            self._merge(count, mean, float(np.dot(deviation, deviation)))
        if bad is not None:
            y.reshape(-1)[bad] = np.nan
            out["min"][where] = _reduce_blocks(y, rb, cb, np.fmin)
            out["max"][where] = _reduce_blocks(y, rb, cb, np.fmax)
        else:
            out["min"][where] = _reduce_blocks(y, rb, cb, np.minimum)
            out["max"][where] = _reduce_blocks(y, rb, cb, np.maximum)

    def _count(self, name: str, count: int) -> None:
        setattr(self, name, getattr(self, name) + count)


#: A chunk whose non-finite cells are at most 1 / this of its cells takes the sparse path.
_SPARSE_FROM = 16


# ---------------------------------------------------------------------------- encode


def _header(data: Heatmap) -> Any:
    geo = data.geometry
    s = data.stats
    return _proto.HeatmapStep(
        shape=list(data.shape),
        dtype=data.dtype,
        layout=data.layout,
        rows=geo.rows,
        cols=geo.cols,
        row_block=data.row_block,
        col_block=data.col_block,
        tile=list(geo.tile or ()),
        grid=list(geo.grid or ()),
        arrays=[
            _packing.pack_array("stats", np.array([s.finite_min, s.finite_max, s.mean, s.std], "<f8")),
            _packing.pack_array("counts", np.array([s.count, s.nan, s.posinf, s.neginf, s.zeros], "<i8")),
        ],
        channels_last=data.channels_last,
        batch_index=data.batch_index or 0,
        channels=geo.channels or 0,
    )


#: Arrays above this many bytes are compressed only when a sample of them shrinks by at least
#: ``_LARGE_SAVING``: zlib costs ~35 ms per MB, and float32 weights and their block means save
#: ~7%, block extremes ~12% (measured) — not worth ~0.3 s of a training step at 4096².
_SAMPLE_FROM_BYTES = 1 << 18
_SAMPLE_BYTES = 1 << 15
_LARGE_SAVING = 0.2


def _pack(name: str, values: np.ndarray) -> Any:
    """``_packing.pack_array`` (zlib when it saves ≥ 10%), except that a large array is left
    uncompressed unless a sample of it (four slices spread over it) saves ``_LARGE_SAVING``."""
    array = np.ascontiguousarray(values)
    raw = array.view(np.uint8).reshape(-1)
    if raw.size >= _SAMPLE_FROM_BYTES:
        starts = np.linspace(0, raw.size - _SAMPLE_BYTES, 4).astype(np.int64)
        sample = b"".join(raw[start : start + _SAMPLE_BYTES].tobytes() for start in starts)
        if len(zlib.compress(sample, 1)) > (1 - _LARGE_SAVING) * len(sample):
            return _proto.Array(
                name=name,
                dtype=array.dtype.str,
                shape=list(array.shape),
                data=raw.tobytes(),
                compression=_proto.COMPRESSION.values_by_name["NONE"].number,
            )
    return _packing.pack_array(name, array)


def encode(tag: str, data: Heatmap) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` of one step: the header blob, then the body blob."""
    if data.reduced:
        names = ["mean", "min", "max", *BLOCK_COUNTS]
    else:
        names = ["values"]
    arrays = [_pack(name, getattr(data, name)) for name in names if getattr(data, name) is not None]
    blobs = [_header(data).SerializeToString(), _proto.Arrays(arrays=arrays).SerializeToString()]
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_metadata.summary_metadata(KIND, VERSION, DATA_CLASS),
        tensor=_packing.blob_sequence_tensor(blobs),
    )


# ---------------------------------------------------------------------------- decode


@dataclass(frozen=True)
class HeatmapHeader:
    """What the first blob of a step says, checked: the tensor, its layout, the image and its
    blocking, and the global statistics."""

    shape: tuple[int, ...]
    dtype: str
    layout: str
    channels_last: bool
    batch_index: int | None
    geometry: Geometry
    row_block: int
    col_block: int
    stats: Stats

    @property
    def reduced(self) -> bool:
        return self.row_block > 1 or self.col_block > 1

    @property
    def stored(self) -> tuple[int, int]:
        return stored_shape(self.geometry.rows, self.geometry.cols, self.row_block, self.col_block)


#: The largest image a reader accepts (a record claiming more is not ours).
_MAX_READABLE_CELLS = 2**40


def decode(value: Any) -> HeatmapHeader:
    """The header of a step, from what a data provider returns (its blobs as a bytes array; only
    the first is read). Raises ``UnreadableRecord`` for anything malformed."""
    try:
        message = _proto.HeatmapStep.FromString(_packing.header_blob(value, "heatmap"))
    except UnreadableRecord:
        raise
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"malformed heatmap header: {error}") from None
    shape = tuple(int(d) for d in message.shape)
    if not 1 <= len(shape) <= 4 or min(shape) < 1 or math.prod(shape) > _MAX_READABLE_CELLS:
        raise UnreadableRecord(f"heatmap shape {list(shape)} is out of range")
    if message.layout not in LAYOUTS:
        raise UnreadableRecord(f"unknown heatmap layout {message.layout!r}")
    try:
        geo = geometry(shape, message.layout, message.channels_last)
    except ValueError as reason:
        raise UnreadableRecord(f"heatmap layout does not fit its shape: {reason}") from None
    if (
        (message.rows, message.cols) != (geo.rows, geo.cols)
        or tuple(message.tile) != (geo.tile or ())
        or tuple(message.grid) != (geo.grid or ())
        or message.channels != (geo.channels or 0)
    ):
        raise UnreadableRecord("heatmap image size does not match its shape and layout")
    if (message.row_block, message.col_block) != (block_factor(geo.rows), block_factor(geo.cols)):
        raise UnreadableRecord("heatmap block sizes do not match the image size")
    channel_batch = message.layout == "channels" and len(shape) == 4
    if not 0 <= message.batch_index < (shape[0] if channel_batch else 1):
        raise UnreadableRecord(f"heatmap batch_index {message.batch_index} does not match its shape")
    arrays = _packing.unpack_arrays(message.arrays, "heatmap header")
    _packing.require_arrays(arrays, "heatmap header", {"stats": (4,), "counts": (5,)})
    if arrays["stats"].dtype != np.dtype("<f8") or arrays["counts"].dtype != np.dtype("<i8"):
        raise UnreadableRecord("heatmap statistics have the wrong element types")
    stats, counts = arrays["stats"].tolist(), arrays["counts"].tolist()
    if min(counts) < 0:
        raise UnreadableRecord("heatmap counts are negative")
    return HeatmapHeader(
        shape=shape,
        dtype=message.dtype,
        layout=message.layout,
        channels_last=message.channels_last,
        batch_index=message.batch_index if channel_batch else None,
        geometry=geo,
        row_block=message.row_block,
        col_block=message.col_block,
        stats=Stats(*stats, *counts),
    )


@dataclass(frozen=True)
class HeatmapBody:
    """A step's cells as stored (see ``Heatmap``); counts are all-zero arrays when absent."""

    values: np.ndarray | None
    mean: np.ndarray | None
    min: np.ndarray | None
    max: np.ndarray | None
    nan: np.ndarray | None
    posinf: np.ndarray | None
    neginf: np.ndarray | None


_FLOATS = frozenset({"<f4", "<f8"})


def read_body(header: HeatmapHeader, blob: bytes) -> HeatmapBody:
    """The body blob of a step, checked against its header (every claimed size before any
    decompression); raises ``UnreadableRecord``."""
    try:
        message = _proto.Arrays.FromString(blob)
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"malformed heatmap body: {error}") from None
    stored = header.stored
    expected = {"mean": _FLOATS, "min": _FLOATS, "max": _FLOATS, **dict.fromkeys(BLOCK_COUNTS, {"<u4"})}
    if not header.reduced:
        expected = {"values": _FLOATS}
    for item in message.arrays:
        if item.name not in expected or item.dtype not in expected[item.name] or tuple(item.shape) != stored:
            raise UnreadableRecord(
                f"heatmap body array {item.name!r} ({item.dtype} {list(item.shape)}) is not expected"
            )
    arrays = _packing.unpack_arrays(message.arrays, "heatmap body")
    required = ("mean", "min", "max") if header.reduced else ("values",)
    _packing.require_arrays(arrays, "heatmap body", dict.fromkeys(required, stored))
    if len({arrays[name].dtype for name in required}) != 1:
        raise UnreadableRecord("heatmap body arrays have different element types")
    if header.reduced:
        zeros = np.zeros(stored, np.uint32)
        counts = {name: arrays.get(name, zeros) for name in BLOCK_COUNTS}
        return HeatmapBody(None, arrays["mean"], arrays["min"], arrays["max"], **counts)
    return HeatmapBody(arrays["values"], None, None, None, None, None, None)


def read_step(blobs: Sequence[bytes]) -> tuple[HeatmapHeader, HeatmapBody]:
    """A whole step from its blobs (``Summary.Value.tensor.string_val``)."""
    header = decode(list(blobs))
    if len(blobs) != 2:
        raise UnreadableRecord(f"a heatmap step has {len(blobs)} blobs, not 2")
    return header, read_body(header, blobs[BODY_BLOB])
