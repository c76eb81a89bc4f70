"""Training-health verdicts, computed from stored statistics (so thresholds can change without
rewriting logs, and old logs get them too).

A run's tags are grouped by prefix (``encoder/gradients`` and ``encoder/weights`` form the group
``encoder/``) and read by role, the last path component: ``weights``, ``gradients``, ``updates``,
``activations``. Every verdict names its kind, severity, tag, tensors, first and last step and the
numbers behind it. Pure numpy; the plugin makes JSON of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import numpy as np

from modellens.distributions.series import TagSeries

ROLES = ("weights", "gradients", "updates", "activations")
#: Medians before a step that the exploding-gradient test compares it with.
EXPLODING_WINDOW = 20
EXPLODING_MIN_HISTORY = 3
#: Weights that never change are flagged only when their gradient is at least this × ‖W‖.
NOT_UPDATING_MIN_GRADIENT = 1e-5


@dataclass(frozen=True)
class Thresholds:
    """Defaults of the verdicts; the view and ``distributions/verdicts`` may override each."""

    exploding_factor: float = 10.0  # global gradient norm above this × its running median
    vanishing_ratio: float = 1e-3  # RMS gradient of the first layers / of the last layers below this
    dead_fraction: float = 0.5  # more than this fraction of a module's channels always zero
    update_ratio_low: float = 1e-4  # ‖ΔW‖/‖W‖ below this ...
    update_ratio_high: float = 1e-2  # ... or above this ...
    persistence: float = 0.5  # ... on at least this fraction of the logged steps

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class Verdict:
    kind: str
    severity: str  # "error" or "warning"
    tag: str
    tensors: list[str]
    first_step: int
    last_step: int
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def role_of(tag: str) -> tuple[str, str | None]:
    """``(group prefix, role)`` of a tag: ``"enc/gradients"`` → ``("enc/", "gradients")``."""
    prefix, _, last = tag.rpartition("/")
    return (prefix + "/" if prefix else ""), (last if last in ROLES else None)


def _matrix_rows(series: TagSeries, shapes: Mapping[str, tuple[int, ...]] | None = None) -> np.ndarray:
    """Rows of weight matrices (rank ≥ 2): biases and norm scales start near 0 or 1 and move
    differently, so ratio tests leave them out. ``shapes`` (name → the parameter's shape, from
    the weights tag) overrides the series' own, e.g. for updates logged as flat samples. Unknown
    shapes (old logs) all count."""
    shapes = shapes or {}
    ranks = [len(shapes.get(name, shape)) for name, shape in zip(series.names, series.shapes)]
    return np.array([t for t, rank in enumerate(ranks) if rank != 1], dtype=np.int64)


def _fraction_true(flags: np.ndarray, defined: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(defined.sum(axis=-1) > 0, (flags & defined).sum(axis=-1) / defined.sum(axis=-1), 0.0)


def _steps(series: TagSeries, columns: np.ndarray) -> tuple[int, int]:
    chosen = series.steps[columns]
    return int(chosen.min()), int(chosen.max())


def nonfinite(tag: str, series: TagSeries) -> list[Verdict]:
    counts = np.nan_to_num(series.table["nonfinite"], nan=0.0)
    cells = counts > 0
    if not cells.any():
        return []
    columns = np.flatnonzero(cells.any(axis=0))
    first_column = columns[0]
    first_by_tensor = np.where(cells.any(axis=1), cells.argmax(axis=1), np.iinfo(np.int64).max)
    rows = [t for t in np.argsort(first_by_tensor, kind="stable") if cells[t].any()]
    names = [series.names[t] for t in rows]
    first, last = _steps(series, columns)
    at_first = {key: int(np.nansum(series.table[key][:, first_column])) for key in ("nan", "posinf", "neginf")}
    return [
        Verdict(
            kind="nonfinite",
            severity="error",
            tag=tag,
            tensors=names,
            first_step=first,
            last_step=last,
            message=f"NaN/Inf in {len(names)} {tag} tensor{'s' if len(names) != 1 else ''} from step {first}"
            f" (first: {names[0]})",
            evidence={
                "at_first_step": at_first,
                "steps": int(len(columns)),
                "first_tensors": [series.names[t] for t in np.flatnonzero(cells[:, first_column])][:10],
            },
        )
    ]


def global_norm(series: TagSeries) -> np.ndarray:
    """√Σ‖g‖² over the finite tensor norms per step; NaN at steps with no finite norm."""
    norms = series.table["norm"]
    finite = np.isfinite(norms)
    squares = np.where(finite, norms, 0.0) ** 2
    return np.where(finite.any(axis=0), np.sqrt(squares.sum(axis=0)), np.nan)


def exploding(tag: str, series: TagSeries, thresholds: Thresholds) -> list[Verdict]:
    norms = global_norm(series)
    flagged, evidence = [], None
    for s in range(EXPLODING_MIN_HISTORY, len(norms)):
        history = norms[max(0, s - EXPLODING_WINDOW) : s]
        history = history[np.isfinite(history)]
        if len(history) < EXPLODING_MIN_HISTORY or not np.isfinite(norms[s]):
            continue
        median = float(np.median(history))
        if median > 0 and norms[s] > thresholds.exploding_factor * median:
            flagged.append(s)
            if evidence is None:
                evidence = {"global_norm": float(norms[s]), "running_median": median, "ratio": float(norms[s] / median)}
    nonfinite_steps = np.flatnonzero(np.nan_to_num(series.table["nonfinite"], nan=0).sum(axis=0) > 0)
    if not flagged:
        return []
    columns = np.array(flagged)
    first, last = _steps(series, columns)
    growth = series.table["norm"][:, flagged[0]]
    top = [series.names[t] for t in np.argsort(-np.nan_to_num(growth, nan=-1))[:5]]
    evidence["steps"] = len(flagged)
    if nonfinite_steps.size:
        evidence["nonfinite_from_step"] = int(series.steps[nonfinite_steps[0]])
    return [
        Verdict(
            kind="exploding_gradients",
            severity="error",
            tag=tag,
            tensors=top,
            first_step=first,
            last_step=last,
            message=f"Global gradient norm jumped {evidence['ratio']:.3g}× above its running median at step {first}",
            evidence=evidence,
        )
    ]


def _until(series: TagSeries, step: int) -> TagSeries:
    keep = series.steps < step
    return dataclasses.replace(
        series,
        steps=series.steps[keep],
        wall_times=series.wall_times[keep],
        table={key: values[:, keep] for key, values in series.table.items()},
        present=series.present[:, keep],
    )


def _median_rows(values: np.ndarray) -> np.ndarray:
    """Per-column median of the finite values (NaN where a column has none), without warnings."""
    finite = np.where(np.isfinite(values), values, np.nan)
    out = np.full(values.shape[1], np.nan)
    has = np.isfinite(finite).any(axis=0)
    if has.any():
        out[has] = np.nanmedian(finite[:, has], axis=0)
    return out


def vanishing(tag: str, series: TagSeries, thresholds: Thresholds, before: int | None = None) -> list[Verdict]:
    """Early layers' RMS gradient far below the last layers', on most logged steps (before step
    ``before``: once a run explodes, saturated layers say nothing more about vanishing)."""
    if before is not None:
        series = _until(series, before)
    rows = _matrix_rows(series)
    if len(rows) < 4:
        return []
    quarter = max(1, len(rows) // 4)
    early, late = rows[:quarter], rows[-quarter:]
    elements = series.table["elements"]
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = series.table["norm"] / np.sqrt(elements)
    early_rms = _median_rows(rms[early])
    late_rms = _median_rows(rms[late])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = early_rms / late_rms
    defined = np.isfinite(ratio) & (late_rms > 0)
    flags = defined & (ratio < thresholds.vanishing_ratio)
    if not defined.any() or _fraction_true(flags, defined) < thresholds.persistence:
        return []
    columns = np.flatnonzero(flags)
    first, last = _steps(series, columns)
    median_ratio = float(np.median(ratio[flags]))
    return [
        Verdict(
            kind="vanishing_gradients",
            severity="warning",
            tag=tag,
            tensors=[series.names[t] for t in early],
            first_step=first,
            last_step=last,
            message=f"Early layers' gradients are {median_ratio:.2g}× the last layers' (RMS) on "
            f"{int(flags.sum())} of {int(defined.sum())} logged steps",
            evidence={
                "ratio_median": median_ratio,
                "early_rms": float(np.nanmedian(early_rms[flags])),
                "late_rms": float(np.nanmedian(late_rms[flags])),
                "early_tensors": [series.names[t] for t in early],
                "late_tensors": [series.names[t] for t in late],
            },
        )
    ]


def dead_units(tag: str, series: TagSeries, thresholds: Thresholds) -> list[Verdict]:
    dead = series.table.get("dead_fraction")
    if dead is None:
        return []
    defined = np.isfinite(dead)
    flags = defined & (dead > thresholds.dead_fraction)
    persistent = (_fraction_true(flags, defined) >= thresholds.persistence) & flags.any(axis=1)
    rows = np.flatnonzero(persistent)
    if not rows.size:
        return []
    columns = np.flatnonzero(flags[rows].any(axis=0))
    first, last = _steps(series, columns)
    latest = {series.names[t]: float(dead[t][defined[t]][-1]) for t in rows}
    return [
        Verdict(
            kind="dead_units",
            severity="warning",
            tag=tag,
            tensors=[series.names[t] for t in rows],
            first_step=first,
            last_step=last,
            message=f"{len(rows)} module{'s' if len(rows) != 1 else ''} with more than "
            f"{thresholds.dead_fraction:.0%} of channels always zero (e.g. {series.names[rows[0]]}: "
            f"{latest[series.names[rows[0]]]:.0%})",
            evidence={"dead_fraction_latest": latest},
        )
    ]


def update_ratio(
    tag: str, series: TagSeries, thresholds: Thresholds, shapes: Mapping[str, tuple[int, ...]] | None = None
) -> list[Verdict]:
    ratios = series.table.get("update_ratio")
    if ratios is None or ratios.shape[1] < 2:
        return []
    rows = _matrix_rows(series, shapes)
    ratios = ratios[rows][:, 1:]  # the first logged step is a transient (fresh optimizer state)
    steps = series.steps[1:]
    defined = np.isfinite(ratios)
    verdicts = []
    for kind, flags, word in (
        ("update_ratio_high", defined & (ratios > thresholds.update_ratio_high), "above"),
        ("update_ratio_low", defined & (ratios < thresholds.update_ratio_low), "below"),
    ):
        persistent = (_fraction_true(flags, defined) >= thresholds.persistence) & flags.any(axis=1)
        chosen = np.flatnonzero(persistent)
        if not chosen.size:
            continue
        columns = np.flatnonzero(flags[chosen].any(axis=0))
        medians = {series.names[rows[t]]: float(np.median(ratios[t][defined[t]])) for t in chosen}
        bound = thresholds.update_ratio_high if word == "above" else thresholds.update_ratio_low
        verdicts.append(
            Verdict(
                kind=kind,
                severity="warning",
                tag=tag,
                tensors=list(medians),
                first_step=int(steps[columns].min()),
                last_step=int(steps[columns].max()),
                message=f"Update ratio ‖ΔW‖/‖W‖ {word} {bound:g} for {len(chosen)} weight "
                f"tensor{'s' if len(chosen) != 1 else ''} (median {np.median(list(medians.values())):.2g})",
                evidence={"median_update_ratio": medians},
            )
        )
    return verdicts


def not_updating(weights_tag: str, weights: TagSeries, gradients: TagSeries | None) -> list[Verdict]:
    if weights.steps.size < 3:
        return []
    keys = ("min", "max", "mean", "norm")
    stacked = np.stack([weights.table[k] for k in keys])  # [4, T, S]
    present = weights.present
    frozen = []
    for t, name in enumerate(weights.names):
        values = stacked[:, t, present[t]]
        if values.shape[1] < 3 or not np.isfinite(values).all():
            continue
        if not (values == values[:, :1]).all():
            continue
        g = gradients.index(name) if gradients is not None else None
        if g is None:
            continue
        # a gradient that vanished (‖g‖ < 1e-5 ‖W‖) moves nothing either: that is the vanishing
        # verdict's business, not a parameter missing from the optimizer
        gradient_norms = np.where(np.isfinite(gradients.table["norm"][g]), gradients.table["norm"][g], 0.0)
        if gradient_norms.max() > NOT_UPDATING_MIN_GRADIENT * values[3].max():
            frozen.append(t)
    if not frozen:
        return []
    return [
        Verdict(
            kind="weights_not_updating",
            severity="error",
            tag=weights_tag,
            tensors=[weights.names[t] for t in frozen],
            first_step=int(weights.steps[0]),
            last_step=int(weights.steps[-1]),
            message=f"{len(frozen)} tensor{'s' if len(frozen) != 1 else ''} get gradients but never change "
            f"(missing from the optimizer?), e.g. {weights.names[frozen[0]]}",
            evidence={"steps": int(weights.steps.size)},
        )
    ]


def verdicts(tags: Mapping[str, TagSeries], thresholds: Thresholds = Thresholds()) -> list[Verdict]:
    """Every verdict of one run's tags (``{tag: TagSeries}``); none on a healthy run."""
    result: list[Verdict] = []
    groups: dict[str, dict[str, tuple[str, TagSeries]]] = {}
    for tag, series in tags.items():
        result += nonfinite(tag, series)
        prefix, role = role_of(tag)
        if role is not None:
            groups.setdefault(prefix, {})[role] = (tag, series)
    for roles in groups.values():
        if "gradients" in roles:
            tag, series = roles["gradients"]
            broken = exploding(tag, series, thresholds) + nonfinite(tag, series)
            before = min((v.first_step for v in broken), default=None)
            result += [v for v in broken if v.kind == "exploding_gradients"]
            result += vanishing(tag, series, thresholds, before)
        if "activations" in roles:
            result += dead_units(*roles["activations"], thresholds)
        if "updates" in roles:
            weights = roles.get("weights", (None, None))[1]
            shapes = dict(zip(weights.names, weights.shapes)) if weights is not None else None
            result += update_ratio(*roles["updates"], thresholds, shapes)
        if "weights" in roles:
            gradients = roles.get("gradients", (None, None))[1]
            result += not_updating(roles["weights"][0], roles["weights"][1], gradients)
    severity = {"error": 0, "warning": 1}
    return sorted(result, key=lambda v: (severity[v.severity], v.first_step, v.tag))
