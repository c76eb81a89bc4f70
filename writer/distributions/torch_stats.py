"""Statistics of many torch tensors, reduced with torch ops where the tensors live.

Same definition as the numpy path (``modellens.distributions.stats``; both end in
``stats.finish``). Two implementations behind ``tensor_stats``:

- **CPU** (the measured routine of the distributions study, §A7): per tensor, back to back so
  the data stays in cache, with reused scratch buffers. A finite ``sum`` proves there is no
  NaN/Inf (the fast path); otherwise an exact float64 path counts NaN, +Inf and -Inf and
  describes the finite values. Sums of squares use float32 ``dot`` over blocks of ``DOT_BLOCK``
  elements accumulated in float64 (≈1e-8 relative); the variance takes an exact centred pass
  when the mean dominates it. The 256 fine bins come from ``f32 → i16 → u8`` then ``bincount``.
  Tensors of at most ``SMALL`` elements are stacked by size and reduced as rows.
- **Other devices** (CUDA…): tensors packed into flat buckets of ≤ ``BUCKET`` elements with a
  per-element tensor index, reduced branch-free (exact for NaN/Inf) with ``index_add_`` /
  ``scatter_reduce_`` into per-tensor accumulators; no host synchronisation until the one
  transfer of all results at the end (per device).

Memory: at most ``CHUNK_BYTES``-sized pieces of a tensor are converted or scanned at once, so
extra memory stays under 64 MB whatever the model size. torch is imported by this module only.
"""

from __future__ import annotations

import math
import threading
from typing import Iterator, Sequence

import numpy as np
import torch

from modellens.distributions import stats as _stats
from modellens.distributions.stats import COUNT_FIELDS, FINE_BINS, Stats

SMALL = 4096  # tensors up to this many elements are reduced as rows of a stacked matrix
GROUP_ELEMENTS = 1 << 20  # at most this many elements stacked at once
CHUNK_BYTES = 1 << 24  # 16 MB: a piece of a tensor converted / scanned at once (4 M float32)
DOT_BLOCK = 1 << 18  # float32 dot error grows with length: blocks keep Σx² within ~2e-7
SLOW_CHUNK = 1 << 19  # the exact (NaN/Inf) path works in float64 pieces of this size
BUCKET = 1 << 20  # elements per flat bucket on non-CPU devices
SHRINK = 1.0 - 2.0**-20  # the max maps to 255.99…, so the uint8 bin index never overflows
_CENTRED = 30.0  # centred pass when mean² > 30 · variance (stats.needs_centred_pass)
# Below these magnitudes squares of the work dtype underflow: take the float64 exact path.
_TINY = {torch.float32: 1e-10, torch.float64: 1e-140}
# 256/range must stay a normal number of the work dtype.
_MAX_SCALE = {torch.float32: 1e36, torch.float64: 1e300}

