"""``GET alerts``: every run's training-health verdicts and evaluation regressions, each with a
link to the view that shows it. Thin: the findings come from ``modellens.distributions.health``
and ``modellens.alerts``; this module reads the series and shapes the JSON."""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

import numpy as np
from tensorboard.data import provider
from werkzeug import wrappers

from modellens import alerts
from modellens.distributions import health
from modellens.tb_plugin import query
from modellens.tb_plugin.data import LRU, KindReader
from modellens.tb_plugin.distributions_routes import DistributionsRoutes
from modellens.tb_plugin.routes import Handler, experiment, respond

_logger = logging.getLogger(__name__)
_ALL = 10**9
SCALARS = "scalars"
_SEVERITY_ORDER = {"error": 0, "warning": 1}


def _alert(run: str, tag: str, source: str, view: str, finding: Any, *, code: str, subject: str | None) -> dict:
    link = {"view": view, "run": run, "tag": tag, "step": finding.first_step}
    if subject is not None:
        link["tensor"] = subject
    return {
        "run": run,
        "tag": tag,
        "source": source,
        "severity": finding.severity,
        "code": code,
        "subject": subject,
        "message": finding.message,
        "first_step": finding.first_step,
        "last_step": finding.last_step,
        "view": view,
        "link": link,
    }


