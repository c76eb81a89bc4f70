"""Reads ModelLens records of one kind through TensorBoard's data provider.

Works the same under the Rust data server and the Python loader: only
``context.data_provider`` is used. Records of other plugins' kinds, newer versions or
broken content are skipped with a logged warning; steps come back sorted, last write wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from tensorboard import errors
from tensorboard.data import provider

from modellens import _metadata

_logger = logging.getLogger(__name__)
_ALL = 10**9  # "read every step": downsample=0 returns nothing
T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    step: int
    wall_time: float
    value: Any


class KindReader:
    """Lists and reads the tensor series of one ModelLens kind."""

    def __init__(self, data_provider: provider.DataProvider, kind_name: str) -> None:
        self._provider = data_provider
        self._kind = _metadata.kind_number(kind_name)
        self._skipped: set[tuple[str, str]] = set()  # series already warned about (tags are polled)

    def _is_ours(self, run: str, tag: str, content: bytes) -> bool:
        try:
            return _metadata.parse_plugin_data(content).kind == self._kind
        except _metadata.UnreadableRecord as reason:
            if (run, tag) not in self._skipped:
                self._skipped.add((run, tag))
                _logger.warning("Skipping the ModelLens series %s/%s: %s", run, tag, reason)
            return False

    def tags(self, ctx, experiment_id: str) -> dict[str, list[str]]:
        """``{run: [tag, ...]}`` of this kind, sorted."""
        listing = self._provider.list_tensors(
            ctx, experiment_id=experiment_id, plugin_name=_metadata.PLUGIN_NAME
        )
        result = {}
        for run, tags in listing.items():
            ours = sorted(tag for tag, series in tags.items() if self._is_ours(run, tag, series.plugin_content))
            if ours:
                result[run] = ours
        return dict(sorted(result.items()))

    def _raw(self, ctx, experiment_id: str, run: str, tag: str) -> dict[int, Any]:
        """``{step: datum}`` of ``run``/``tag``, last write wins. 404 if there is no such series."""
        if tag not in self.tags(ctx, experiment_id).get(run, []):
            raise errors.NotFoundError(f"no ModelLens data for run {run!r}, tag {tag!r}")
        data = self._provider.read_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=_metadata.PLUGIN_NAME,
            downsample=_ALL,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        return {datum.step: datum for datum in data.get(run, {}).get(tag, [])}

    @staticmethod
    def _decoded(datum, decode: Callable[[Any], T], where: str) -> Step | None:
        try:
            return Step(datum.step, datum.wall_time, decode(datum.numpy))
        except _metadata.UnreadableRecord as reason:
            _logger.warning("Skipping step %d of %s: %s", datum.step, where, reason)
            return None

    def series(self, ctx, experiment_id: str, run: str, tag: str, decode: Callable[[Any], T]) -> list[Step]:
        """Every decodable step of ``run``/``tag``, by step."""
        raw = self._raw(ctx, experiment_id, run, tag)
        decoded = (self._decoded(raw[step], decode, f"{run}/{tag}") for step in sorted(raw))
        return [item for item in decoded if item is not None]

    def step(self, ctx, experiment_id: str, run: str, tag: str, step: int, decode: Callable[[Any], T]) -> Step:
        """One step, decoding only that one. 404 if it is absent or unreadable."""
        datum = self._raw(ctx, experiment_id, run, tag).get(step)
        item = None if datum is None else self._decoded(datum, decode, f"{run}/{tag}")
        if item is None:
            raise errors.NotFoundError(f"no readable step {step} for run {run!r}, tag {tag!r}")
        return item
