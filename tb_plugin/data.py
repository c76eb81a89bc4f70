"""Reads the records of one kind through TensorBoard's data provider, for every kind.

Works the same under the Rust data server and the Python loader: ``context.data_provider`` is
all it needs. A ``Source`` says what to read: a ModelLens kind (plugin ``modellens``, its kind
number, up to its version) or another plugin's records (TensorBoard's ``histograms``). Records
of other kinds, newer versions or broken content are skipped with one logged warning; steps come
back sorted, last write wins. Every step is decoded behind the same guard, so one malformed record
never hides the healthy steps around it.

Tensor series (``DATA_CLASS_TENSOR``) are read whole; blob sequences
(``DATA_CLASS_BLOB_SEQUENCE``, for large steps read one at a time) list their blob references and
read a step's blobs through ``read_blob`` only when that step is decoded.

A series is read once per change: raw records are cached per (experiment, run, tag), keyed by
what ``list_tensors`` reports (max step, max wall time), in a byte-bounded LRU; per-step
summaries are cached the same way, so the step slider and the 30 s poll neither re-read nor
re-decode an unchanged series.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Hashable, Iterator

import numpy as np
from tensorboard import errors
from tensorboard.compat.proto import summary_pb2
from tensorboard.data import provider
from tensorboard.util import tensor_util

from modellens import _metadata

_logger = logging.getLogger(__name__)
_ALL = 10**9  # "read every step": downsample=0 returns nothing
#: One read of a series stays under this many bytes (the Rust data server answers at most 256 MiB
#: per ReadTensors): a series whose steps would not fit is read as an even sample of its steps,
#: the last one included, and says so (``KindReader.downsampled``).
READ_BUDGET_BYTES = 96 * 2**20
_UNSIZED_LIMIT = 1000  # steps read when the latest one cannot be sized
RAW_CACHE_BYTES = 256 * 2**20
SUMMARY_CACHE_ENTRIES = 256


@dataclass(frozen=True)
class Step:
    step: int
    wall_time: float
    value: Any


@dataclass(frozen=True)
class Source:
    """What a reader reads: records of ``plugin_name`` accepted by ``accepts`` (raises
    ``UnreadableRecord`` for a series to skip), decoded per step by ``decode``."""

    plugin_name: str
    accepts: Callable[[bytes], bool]
    decode: Callable[[Any], Any]
    data_class: int = summary_pb2.DATA_CLASS_TENSOR
    #: Blob sequences: how many leading blobs ``decode`` reads (the rest are read one at a time
    #: through ``KindReader.blob``); ``None`` for all.
    header_blobs: int | None = None

    @classmethod
    def kind(cls, module: ModuleType) -> Source:
        """A ModelLens kind module (``KIND``, ``VERSION``, ``DATA_CLASS``, ``decode``)."""
        number = _metadata.kind_number(module.KIND)

        def accepts(content: bytes) -> bool:
            data = _metadata.parse_plugin_data(content)
            if data.kind != number:
                return False
            _metadata.check_version(data, module.VERSION)
            return True

        return cls(
            _metadata.PLUGIN_NAME, accepts, module.decode, module.DATA_CLASS, getattr(module, "HEADER_BLOBS", None)
        )


class LRU:
    """A thread-safe LRU of ``key → (version, value, size)``, bounded by total size."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Hashable, tuple[Hashable, Any, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, version: Hashable, value: Any, size: int = 1) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[2]
            if size > self._capacity:
                return
            self._items[key] = (version, value, size)
            self._size += size
            while self._size > self._capacity:
                _, (_, _, dropped) = self._items.popitem(last=False)
                self._size -= dropped


def _raw_size(value: Any) -> int:
    if isinstance(value, np.ndarray) and value.dtype == object:
        return sum(len(v) if isinstance(v, bytes) else 64 for v in value.reshape(-1)) + 64
    return int(getattr(value, "nbytes", 64)) + 64