__all__ = ["tensor_stats", "CHUNK_BYTES", "SMALL", "BUCKET"]


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for ≤ 32-bit floats and small integers (exact); float64 for the rest."""
    if dtype in (torch.float16, torch.bfloat16, torch.float32, torch.int8, torch.uint8, torch.int16, torch.bool):
        return torch.float32
    if dtype.is_complex:
        raise TypeError(f"tensors: complex dtype {dtype} is not supported; give real tensors")
    if dtype.is_floating_point and dtype.itemsize <= 1:  # float8 variants
        return torch.float32
    return torch.float64


def _pieces(t: torch.Tensor, limit: int) -> Iterator[torch.Tensor]:
    """Views of ``t`` of at most ``limit`` elements covering every element exactly once,
    without copying (non-contiguous tensors are cut along their leading dimensions)."""
    n = t.numel()
    if n <= limit:
        yield t
    elif t.is_contiguous():
        yield from t.view(-1).split(limit)
    elif t.dim() == 1:
        for start in range(0, n, limit):
            yield t[start : start + limit]
    else:
        per_row = n // t.shape[0]
        if per_row <= limit:
            rows = limit // per_row
            for start in range(0, t.shape[0], rows):
                yield t[start : start + rows]
        else:
            for row in t:
                yield from _pieces(row, limit)


class _Scratch:
    """Reused flat buffers (fresh large allocations page-fault), one set per thread."""

    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}

    def get(self, name: str, dtype: torch.dtype, n: int) -> torch.Tensor:
        nbytes = n * dtype.itemsize
        buffer = self._buffers.get(name)
        if buffer is None or buffer.numel() < nbytes:
            buffer = torch.empty(max(nbytes, 1 << 16), dtype=torch.uint8)
            self._buffers[name] = buffer
        return buffer[:nbytes].view(dtype)

    def flat(self, piece: torch.Tensor, work: torch.dtype) -> torch.Tensor:
        """``piece`` as a contiguous 1-D tensor of ``work`` dtype (a view when it already is)."""
        if piece.dtype == work and piece.is_contiguous():
            return piece.reshape(-1)
        out = self.get("convert", work, piece.numel())
        out.view(piece.shape).copy_(piece)
        return out


_local = threading.local()


def _scratch() -> _Scratch:
    scratch = getattr(_local, "scratch", None)
    if scratch is None:
        scratch = _local.scratch = _Scratch()
    return scratch


class _Rows:
    """Per-tensor sums that ``stats.finish`` turns into ``Stats``."""

    def __init__(self, count: int) -> None:
        self.counts = np.zeros((count, len(COUNT_FIELDS)), dtype=np.int64)
        self.total = np.zeros(count)
        self.squares = np.zeros(count)
        self.low = np.full(count, np.nan)
        self.high = np.full(count, np.nan)
        self.centred = np.full(count, np.nan)
        self.fine = np.zeros((count, FINE_BINS), dtype=np.int64)

    def finish(self) -> Stats:
        return _stats.finish(self.counts, self.total, self.squares, self.low, self.high, self.fine, self.centred)


def tensor_stats(tensors: Sequence[torch.Tensor]) -> Stats:
    """``Stats`` of ``tensors`` (any device; floating or integer dtypes; any strides).

    Row t describes ``tensors[t]``. CPU tensors take the fast per-tensor path; tensors on
    other devices are reduced there in flat buckets and cross to the host once per device.
    """
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensors[{i}] must be a torch.Tensor, got {type(t).__name__}")
        _work_dtype(t.dtype)
    rows = _Rows(len(tensors))
    with torch.no_grad():
        by_device: dict[torch.device, list[int]] = {}
        for i, t in enumerate(tensors):
            by_device.setdefault(t.device, []).append(i)
        for device, index in by_device.items():
            chosen = [tensors[i].detach() for i in index]
            if device.type == "cpu":
                _cpu_stats(chosen, index, rows)
            else:
                _bucket_stats(chosen, index, rows)
    return rows.finish()


# ---------------------------------------------------------------------------- CPU path


def _cpu_stats(tensors: list[torch.Tensor], index: list[int], rows: _Rows) -> None:
    scratch = _scratch()
    groups: dict[tuple[int, torch.dtype], list[int]] = {}
    slow: list[int] = []
    for t, row in zip(tensors, index):
        rows.counts[row, 0] = n = t.numel()
        if n == 0:
            continue
        work = _work_dtype(t.dtype)
        if n <= SMALL:
            groups.setdefault((n, work), []).append(row)
        elif not _big(t, work, row, rows, scratch):
            slow.append(row)
    by_row = dict(zip(index, tensors))
    for (n, _work), members in groups.items():
        per_batch = max(1, GROUP_ELEMENTS // n)
        for start in range(0, len(members), per_batch):
            batch = members[start : start + per_batch]
            slow += _small([by_row[r] for r in batch], batch, rows)
    for row in slow:
        _exact(by_row[row], row, rows)


def _blocked_dot(x: torch.Tensor) -> float:
    return sum(float(torch.dot(b, b)) for b in x.split(DOT_BLOCK))


def _big(t: torch.Tensor, work: torch.dtype, row: int, rows: _Rows, scratch: _Scratch) -> bool:
    """Fast path for one tensor; False when it needs the exact path (NaN/Inf, overflow…)."""
    chunk = CHUNK_BYTES // work.itemsize
    pieces = list(_pieces(t, chunk))
    single = scratch.flat(pieces[0], work) if len(pieces) == 1 else None
    flats = (lambda: [single]) if single is not None else (lambda: (scratch.flat(p, work) for p in pieces))
    s, lo, hi, sq, nonzero = 0.0, math.inf, -math.inf, 0.0, 0.0
    for c in flats():
        part = float(c.sum())
        if not math.isfinite(part):
            return False  # NaN/Inf inside (or a float overflow): exact path
        s += part
        a, b = torch.aminmax(c)
        lo, hi = min(lo, float(a)), max(hi, float(b))
        sq += _blocked_dot(c)
        f = scratch.get("f", work, c.numel())
        torch.sign(c, out=f)
        nonzero += float(torch.dot(f, f))
    if not math.isfinite(sq):
        return False  # squares overflow the work dtype
    biggest = max(-lo, hi)
    if 0 < biggest < _TINY[work]:
        return False  # squares underflow: float64 exact path
    n = t.numel()
    mean = s / n
    if mean * mean > _CENTRED * max(sq / n - mean * mean, 0.0):
        m = float(torch.tensor(mean, dtype=work))  # the mean as subtracted
        centred = offset_sum = 0.0
        for c in flats():
            d = torch.sub(c, m, out=scratch.get("f", work, c.numel()))
            offset_sum += float(d.sum())
            centred += _blocked_dot(d)
        # Σ(x − mean)² = Σ(x − m)² − (Σ(x − m))² / n, and the mean itself refined the same way
        rows.centred[row] = max(centred - offset_sum * offset_sum / n, 0.0)
        s = n * m + offset_sum
    fine = torch.zeros(FINE_BINS, dtype=torch.int64)
    if hi > lo:
        scale = FINE_BINS / (hi - lo) * SHRINK
        if not scale < _MAX_SCALE[work]:
            return False
        offset = -lo * scale
        shifted = abs(offset) < 1024  # near 0: one affine op; far from 0: subtract first
        offset_t = torch.tensor(offset, dtype=work)
        for c in flats():
            k = c.numel()
            f = scratch.get("f", work, k)
            if shifted:
                torch.add(offset_t, c, alpha=scale, out=f)
            else:
                torch.sub(c, lo, out=f).mul_(scale)
            i16 = scratch.get("i16", torch.int16, k)
            u8 = scratch.get("u8", torch.uint8, k)
            i16.copy_(f)
            u8.copy_(i16)
            fine += torch.bincount(u8, minlength=FINE_BINS)
    else:
        fine[0] = n
    rows.counts[row, 1] = n - int(nonzero)
    rows.total[row], rows.squares[row], rows.low[row], rows.high[row] = s, sq, lo, hi
    rows.fine[row] = fine.numpy()
    return True


def _small(tensors: list[torch.Tensor], batch: list[int], rows: _Rows) -> list[int]:
    """Equal-size small tensors as rows of one float64 matrix; returns the rows needing the
    exact path."""
    x = torch.stack([t.reshape(-1).to(torch.float64) for t in tensors])
    k, n = x.shape
    total = x.sum(1)
    squares = torch.mul(x, x).sum(1)
    lo, hi = x.aminmax(dim=1)
    biggest = torch.maximum(-lo, hi)
    ok = torch.isfinite(total) & torch.isfinite(squares) & ~((biggest > 0) & (biggest < _TINY[torch.float64]))
    ok_list = ok.tolist()
    slow = [r for r, good in zip(batch, ok_list) if not good]
    if not all(ok_list):
        keep = [i for i, good in enumerate(ok_list) if good]
        if not keep:
            return slow
        sel = torch.tensor(keep)
        x, total, squares, lo, hi = x[sel], total[sel], squares[sel], lo[sel], hi[sel]
        batch = [batch[i] for i in keep]
        k = len(keep)
    mean = total / n
    d = x - mean[:, None]
    centred = torch.mul(d, d).sum(1)
    span = hi - lo
    unit = (x - lo[:, None]) / torch.where(span > 0, span, 1.0)[:, None]
    bins = (unit * FINE_BINS).to(torch.int64).clamp_(0, FINE_BINS - 1)
    bins += (torch.arange(k, dtype=torch.int64) * FINE_BINS)[:, None]
    fine = torch.bincount(bins.view(-1), minlength=k * FINE_BINS).view(k, FINE_BINS)
    zeros = (x == 0).sum(1)
    r = np.asarray(batch)
    rows.counts[r, 1] = zeros.numpy()
    rows.total[r], rows.squares[r], rows.centred[r] = total.numpy(), squares.numpy(), centred.numpy()
    rows.low[r], rows.high[r] = lo.numpy(), hi.numpy()
    rows.fine[r] = fine.numpy()
    return slow


def _exact(t: torch.Tensor, row: int, rows: _Rows) -> None:
    """Exact float64 path: counts NaN/±Inf and describes the finite values (two sweeps)."""
    nan = pinf = ninf = zeros = finite = 0
    s, lo, hi = 0.0, math.inf, -math.inf

    def finite_pieces() -> Iterator[torch.Tensor]:
        for p in _pieces(t, SLOW_CHUNK):
            x = p.reshape(-1).to(torch.float64)
            yield x if math.isfinite(float(x.sum())) else x[torch.isfinite(x)]

    for p in _pieces(t, SLOW_CHUNK):
        x = p.reshape(-1).to(torch.float64)
        nan += int(torch.isnan(x).sum())
        pinf += int((x == math.inf).sum())
        ninf += int((x == -math.inf).sum())
    for x in finite_pieces():
        if x.numel():
            finite += x.numel()
            s += float(x.sum())
            a, b = torch.aminmax(x)
            lo, hi = min(lo, float(a)), max(hi, float(b))
            zeros += int((x == 0).sum())
    rows.counts[row, 1:] = zeros, nan, pinf, ninf
    if finite == 0:
        return
    mean = s / finite
    if not math.isfinite(mean):  # float64 overflow of the sum (|x| near float64's max)
        mean = sum(float((x / finite).sum()) for x in finite_pieces())
    sq = centred = 0.0
    fine = torch.zeros(FINE_BINS, dtype=torch.int64)
    span = hi - lo
    for x in finite_pieces():
        sq += float(torch.dot(x, x))
        d = x - mean
        centred += float(torch.dot(d, d))
        if span > 0:
            unit = (x - lo) / span if math.isfinite(span) else (x / 2 - lo / 2) / (hi / 2 - lo / 2)
            bins = (unit * FINE_BINS).to(torch.int64).clamp_(0, FINE_BINS - 1)
            fine += torch.bincount(bins, minlength=FINE_BINS)
    if span <= 0:
        fine[0] = finite
    rows.total[row], rows.squares[row], rows.centred[row] = mean * finite, sq, centred
    rows.low[row], rows.high[row] = lo, hi
    rows.fine[row] = fine.numpy()


# ---------------------------------------------------------------------------- other devices


def _to_device(values: list[int], device: torch.device) -> torch.Tensor:
    """A small int64 host list on ``device`` without a synchronising copy."""
    host = torch.tensor(values, dtype=torch.int64)
    if device.type == "cuda":
        host = host.pin_memory()
    return host.to(device, non_blocking=True)


def _buckets(tensors: list[torch.Tensor]) -> list[list[tuple[int, torch.Tensor]]]:
    """(tensor position, piece) lists of at most ``BUCKET`` elements each."""
    buckets: list[list[tuple[int, torch.Tensor]]] = []
    current: list[tuple[int, torch.Tensor]] = []
    size = 0
    for j, t in enumerate(tensors):
        for piece in _pieces(t, BUCKET):
            if size + piece.numel() > BUCKET and current:
                buckets.append(current)
                current, size = [], 0
            current.append((j, piece))
            size += piece.numel()
    if current:
        buckets.append(current)
    return buckets


def _bucket_stats(tensors: list[torch.Tensor], index: list[int], rows: _Rows) -> None:
    """Branch-free exact statistics on the tensors' own device, one host transfer at the end."""
    device = tensors[0].device
    count = len(tensors)
    f64 = dict(dtype=torch.float64, device=device)
    cats = torch.zeros(count * 5, dtype=torch.int64, device=device)  # finite≠0, zero, nan, +inf, -inf
    total = torch.zeros(count, **f64)
    low = torch.full((count,), math.inf, **f64)
    high = torch.full((count,), -math.inf, **f64)
    squares = torch.zeros(count, **f64)
    centred = torch.zeros(count, **f64)
    fine = torch.zeros(count * FINE_BINS + 1, dtype=torch.int64, device=device)  # last: dump bin
    buckets = [
        (
            bucket,
            _to_device([j for j, _ in bucket], device),
            _to_device([p.numel() for _, p in bucket], device),
            sum(p.numel() for _, p in bucket),
        )
        for bucket in _buckets(tensors)
        if any(p.numel() for _, p in bucket)
    ]
    kept: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def load(bucket, ids, lengths, m):
        nonlocal kept
        if kept is not None:
            return kept
        x = torch.cat([p.reshape(-1) for _, p in bucket]).to(torch.float64)
        seg = torch.repeat_interleave(ids, lengths, output_size=m)
        fin = torch.isfinite(x)
        if len(buckets) == 1:
            kept = (x, seg, fin)
        return x, seg, fin

    for bucket, ids, lengths, m in buckets:
        x, seg, fin = load(bucket, ids, lengths, m)
        category = torch.where(
            fin,
            (x == 0).to(torch.int64),
            torch.where(torch.isnan(x), 2, torch.where(x > 0, 3, 4)),
        )
        cats.index_add_(0, seg * 5 + category, torch.ones((), dtype=torch.int64, device=device).expand(m))
        total.index_add_(0, seg, torch.where(fin, x, 0.0))
        low.scatter_reduce_(0, seg, torch.where(fin, x, math.inf), "amin")
        high.scatter_reduce_(0, seg, torch.where(fin, x, -math.inf), "amax")
    counts5 = cats.view(count, 5)
    finite = (counts5[:, 0] + counts5[:, 1]).to(torch.float64)
    mean = total / finite.clamp(min=1)
    span = high - low
    unit_span = torch.where(span > 0, span, 1.0)
    for bucket, ids, lengths, m in buckets:
        x, seg, fin = load(bucket, ids, lengths, m)
        xf = torch.where(fin, x, 0.0)
        squares.index_add_(0, seg, xf * xf)
        d = torch.where(fin, x - mean[seg], 0.0)
        centred.index_add_(0, seg, d * d)
        unit = (xf - low[seg]) / unit_span[seg]
        bins = (unit * FINE_BINS).nan_to_num_(0.0).to(torch.int64).clamp_(0, FINE_BINS - 1) + seg * FINE_BINS
        bins = torch.where(fin, bins, count * FINE_BINS)
        fine.index_add_(0, bins, torch.ones((), dtype=torch.int64, device=device).expand(m))
    packed = (
        torch.cat(
            [
                counts5.to(torch.float64),
                torch.stack([total, squares, low, high, centred], 1),
                fine[:-1].view(count, -1).double(),
            ],
            1,
        )
        .cpu()
        .numpy()
    )  # the one synchronisation
    r = np.asarray(index)
    finite_counts = packed[:, 0] + packed[:, 1]
    rows.counts[r, 1:] = packed[:, 1:5].astype(np.int64)
    has = finite_counts > 0
    rows.total[r] = packed[:, 5]
    rows.squares[r] = packed[:, 6]
    rows.low[r] = np.where(has, packed[:, 7], np.nan)
    rows.high[r] = np.where(has, packed[:, 8], np.nan)
    rows.centred[r] = packed[:, 9]
    rows.fine[r] = packed[:, 10:].astype(np.int64)
    for t, row in zip(tensors, index):
        rows.counts[row, 0] = t.numel()
