"""ROC/PR curves without a server: every curve and number against scikit-learn, the compression
bound on hard cases, the micro average (exact and from its histogram), memory per class, and bad
input refused with nothing written."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn import metrics
from sklearn.preprocessing import label_binarize

import modellens
from harness import modellens_values
from modellens import curves
from modellens._metadata import UnreadableRecord
from modellens.curves import exact


def write_and_read(tmp_path, y_true, scores, **kwargs) -> curves.CurvesRecord:
    with modellens.Writer(tmp_path) as writer:
        writer.roc_pr("curves", y_true, scores, step=kwargs.pop("step", 3), **kwargs)
    (value,) = [v for tag, _, v in modellens_values(tmp_path) if tag == "curves"]
    return curves.read_step(list(value.tensor.string_val))


def sklearn_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(thresholds, tp, fp)`` as scikit-learn's ``_binary_clf_curve`` has them."""
    _, fps, _, tps, thresholds = metrics.confusion_matrix_at_thresholds(y, s)
    return thresholds, tps, fps


def assert_curve_is_sklearns(curve: exact.Curve, y: np.ndarray, s: np.ndarray) -> None:
    thresholds, tps, fps = sklearn_curve(y, s)
    assert np.array_equal(curve.thresholds, thresholds.astype(np.float64))
    assert np.array_equal(curve.tp, tps) and np.array_equal(curve.fp, fps)
    fpr, tpr, roc_thresholds = metrics.roc_curve(y, s, drop_intermediate=False)
    assert np.allclose(np.r_[0, curve.fpr], fpr, rtol=0, atol=1e-15)
    assert np.allclose(np.r_[0, curve.tpr], tpr, rtol=0, atol=1e-15)
    precision, recall, pr_thresholds = metrics.precision_recall_curve(y, s, drop_intermediate=False)
    assert np.allclose(curve.precision[::-1], precision[:-1], rtol=0, atol=1e-15)
    assert np.allclose(curve.tpr[::-1], recall[:-1], rtol=0, atol=1e-15)
    assert np.array_equal(curve.thresholds[::-1], pr_thresholds.astype(np.float64))


def stored_area(curve: exact.Curve) -> float:
    return float(np.trapezoid(np.r_[0, curve.tpr], np.r_[0, curve.fpr]))


def assert_points_of_the_full_curve(stored: exact.Curve, full: exact.Curve) -> None:
    """A stored curve is a subset of the full one: its first and last point, in order."""
    index = np.searchsorted(-full.thresholds, -stored.thresholds)
    assert np.array_equal(full.thresholds[index], stored.thresholds)
    assert np.array_equal(full.tp[index], stored.tp) and np.array_equal(full.fp[index], stored.fp)
    assert index[0] == 0 and index[-1] == full.tp.size - 1 and np.all(np.diff(index) > 0)


RNG = np.random.default_rng(0)


def binary_data(n: int, seed: int = 0, ties: int | None = None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    s = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    if ties is not None:
        s = np.round(s, ties)
    return y, s.astype(dtype)


def multiclass_data(n: int, classes: int, seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes))
    logits[np.arange(n), y] += 1.5
    return y, logits, softmax(logits, axis=1).astype(dtype)


# ---------------------------------------------------------------------------- exact numbers