class AlertsRoutes:
    """Gathers the findings of every run; per-series work is cached by series version."""

    slug = "alerts"

    def __init__(self, data_provider: provider.DataProvider, kinds: Sequence[Any]) -> None:
        """``kinds``: the plugin's route objects; the findings read those with the slugs
        ``distributions``, ``confusion`` and ``curves``."""
        by_slug = {kind.slug: kind for kind in kinds}
        self._provider = data_provider
        self._distributions: DistributionsRoutes = by_slug["distributions"]
        self._confusion: KindReader = by_slug["confusion"].reader
        self._curves: KindReader = by_slug["curves"].reader
        self._curves_summary = type(by_slug["curves"]).summarize
        self._cache = LRU(1024)

    def routes(self) -> dict[str, Handler]:
        return {"/alerts": self._alerts}

    # ---------------------------------------------------------------- findings per source

    def _health(self, ctx, experiment_id: str, thresholds: health.Thresholds) -> list[dict]:
        found = []
        for run, tags in self._distributions.runs(ctx, experiment_id).items():
            for verdict in self._distributions.run_verdicts(ctx, experiment_id, run, tags, thresholds):
                subject = verdict.tensors[0] if verdict.tensors else None
                found.append(
                    _alert(run, verdict.tag, "health", "distributions", verdict, code=verdict.kind, subject=subject)
                )
        return found

    def _cached(self, key: tuple, version: Any, compute: Callable[[], list]) -> list:
        cached = self._cache.get(key, version)
        if cached is None:
            cached = compute()
            self._cache.put(key, version, cached)
        return cached

    def _recall_drops(self, ctx, experiment_id: str, thresholds: alerts.Thresholds) -> list[dict]:
        found = []
        for run, tags in self._confusion.tags(ctx, experiment_id).items():
            for tag in tags:

                def compute(run: str = run, tag: str = tag) -> list:
                    _, steps = self._confusion.steps(ctx, experiment_id, run, tag)
                    by_step = {item.step: item.value for item in steps}
                    return _by_class_drops(
                        by_step,
                        lambda matrix: (matrix.class_names, alerts.recalls(matrix.counts, thresholds.min_support)),
                        thresholds.recall_drop,
                        code="recall_drop",
                        what="recall",
                    )

                version = self._confusion.version(ctx, experiment_id, run, tag)
                for finding in self._cached(("recall", run, tag, thresholds), version, compute):
                    found.append(
                        _alert(run, tag, "evaluation", "confusion", finding, code=finding.code, subject=finding.subject)
                    )
        return found

    def _auc_drops(self, ctx, experiment_id: str, thresholds: alerts.Thresholds) -> list[dict]:
        found = []
        for run, tags in self._curves.tags(ctx, experiment_id).items():
            for tag in tags:

                def compute(run: str = run, tag: str = tag) -> list:
                    series = self._curves.series(ctx, experiment_id, run, tag, self._curves_summary)
                    if not series:
                        return []
                    names = self._curves.step(ctx, experiment_id, run, tag, series[-1].step).value.class_names
                    by_step = {item.step: item.value for item in series}
                    return _by_class_drops(
                        by_step,
                        lambda summary: (
                            names,
                            np.array([np.nan if v is None else v for v in summary["auc"]], dtype=np.float64),
                        ),
                        thresholds.auc_drop,
                        code="auc_drop",
                        what="ROC AUC",
                    )

                version = self._curves.version(ctx, experiment_id, run, tag)
                for finding in self._cached(("auc", run, tag, thresholds), version, compute):
                    found.append(
                        _alert(run, tag, "evaluation", "curves", finding, code=finding.code, subject=finding.subject)
                    )
        return found

    def _overfitting(self, ctx, experiment_id: str, thresholds: alerts.Thresholds) -> list[dict]:
        listing = self._provider.list_scalars(ctx, experiment_id=experiment_id, plugin_name=SCALARS)
        tags = {run: sorted(series) for run, series in listing.items()}
        found = []
        for (train_run, train_tag), (val_run, val_tag) in alerts.accuracy_pairs(tags):

            def compute(pair=((train_run, train_tag), (val_run, val_tag))) -> list:
                read = {}
                for run, tag in pair:
                    data = self._provider.read_scalars(
                        ctx,
                        experiment_id=experiment_id,
                        plugin_name=SCALARS,
                        downsample=_ALL,
                        run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
                    )
                    points = sorted({d.step: d.value for d in data.get(run, {}).get(tag, [])}.items())
                    read[(run, tag)] = ([s for s, _ in points], [v for _, v in points])
                return [alerts.overfitting(read[pair[0]], read[pair[1]], thresholds, pair[1][1])]

            version = tuple(
                (listing[run][tag].max_step, listing[run][tag].max_wall_time)
                for run, tag in ((train_run, train_tag), (val_run, val_tag))
            )
            key = ("overfitting", train_run, train_tag, val_run, val_tag, thresholds)
            [finding] = self._cached(key, version, compute)
            if finding is not None:
                alert = _alert(val_run, val_tag, "evaluation", "timeseries", finding, code="overfitting", subject=None)
                alert["subject"] = f"{train_run}/{train_tag}" if train_run != val_run else train_tag
                found.append(alert)
        return found

    # ---------------------------------------------------------------- the route

    def body(self, request: wrappers.Request) -> dict[str, Any]:
        ctx, experiment_id = experiment(request)
        health_thresholds = _thresholds(request, health.Thresholds)
        evaluation_thresholds = _thresholds(request, alerts.Thresholds)
        found: list[dict] = []
        for gather in (
            lambda: self._health(ctx, experiment_id, health_thresholds),
            lambda: self._recall_drops(ctx, experiment_id, evaluation_thresholds),
            lambda: self._auc_drops(ctx, experiment_id, evaluation_thresholds),
            lambda: self._overfitting(ctx, experiment_id, evaluation_thresholds),
        ):
            found += gather()
        found.sort(key=lambda a: (_SEVERITY_ORDER.get(a["severity"], 2), a["run"], a["tag"], a["first_step"]))
        return {
            "alerts": found,
            "thresholds": {
                **{name: getattr(health_thresholds, name) for name in health.Thresholds.names()},
                **{name: getattr(evaluation_thresholds, name) for name in alerts.Thresholds.names()},
            },
            "runs": sorted({a["run"] for a in found}),
        }

    @wrappers.Request.application
    def _alerts(self, request: wrappers.Request) -> wrappers.Response:
        return respond(request, self.body(request))


def _thresholds(request: wrappers.Request, cls: type) -> Any:
    defaults = cls()
    return cls(**{name: query.positive_number(request, name, getattr(defaults, name)) for name in cls.names()})


def _by_class_drops(
    by_step: dict[int, Any], per_class: Callable[[Any], tuple[list[str], np.ndarray]], threshold: float, **kind: str
) -> list[alerts.Regression]:
    """Aligns per-class values of every step by class name (classes may change between steps)
    and finds the drops."""
    steps = sorted(by_step)
    columns: dict[str, int] = {}
    rows = []
    for step in steps:
        names, values = per_class(by_step[step])
        row = {}
        for name, value in zip(names, values):
            columns.setdefault(name, len(columns))
            row[columns[name]] = value
        rows.append(row)
    matrix = np.full((len(steps), len(columns)), np.nan)
    for index, row in enumerate(rows):
        for column, value in row.items():
            matrix[index, column] = value
    return alerts.drops(steps, matrix, list(columns), threshold, **kind)