class KindReader:
    """Lists and reads the tensor series of one ``Source``."""

    def __init__(self, data_provider: provider.DataProvider, source: Source) -> None:
        self._provider = data_provider
        self._source = source
        self._warned: set[Hashable] = set()  # series already warned about (tags are polled)
        self._raw_cache = LRU(RAW_CACHE_BYTES)
        self._summary_cache = LRU(SUMMARY_CACHE_ENTRIES)
        self._header_cache = LRU(SUMMARY_CACHE_ENTRIES)  # decoded headers of header-blob sources

    @property
    def source(self) -> Source:
        return self._source

    def _warn_once(self, key: Hashable, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _logger.warning(message, *args)

    def _is_ours(self, run: str, tag: str, content: bytes) -> bool:
        try:
            return self._source.accepts(content)
        except _metadata.NewerVersion:
            return False
        except _metadata.UnreadableRecord as reason:
            self._warn_once(("series", run, tag), "Skipping the ModelLens series %s/%s: %s", run, tag, reason)
            return False

    @property
    def _blobs(self) -> bool:
        return self._source.data_class == summary_pb2.DATA_CLASS_BLOB_SEQUENCE

    def _listing(self, ctx, experiment_id: str, run_tag_filter=None) -> dict[str, dict[str, Any]]:
        lister = self._provider.list_blob_sequences if self._blobs else self._provider.list_tensors
        listing = lister(
            ctx,
            experiment_id=experiment_id,
            plugin_name=self._source.plugin_name,
            run_tag_filter=run_tag_filter,
        )
        result: dict[str, dict[str, Any]] = {}
        for run, tags in listing.items():
            ours = {tag: series for tag, series in tags.items() if self._is_ours(run, tag, series.plugin_content)}
            if ours:
                result[run] = ours
        return result

    def tags(self, ctx, experiment_id: str) -> dict[str, list[str]]:
        """``{run: [tag, ...]}`` of this source, sorted."""
        return {run: sorted(tags) for run, tags in sorted(self._listing(ctx, experiment_id).items())}

    def version(self, ctx, experiment_id: str, run: str, tag: str) -> tuple[int, float]:
        """What identifies the current content of a series (its max step and wall time)."""
        return self._version(ctx, experiment_id, run, tag)

    def _version(self, ctx, experiment_id: str, run: str, tag: str) -> tuple[int, float]:
        """What identifies the current content of a series; 404 if there is no such series."""
        listing = self._listing(ctx, experiment_id, provider.RunTagFilter(runs=[run], tags=[tag]))
        series = listing.get(run, {}).get(tag)
        if series is None:
            raise errors.NotFoundError(f"no data for run {run!r}, tag {tag!r}")
        return (series.max_step, series.max_wall_time)

    def _read_limit(self, ctx, experiment_id: str, run: str, tag: str) -> int:
        """How many steps one read may ask for: ``READ_BUDGET_BYTES`` over the size of the
        latest step, which a one-point read returns."""
        try:
            probe = self._provider.read_tensors(
                ctx,
                experiment_id=experiment_id,
                plugin_name=self._source.plugin_name,
                downsample=1,
                run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
            )
        except errors.PublicError:
            raise
        except Exception:  # a malformed latest record: the guarded read copes; stay well under the cap
            return _UNSIZED_LIMIT
        data = probe.get(run, {}).get(tag, [])
        size = max([_raw_size(d.numpy) for d in data] or [1])
        return max(2, min(_ALL, READ_BUDGET_BYTES // size))

    def _read(self, ctx, experiment_id: str, run: str, tag: str) -> tuple[list[tuple[int, float, Any]], int]:
        """``(records, limit)``: ``(step, wall_time, value)`` of every record (or of an even
        sample of ``limit`` of them, see ``READ_BUDGET_BYTES``); a record that TensorBoard
        itself cannot turn into an array is skipped (read again record by record, one warning)."""
        limit = self._read_limit(ctx, experiment_id, run, tag)
        try:
            data = self._provider.read_tensors(
                ctx,
                experiment_id=experiment_id,
                plugin_name=self._source.plugin_name,
                downsample=limit,
                run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
            )
        except errors.PublicError:
            raise
        except Exception as error:  # make_ndarray raised on a malformed tensor
            self._warn_once(("read", run, tag), "Reading %s/%s record by record: %s", run, tag, error)
            return self._read_guarded(experiment_id, run, tag, limit), limit
        return [(d.step, d.wall_time, d.numpy) for d in data.get(run, {}).get(tag, [])], limit

    def _read_blob_references(
        self, ctx, experiment_id: str, run: str, tag: str
    ) -> tuple[list[tuple[int, float, Any]], int]:
        """A blob sequence's steps with their blob references (small: blobs are read on demand)."""
        data = self._provider.read_blob_sequences(
            ctx,
            experiment_id=experiment_id,
            plugin_name=self._source.plugin_name,
            downsample=_ALL,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        return [(d.step, d.wall_time, tuple(d.values)) for d in data.get(run, {}).get(tag, [])], _ALL

    def _blob_value(self, ctx, references: tuple) -> np.ndarray:
        """A step's blobs (its header blobs only, when the source has some), read now, shaped
        like a tensor step (an object array of bytes)."""
        references = references[: self._source.header_blobs]
        try:
            blobs = [self._provider.read_blob(ctx, blob_key=reference.blob_key) for reference in references]
        except Exception as error:  # a blob gone missing or unreadable: skip the step, not the series
            raise _metadata.UnreadableRecord(f"its blob cannot be read: {error}") from None
        return np.array(blobs + [None], dtype=object)[:-1]  # keeps bytes elements whatever their lengths

    def _read_guarded(self, experiment_id: str, run: str, tag: str, limit: int) -> list[tuple[int, float, Any]]:
        """The records of one series, each converted on its own (both TensorBoard providers)."""
        records: list[tuple[int, float, Any]] = []
        multiplexer = getattr(self._provider, "_multiplexer", None)
        stub = getattr(self._provider, "_stub", None)
        if multiplexer is not None:
            events = multiplexer.Tensors(run, tag)
            if len(events) > limit:  # the same even sample, last step included
                events = [events[i] for i in np.linspace(0, len(events) - 1, limit).round().astype(int)]
            raw = [(e.step, e.wall_time, e.tensor_proto) for e in events]
        elif stub is not None:
            from tensorboard.data.proto import data_provider_pb2

            request = data_provider_pb2.ReadTensorsRequest(experiment_id=experiment_id)
            request.plugin_filter.plugin_name = self._source.plugin_name
            request.run_tag_filter.runs.names.append(run)
            request.run_tag_filter.tags.names.append(tag)
            request.downsample.num_points = limit
            response = stub.ReadTensors(request)
            raw = [
                (step, wall_time, value)
                for entry in response.runs
                for tag_entry in entry.tags
                for step, wall_time, value in zip(tag_entry.data.step, tag_entry.data.wall_time, tag_entry.data.value)
            ]
        else:
            return records
        for step, wall_time, proto in raw:
            try:
                records.append((step, wall_time, tensor_util.make_ndarray(proto)))
            except Exception as error:
                self._warn_once(("step", run, tag, step), "Skipping step %d of %s/%s: %s", step, run, tag, error)
        return records

    def _raw(self, ctx, experiment_id: str, run: str, tag: str) -> tuple[Hashable, dict[int, tuple[float, Any]]]:
        """``(version, {step: (wall_time, value)})``, last write wins, cached per version."""
        version = self._version(ctx, experiment_id, run, tag)
        key = (experiment_id, run, tag)
        cached = self._raw_cache.get(key, version)
        if cached is None:
            records, limit = (
                self._read_blob_references(ctx, experiment_id, run, tag)
                if self._blobs
                else self._read(ctx, experiment_id, run, tag)
            )
            steps: dict[int, tuple[float, Any]] = {}
            for step, wall_time, value in records:
                steps[step] = (wall_time, value)
            cached = (dict(sorted(steps.items())), len(records) >= limit)
            self._raw_cache.put(key, version, cached, sum(_raw_size(v) for _, v in steps.values()))
        return version, cached[0]

    def downsampled(self, ctx, experiment_id: str, run: str, tag: str) -> bool:
        """Whether the series was too large to read whole and is an even sample of its steps."""
        self._raw(ctx, experiment_id, run, tag)
        cached = self._raw_cache.get((experiment_id, run, tag), self._version(ctx, experiment_id, run, tag))
        return bool(cached and cached[1])

    def _decoded(self, run: str, tag: str, step: int, wall_time: float, value: Any, ctx=None) -> Step | None:
        try:
            if self._blobs:
                value = self._blob_value(ctx, value)
            return Step(step, wall_time, self._source.decode(value))
        except _metadata.UnreadableRecord as reason:
            self._warn_once(("step", run, tag, step), "Skipping step %d of %s/%s: %s", step, run, tag, reason)
            return None

    def series(self, ctx, experiment_id: str, run: str, tag: str, summarize: Callable[[Step], Any]) -> list[Step]:
        """Every decodable step of ``run``/``tag`` by step, as ``summarize`` makes it of the
        decoded step; cached until the series changes."""
        version, raw = self._raw(ctx, experiment_id, run, tag)
        key = (experiment_id, run, tag, getattr(summarize, "__qualname__", repr(summarize)))
        cached = self._summary_cache.get(key, version)
        if cached is None:
            cached = []
            for step, (wall_time, value) in raw.items():
                item = self._decoded(run, tag, step, wall_time, value, ctx)
                if item is not None:
                    cached.append(Step(item.step, item.wall_time, summarize(item)))
            self._summary_cache.put(key, version, cached)
        return cached

    def step(self, ctx, experiment_id: str, run: str, tag: str, step: int) -> Step:
        """One step, decoding only that one. 404 if it is absent or unreadable."""
        version, raw = self._raw(ctx, experiment_id, run, tag)
        key = (experiment_id, run, tag, step)
        cached = self._header_cache.get(key, version) if self._source.header_blobs is not None else None
        if cached is not None:  # a header read once per map a view draws: decoded once
            return cached
        found = raw.get(step)
        item = None if found is None else self._decoded(run, tag, step, *found, ctx)
        if item is not None and self._source.header_blobs is not None:
            self._header_cache.put(key, version, item)
        if item is None:
            raise errors.NotFoundError(f"no readable step {step} for run {run!r}, tag {tag!r}")
        return item

    def blob(self, ctx, experiment_id: str, run: str, tag: str, step: int, index: int) -> bytes:
        """Blob ``index`` of one step of a blob sequence, read now. 404 if the step or the blob is
        absent or cannot be read."""
        _, raw = self._raw(ctx, experiment_id, run, tag)
        found = raw.get(step)
        if found is None or not self._blobs:
            raise errors.NotFoundError(f"no step {step} for run {run!r}, tag {tag!r}")
        references = found[1]
        if not 0 <= index < len(references):
            raise errors.NotFoundError(f"step {step} of run {run!r}, tag {tag!r} has no blob {index}")
        try:
            blob = self._provider.read_blob(ctx, blob_key=references[index].blob_key)
        except Exception as error:
            self._warn_once(
                ("blob", run, tag, step, index),
                "Cannot read blob %d of step %d of %s/%s: %s",
                index,
                step,
                run,
                tag,
                error,
            )
            raise errors.NotFoundError(f"blob {index} of step {step} cannot be read") from None
        return blob

    def steps(self, ctx, experiment_id: str, run: str, tag: str) -> tuple[Hashable, Iterator[Step]]:
        """``(version, every decodable step in full)``, decoded one at a time as iterated (not
        kept: callers keep what they need)."""
        version, raw = self._raw(ctx, experiment_id, run, tag)
        decoded = (self._decoded(run, tag, step, *found, ctx) for step, found in raw.items())
        return version, (item for item in decoded if item is not None)