@pytest.mark.parametrize(
    "ties, dtype", [(None, np.float64), (2, np.float64), (None, np.float32), (3, np.float32)], ids=str
)
def test_binary_curves_and_numbers_are_sklearns(tmp_path, ties, dtype):
    y, s = binary_data(1500, ties=ties, dtype=dtype)
    record = write_and_read(tmp_path, y, s)
    header = record.header
    assert header.binary and header.samples == 1500 and header.class_names == ["1"]
    assert header.auc[0] == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)
    assert header.ap[0] == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)
    assert (header.micro_auc, header.micro_ap) == (header.auc[0], header.ap[0]) == (header.macro_auc, header.macro_ap)
    assert (header.positives[0], header.negatives[0]) == (y.sum(), (~y).sum())
    curve = record.curve(0)
    assert header.points[0] == header.distinct[0] == curve.tp.size == np.unique(s).size
    assert_curve_is_sklearns(curve, y, s)
    with pytest.raises(IndexError):
        record.curve("micro")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multiclass_curves_micro_and_macro_are_sklearns(tmp_path, dtype):
    y, _, p = multiclass_data(1200, 5, dtype=dtype)
    names = ["zero", "one", "two", "<b>three</b>", "four"]
    record = write_and_read(tmp_path, y, p, class_names=names)
    header = record.header
    indicator = label_binarize(y, classes=range(5))
    assert header.class_names == names and not header.binary and header.micro_exact
    for c in range(5):
        assert header.auc[c] == pytest.approx(metrics.roc_auc_score(indicator[:, c], p[:, c]), abs=1e-12)
        assert header.ap[c] == pytest.approx(metrics.average_precision_score(indicator[:, c], p[:, c]), abs=1e-12)
        assert_curve_is_sklearns(record.curve(c), indicator[:, c], p[:, c])
    for average in ("micro", "macro"):
        assert getattr(header, f"{average}_auc") == pytest.approx(
            metrics.roc_auc_score(indicator, p, average=average), abs=1e-12
        )
        assert getattr(header, f"{average}_ap") == pytest.approx(
            metrics.average_precision_score(indicator, p, average=average), abs=1e-12
        )
    micro = record.curve("micro")
    assert (micro.positives, micro.negatives) == (1200, 4800)
    assert header.distinct.tolist() == [np.unique(p[:, c]).size for c in range(5)]
    full = exact.exact_curve(p.ravel(), indicator.ravel().astype(bool))
    assert full.tp.size > 2000 and micro.tp.size <= 2000
    assert_points_of_the_full_curve(micro, full)


def test_multi_label_indicator(tmp_path):
    rng = np.random.default_rng(3)
    indicator = (rng.random((800, 4)) < [0.1, 0.3, 0.5, 0.7]).astype(np.int64)
    scores = np.clip(rng.normal(0.4 + 0.2 * indicator, 0.25), 0, 1)
    for truth in (indicator, indicator.astype(bool), indicator.astype(np.float32)):
        record = write_and_read(tmp_path / str(truth.dtype), truth, scores)
        header = record.header
        assert header.positives.tolist() == indicator.sum(axis=0).tolist()
        for c in range(4):
            assert_curve_is_sklearns(record.curve(c), indicator[:, c], scores[:, c])
        for average in ("micro", "macro"):
            assert getattr(header, f"{average}_auc") == pytest.approx(
                metrics.roc_auc_score(indicator, scores, average=average), abs=1e-12
            )
            assert getattr(header, f"{average}_ap") == pytest.approx(
                metrics.average_precision_score(indicator, scores, average=average), abs=1e-12
            )


def test_logits_are_squashed_first(tmp_path):
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 3, 2000)
    y = rng.random(2000) < expit(logits)
    header = write_and_read(tmp_path / "b", y, logits, logits=True).header
    assert header.auc[0] == pytest.approx(metrics.roc_auc_score(y, expit(logits)), abs=1e-12)
    assert header.ap[0] == pytest.approx(metrics.average_precision_score(y, expit(logits)), abs=1e-12)
    labels, raw, _ = multiclass_data(1500, 4, seed=5)
    raw = raw.astype(np.float32)  # softmax in float64 of the float32 logits
    probabilities = softmax(raw.astype(np.float64), axis=1)
    record = write_and_read(tmp_path / "m", labels, raw, logits=True)
    indicator = label_binarize(labels, classes=range(4))
    for c in range(4):
        assert record.header.auc[c] == pytest.approx(
            metrics.roc_auc_score(indicator[:, c], probabilities[:, c]), abs=1e-12
        )
        curve = record.curve(c)
        thresholds, tps, fps = sklearn_curve(indicator[:, c], probabilities[:, c])
        assert np.allclose(curve.thresholds, thresholds, rtol=1e-12, atol=0)
        assert np.array_equal(curve.tp, tps) and np.array_equal(curve.fp, fps)
    assert record.header.micro_auc == pytest.approx(
        metrics.roc_auc_score(indicator, probabilities, average="micro"), abs=1e-12
    )


def test_pos_label_and_string_labels(tmp_path):
    rng = np.random.default_rng(6)
    y = rng.choice(np.array(["cat", "dog"]), 700)
    s = np.clip(rng.normal(0.4 + 0.2 * (y == "dog"), 0.2), 0, 1)
    header = write_and_read(tmp_path / "s", list(y), s, pos_label="dog").header
    assert header.class_names == ["dog"]
    assert header.auc[0] == pytest.approx(metrics.roc_auc_score(y == "dog", s), abs=1e-12)
    assert header.positives[0] == (y == "dog").sum()
    numbers = np.where(y == "dog", 7, 3)
    header = write_and_read(tmp_path / "n", numbers, s, pos_label=7, class_names=["three", "seven"]).header
    assert header.class_names == ["seven"] and header.auc[0] == pytest.approx(
        metrics.roc_auc_score(numbers, s), abs=1e-12
    )
    header = write_and_read(tmp_path / "pm", np.where(y == "dog", 1, -1), s).header
    assert header.auc[0] == pytest.approx(metrics.roc_auc_score(y == "dog", s), abs=1e-12)
    labels, _, p = multiclass_data(600, 3, seed=7)
    names = np.array(["a", "b", "c"])
    from_strings = write_and_read(tmp_path / "m", names[labels], p, class_names=list(names)).header
    from_integers = write_and_read(tmp_path / "i", labels, p).header
    assert from_strings.auc.tolist() == from_integers.auc.tolist() and from_integers.class_names == ["0", "1", "2"]


def test_input_forms_store_the_same_step(tmp_path):
    y, s = binary_data(400, ties=2)
    reference = curves.from_input(y, s)
    for truth, scores in [
        (y.astype(int), s),
        (y.astype(float).tolist(), s.tolist()),
        (y[:, None], s[:, None]),
        (y, np.where(s == 0, -0.0, s)),  # -0.0 is 0
    ]:
        data = curves.from_input(truth, scores)
        assert data.auc.tolist() == reference.auc.tolist()
        assert np.array_equal(data.curves[0].tp, reference.curves[0].tp)
        assert np.array_equal(data.curves[0].thresholds, reference.curves[0].thresholds)
    hard = curves.from_input(y, y.astype(np.int64))  # hard 0/1 predictions are scores too
    assert hard.auc[0] == pytest.approx(metrics.roc_auc_score(y, y.astype(int))) and hard.distinct[0] == 2


def test_a_class_without_positives_is_undefined_and_left_out_of_the_macro(tmp_path):
    labels, _, p = multiclass_data(900, 4, seed=8)
    labels[labels == 2] = 0  # class 2 has no positives
    header = write_and_read(tmp_path, labels, p).header
    assert np.isnan(header.auc[2]) and np.isnan(header.ap[2]) and header.positives[2] == 0
    defined = [metrics.roc_auc_score(labels == c, p[:, c]) for c in (0, 1, 3)]
    assert header.macro_auc == pytest.approx(np.mean(defined), abs=1e-12)
    assert header.macro_ap == pytest.approx(
        np.mean([metrics.average_precision_score(labels == c, p[:, c]) for c in (0, 1, 3)]), abs=1e-12
    )
    indicator = label_binarize(labels, classes=range(4))
    assert header.micro_auc == pytest.approx(metrics.roc_auc_score(indicator, p, average="micro"), abs=1e-12)


# ---------------------------------------------------------------------------- compression


def staircase(pos: int, neg: int, repeats: int, negatives_first: bool = False):
    unit = np.r_[np.ones(pos, bool), np.zeros(neg, bool)]
    y = np.tile(~unit if negatives_first else unit, repeats)
    return y, np.linspace(1, 0, y.size)


def hard_cases():
    rng = np.random.default_rng(10)
    n = 1_000_000
    y = rng.random(n) < 0.5
    yield "1M random", y, np.clip(rng.normal(y * 0.5, 1) / 6 + 0.5, 0, 1)
    s = np.where(y, 0.5 + rng.random(n) / 2, rng.random(n) / 2)
    flip = rng.random(n) < 1e-3
    s[flip] = 1 - s[flip]
    yield "1M near-perfect", y, s
    for pos, neg, repeats, first in [(1, 1, 5000, False), (1, 1, 1001, False), (1, 1, 5000, True), (3, 7, 2000, False)]:
        yield f"staircase {pos}/{neg}x{repeats}", *staircase(pos, neg, repeats, first)
    y = np.zeros(100_000, bool)
    y[rng.choice(y.size, 100, replace=False)] = True
    yield "100 positives in 100k", y, rng.random(y.size)
    for positives, negatives in [(2000, 100_000), (4000, 4000), (20_000, 600)]:
        y = np.r_[np.ones(positives, bool), np.zeros(negatives, bool)]
        s = rng.normal(size=y.size) + y * 0.8
        yield f"random {positives}/{negatives}", y, (s - s.min()) / (s.max() - s.min())


HARD_CASES = list(hard_cases())


@pytest.mark.parametrize("name, y, s", HARD_CASES, ids=[case[0] for case in HARD_CASES])
def test_a_compressed_curve_keeps_the_auc_within_1e4(name, y, s):
    data = curves.from_input(y, s)
    stored, full = data.curves[0], exact.exact_curve(s, y)
    assert full.tp.size > exact.MAX_POINTS and 1000 <= stored.tp.size <= exact.MAX_POINTS
    assert data.auc[0] == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)  # from the full curve
    assert data.ap[0] == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)
    assert abs(stored_area(stored) - data.auc[0]) <= 1e-4
    assert abs(stored_area(stored) - data.auc[0]) <= 1e-5, "the implementation's own bound"
    assert_points_of_the_full_curve(stored, full)
    assert data.distinct[0] == full.tp.size


def test_compressed_points_follow_both_curves_evenly():
    rng = np.random.default_rng(11)
    y = rng.random(200_000) < 0.4
    s = np.clip(rng.normal(0.4 + 0.1 * y, 0.2), 0, 1)  # ties at 0 and 1: single long segments
    stored, full = curves.from_input(y, s).curves[0], exact.exact_curve(s, y)
    index = np.searchsorted(-full.thresholds, -stored.thresholds)

    def arc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.r_[0, np.cumsum(np.hypot(np.diff(x), np.diff(y)))]

    for along in (arc(full.fpr, full.tpr), arc(full.tpr, full.precision)):
        spacing = along[-1] / 1000
        # from a stored point to the point before the next one: a single segment of the curve
        # (such as a tie of many samples) cannot be split, anything else is at most a spacing
        # or two of either curve (points picked for the other curve fill in between)
        inside = along[index[1:] - 1] - along[index[:-1]]
        assert inside.max() <= 2.5 * spacing, (inside.max(), spacing)


# ---------------------------------------------------------------------------- micro from a histogram


def test_micro_from_the_histogram_is_exact_at_its_bin_edges():
    """Above 2**26 samples × classes the micro curve comes from a histogram of float32 bits; its
    points are points of the exact pooled curve (here every score is a bin edge: exact)."""
    n, classes = 33_600, 2000  # 67.2 M elements
    rng = np.random.default_rng(12)
    labels = rng.integers(0, classes, n)
    steps = rng.integers(0, 2048, (n, classes)).astype(np.float32)
    steps[np.arange(n), labels] += 1024 * rng.random(n).astype(np.float32)
    scores = np.floor(steps) / np.float32(4096)  # 12 significant bits: every value a bin edge
    data = curves.from_input(labels, scores)
    assert not data.micro_exact and n * classes > exact.MICRO_EXACT_ELEMENTS
    values = np.floor(steps).astype(np.int64)
    positive = np.bincount(values[np.arange(n), labels], minlength=4096)
    total = np.bincount(values.ravel(), minlength=4096)
    tp, top = np.cumsum(positive[::-1]), np.cumsum(total[::-1])
    held = total[::-1] > 0
    tp, fp = tp[held], (top - tp)[held]
    P, N = n, n * (classes - 1)
    auc = np.sum(np.diff(np.r_[0, fp]) * (tp + np.r_[0, tp[:-1]])) / (2 * N * P)
    ap = np.sum(np.diff(np.r_[0, tp]) * tp / (tp + fp)) / P
    assert data.micro_auc == pytest.approx(auc, abs=1e-12) and data.micro_ap == pytest.approx(ap, abs=1e-12)
    full = exact.Curve(np.flatnonzero(total)[::-1] / 4096, tp, fp, P, N)
    assert_points_of_the_full_curve(data.micro, full)  # stored: at most 2000 of those points


# ---------------------------------------------------------------------------- memory


def peak_extra_bytes(y, scores) -> tuple[int, curves.Curves]:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        data = curves.from_input(y, scores)
        return tracemalloc.get_traced_memory()[1] - base, data
    finally:
        tracemalloc.stop()


def stored_bytes(data: curves.Curves) -> int:
    return sum(24 * c.tp.size for c in (*data.curves, data.micro) if c is not None)


def test_extra_memory_is_per_class_not_per_element():
    """200 classes × 50 k: O(n) per class, plus one pooled key array for the exact micro
    average (the size of the float32 scores) and the stored curves (the output)."""
    n, classes = 50_000, 200
    y = RNG.integers(0, classes, n)
    scores = RNG.dirichlet(np.ones(classes), n).astype(np.float32)
    peak, data = peak_extra_bytes(y, scores)
    assert data.micro_exact
    pooled = scores.nbytes
    assert peak <= pooled + stored_bytes(data) + 200 * n + 24 * 2**20, peak / 2**20
    assert peak < 2 * scores.nbytes  # far from a copy per class or per element


def test_above_the_exact_limit_memory_stays_per_class():
    """1000 classes × 67.2 k (past 2**26 elements: the micro average from its histogram):
    extra memory is the stored curves, the 16 MiB histogram and O(n), not O(n · C)."""
    n, classes = 67_200, 1000
    rng = np.random.default_rng(13)
    y = rng.integers(0, classes, n)
    scores = rng.random((n, classes), dtype=np.float32)
    scores[np.arange(n), y] += 0.5
    scores /= 1.5
    peak, data = peak_extra_bytes(y, scores)
    assert not data.micro_exact
    assert peak <= stored_bytes(data) + 2 * 8 * exact.MICRO_BINS + 200 * n + 24 * 2**20, peak / 2**20
    assert peak < scores.nbytes / 2


def test_ten_million_binary_samples():
    y, s = binary_data(10_000_000, seed=14)
    peak, data = peak_extra_bytes(y, s)
    assert peak <= 4 * s.nbytes, peak / 2**20  # the keys (one copy), the positives' positions, ...
    assert data.auc[0] == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)
    assert data.ap[0] == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)
    stored = data.curves[0]
    assert stored.tp.size <= exact.MAX_POINTS and abs(stored_area(stored) - data.auc[0]) <= 1e-5


# ---------------------------------------------------------------------------- refused input

y3, _, p3 = multiclass_data(30, 3, seed=20)
yb, sb = binary_data(30, seed=21)
BAD_INPUTS = [
    ("length mismatch", dict(y_true=yb[:-1], scores=sb), ValueError, "29 samples but scores has 30"),
    ("multi length", dict(y_true=y3[:-1], scores=p3), ValueError, "y_true must be"),
    ("above one", dict(y_true=yb, scores=sb + 1), ValueError, "outside \\[0, 1\\].*logits=True"),
    ("negative", dict(y_true=yb, scores=sb - 1), ValueError, "outside \\[0, 1\\]"),
    ("NaN", dict(y_true=yb, scores=np.where(sb > 0.5, np.nan, sb)), ValueError, "NaN or Inf"),
    ("Inf logits", dict(y_true=yb, scores=np.full(30, np.inf), logits=True), ValueError, "NaN or Inf"),
    ("NaN labels", dict(y_true=np.where(yb, np.nan, 0.0), scores=sb), ValueError, "NaN or Inf"),
    ("rank 3", dict(y_true=yb, scores=np.zeros((30, 2, 2))), ValueError, "scores must be"),
    ("rank 0", dict(y_true=yb, scores=np.float64(0.5)), ValueError, "scores must be"),
    ("empty", dict(y_true=[], scores=np.zeros(0)), ValueError, "empty"),
    ("no columns", dict(y_true=yb, scores=np.zeros((30, 0))), ValueError, "one column per class"),
    ("strings as scores", dict(y_true=yb, scores=["a"] * 30), TypeError, "real numbers"),
    ("labels 2-D binary", dict(y_true=np.zeros((30, 2)), scores=sb), ValueError, "y_true must be"),
    ("one class", dict(y_true=np.ones(30), scores=sb), ValueError, "both positive and negative"),
    ("no positives", dict(y_true=np.zeros(30, bool), scores=sb), ValueError, "both positive and negative"),
    ("labels 0/2", dict(y_true=yb * 2, scores=sb), ValueError, "pos_label"),
    ("strings without pos_label", dict(y_true=np.where(yb, "a", "b"), scores=sb), ValueError, "pos_label"),
    ("pos_label absent", dict(y_true=np.where(yb, "a", "b"), scores=sb, pos_label="c"), ValueError, "not among"),
    ("pos_label type", dict(y_true=yb.astype(int), scores=sb, pos_label="1"), TypeError, "pos_label"),
    ("three labels", dict(y_true=np.arange(30) % 3, scores=sb, pos_label=1), ValueError, "more than two"),
    ("pos_label multi", dict(y_true=y3, scores=p3, pos_label=1), ValueError, "pos_label applies"),
    ("label out of range", dict(y_true=np.where(y3 == 0, 3, y3), scores=p3), ValueError, "label 3, outside"),
    ("negative label", dict(y_true=np.where(y3 == 0, -1, y3), scores=p3), ValueError, "label -1"),
    ("float labels", dict(y_true=y3 + 0.5, scores=p3), ValueError, "non-integer"),
    ("strings without names", dict(y_true=np.array(["a", "b", "c"])[y3], scores=p3), ValueError, "class_names"),
    (
        "string not in names",
        dict(y_true=np.array(["a", "b", "z"])[y3], scores=p3, class_names=["a", "b", "c"]),
        ValueError,
        "'z'",
    ),
    ("mixed labels", dict(y_true=[0, "a"] * 15, scores=p3), TypeError, "mixes"),
    ("indicator shape", dict(y_true=np.zeros((30, 2)), scores=p3), ValueError, "y_true must be"),
    ("indicator values", dict(y_true=np.full((30, 3), 2), scores=p3), ValueError, "other than 0 and 1"),
    ("indicator fractions", dict(y_true=np.full((30, 3), 0.5), scores=p3), ValueError, "other than 0 and 1"),
    ("no class with both", dict(y_true=np.zeros(30, int), scores=p3), ValueError, "no class has both"),
    ("indicator all ones", dict(y_true=np.ones((30, 3)), scores=p3), ValueError, "no class has both"),
    ("names count", dict(y_true=y3, scores=p3, class_names=["a", "b"]), ValueError, "class_names has 2"),
    ("binary names count", dict(y_true=yb, scores=sb, class_names=["a", "b", "c"]), ValueError, "class_names"),
    ("duplicate names", dict(y_true=y3, scores=p3, class_names=["a", "a", "b"]), ValueError, "duplicate"),
    ("names not strings", dict(y_true=y3, scores=p3, class_names=[1, 2, 3]), TypeError, "class_names"),
    ("logits not bool", dict(y_true=yb, scores=sb, logits="yes"), TypeError, "logits"),
    ("too many classes", dict(y_true=[0, 1], scores=np.zeros((2, 10_001))), ValueError, "at most 10000"),
    ("step", dict(y_true=yb, scores=sb, step=-1), ValueError, "step"),
    ("tag", dict(y_true=yb, scores=sb, tag=""), TypeError, "tag"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_naming_the_argument_with_nothing_written(tmp_path, case):
    _, kwargs, error, message = case
    kwargs = {"tag": "curves", "step": 1, **kwargs}
    with modellens.Writer(tmp_path) as writer:
        writer.scalar("before", 1.0, step=0)
        writer.flush()
        (path,) = [os.path.join(tmp_path, name) for name in os.listdir(tmp_path)]
        size = os.path.getsize(path)
        with pytest.raises(error, match=message):
            writer.roc_pr(kwargs.pop("tag"), kwargs.pop("y_true"), kwargs.pop("scores"), **kwargs)
        writer.flush()
        assert os.path.getsize(path) == size
    assert modellens_values(tmp_path) == []


# ---------------------------------------------------------------------------- wire format


def test_hostile_class_names_are_kept_as_given(tmp_path):
    names = ["<img src=x onerror=alert(1)>", "שלום", "🙂", " ", "a\nb"]
    labels, _, p = multiclass_data(200, 5, seed=30)
    assert write_and_read(tmp_path, labels, p, class_names=names).header.class_names == names


def test_counts_travel_in_the_narrowest_unsigned_type(tmp_path):
    y, s = binary_data(1000, seed=31)  # up to 1000 positives or negatives: uint16
    value = curves.encode("t", curves.from_input(y, s))
    arrays = curves._proto.Arrays.FromString(value.tensor.string_val[2]).arrays
    assert {a.name: a.dtype for a in arrays} == {"threshold": "<f8", "tp": "<u2", "fp": "<u2"}
    assert value.tensor.string_val[1] == b""  # no micro curve for a binary step


def test_malformed_blobs_are_unreadable_records():
    labels, _, p = multiclass_data(300, 3, seed=32)
    value = curves.encode("t", curves.from_input(labels, p))
    blobs = list(value.tensor.string_val)
    record = curves.read_step(blobs)
    header = record.header
    for garbage in (b"\xff\xfe", blobs[2][:-5], b""):
        with pytest.raises(UnreadableRecord):
            curves.read_curve(header, 0, garbage)
    with pytest.raises(UnreadableRecord):
        curves.read_curve(header, 0, blobs[3])  # class 1's curve: another point count or totals
    with pytest.raises(UnreadableRecord):
        curves.read_step(blobs[:-1])
    for garbage in (b"\xff\xfe", b"", blobs[2]):
        with pytest.raises(UnreadableRecord):
            curves.decode([garbage])

    def tampered(change) -> bytes:
        message = curves._proto.CurvesStep.FromString(blobs[0])
        change(message)
        return message.SerializeToString()

    for change in (
        lambda m: m.class_names.append("extra"),
        lambda m: setattr(m, "samples", 299),
        lambda m: m.arrays.pop(),
        lambda m: setattr(m, "max_points", 1),
        lambda m: setattr(m.arrays[0], "data", m.arrays[0].data[:-1]),
    ):
        with pytest.raises(UnreadableRecord):
            curves.decode([tampered(change)])

    def tampered_curve(name: str, values) -> bytes:
        message = curves._proto.Arrays.FromString(blobs[2])
        (item,) = [a for a in message.arrays if a.name == name]
        item.CopyFrom(curves._packing.pack_array(name, values))
        return message.SerializeToString()

    curve = record.curve(0)
    for name, values in (
        ("threshold", curve.thresholds[::-1].copy()),  # not descending
        ("threshold", curve.thresholds.astype(np.float32)),
        ("tp", curve.tp[::-1].astype(np.uint32)),  # not cumulative
        ("fp", (curve.fp - 1).clip(0).astype(np.uint32)),  # last point short of the negatives
        ("tp", curve.tp[:-1].astype(np.uint32)),  # shapes disagree
    ):
        with pytest.raises(UnreadableRecord):
            curves.read_curve(header, 0, tampered_curve(name, values))
    assert np.array_equal(curves.read_curve(header, 0, blobs[2]).tp, curve.tp)
