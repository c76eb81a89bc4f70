"""The predictions kind without a server: regression metrics, histograms and deciles against
scikit-learn and numpy; classification calibration against a plain ECE and scikit-learn's
``calibration_curve``; the most confidently wrong samples; exact points up to 50,000 and the
density only beyond; 10 M samples in bounded memory; bad input refused with nothing written."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from scipy.special import softmax
from sklearn import metrics
from sklearn.calibration import calibration_curve

import modellens
from harness import modellens_values
from modellens import predictions
from modellens._metadata import UnreadableRecord, kind_number, parse_plugin_data


def read_predictions(logdir) -> dict[str, dict[int, predictions.Predictions]]:
    """``{tag: {step: step with its body}}`` of every predictions record under ``logdir``."""
    out: dict[str, dict[int, predictions.Predictions]] = {}
    kind = kind_number(predictions.KIND)
    for tag, step, value in modellens_values(logdir):
        if parse_plugin_data(value.metadata.plugin_data.content).kind == kind:
            out.setdefault(tag, {})[step] = predictions.read_step(list(value.tensor.string_val))
    return out


def write_and_read(tmp_path, y_true, y_pred, **kwargs) -> predictions.Predictions:
    with modellens.Writer(tmp_path) as writer:
        writer.predictions("p", y_true, y_pred, step=kwargs.pop("step", 4), **kwargs)
    (step,) = read_predictions(tmp_path)["p"].values()
    return step


def regression_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.gamma(2.0, 3.0, n)
    return y_true, y_true * 0.9 + rng.normal(0, 1.5, n) + 0.3


# ---------------------------------------------------------------------------- regression


def test_regression_metrics_equal_scikit_learn(tmp_path):
    y_true, y_pred = regression_data(5_000)
    step = write_and_read(tmp_path, y_true, y_pred)
    assert isinstance(step, predictions.Regression) and step.samples == 5_000
    assert step.mae == pytest.approx(metrics.mean_absolute_error(y_true, y_pred), rel=1e-12)
    assert step.rmse == pytest.approx(np.sqrt(metrics.mean_squared_error(y_true, y_pred)), rel=1e-12)
    assert step.r2 == pytest.approx(metrics.r2_score(y_true, y_pred), rel=1e-12)
    assert step.mean_error == pytest.approx(np.mean(y_pred - y_true), rel=1e-12)
    assert step.max_abs_error == metrics.max_error(y_true, y_pred)


def test_residual_histogram_and_density_equal_numpy(tmp_path):
    y_true, y_pred = regression_data(20_000, seed=1)
    step = write_and_read(tmp_path, y_true, y_pred)
    counts, edges = np.histogram(y_pred - y_true, bins=60)
    assert np.array_equal(step.residual_edges, edges) and np.array_equal(step.residual_counts, counts)
    lo, hi = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    assert step.range == (lo, hi)
    density, _, _ = np.histogram2d(y_true, y_pred, bins=128, range=[[lo, hi], [lo, hi]])
    assert step.body.density.shape == (128, 128) and np.array_equal(step.body.density, density)


def test_values_on_bin_edges_fall_where_numpy_puts_them(tmp_path):
    """Integers 0..128 land on the density's edges and the residuals on theirs."""
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 129, 3_000).astype(np.float64)
    y_pred = np.clip(y_true + rng.integers(-3, 4, y_true.size), 0, 128).astype(np.float64)
    y_true[:2], y_pred[:2] = [0, 128], [128, 0]
    step = write_and_read(tmp_path, y_true, y_pred)
    density, _, _ = np.histogram2d(y_true, y_pred, bins=128, range=[[0, 128], [0, 128]])
    assert np.array_equal(step.body.density, density)
    counts, edges = np.histogram(y_pred - y_true, bins=60)
    assert np.array_equal(step.residual_counts, counts) and np.array_equal(step.residual_edges, edges)


def error_by_decile_reference(y_true: np.ndarray, y_pred: np.ndarray) -> list[dict]:
    edges = np.quantile(y_true.astype(np.float64), np.arange(11) / 10)
    error = y_pred.astype(np.float64) - y_true
    rows = []
    for j in range(10):
        inside = (y_true >= edges[j]) & ((y_true < edges[j + 1]) if j < 9 else (y_true <= edges[j + 1]))
        e = error[inside]
        rows.append(
            {
                "lo": edges[j],
                "hi": edges[j + 1],
                "count": int(inside.sum()),
                "mae": np.abs(e).mean() if e.size else np.nan,
                "rmse": np.sqrt((e * e).mean()) if e.size else np.nan,
                "mean_error": e.mean() if e.size else np.nan,
            }
        )
    return rows


@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "many ties"])
def test_error_by_decile_equals_a_plain_computation(tmp_path, ties):
    y_true, y_pred = regression_data(7_777, seed=3)
    if ties:  # a target with few distinct values: some decile bins are empty
        y_true = np.round(y_true / 4)
    step = write_and_read(tmp_path, y_true, y_pred)
    reference = error_by_decile_reference(y_true, y_pred)
    assert np.array_equal(step.quantile_edges, [r["lo"] for r in reference] + [reference[-1]["hi"]])
    assert step.quantile_counts.tolist() == [r["count"] for r in reference]
    assert step.quantile_counts.sum() == y_true.size
    for row, name in enumerate(("mae", "rmse", "mean_error")):
        expected = np.array([r[name] for r in reference])
        assert np.allclose(step.quantile_errors[row], expected, rtol=1e-12, atol=0, equal_nan=True), name
    assert ties == bool((step.quantile_counts == 0).any())


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(size=100_003),
        np.random.default_rng(1).integers(-3, 4, 1_500_000).astype(np.float64),  # > GATHER_LIMIT in one bin
        np.concatenate([np.random.default_rng(2).normal(size=1_200_000), [1e300, -1e299]]),  # radix too
        np.where(np.random.default_rng(3).random(10_001) < 0.5, -0.0, 1.0),
        np.array([5e-324, 0.0, 1e-323, 5e-324]),
        np.array([-1e308, 1e308, 0.0, 3.0]),
        np.array([2.5, -1.0]),
        np.full(9, 7.25),
        np.random.default_rng(4).normal(size=1_001).astype(np.float32),
        np.random.default_rng(5).integers(-(10**15), 10**15, 5_001),
    ],
    ids=["normal", "ties", "outliers", "signed zeros", "subnormals", "huge span", "two", "constant", "f4", "int"],
)
def test_deciles_equal_numpy_quantile_on_hard_data(values):
    assert np.array_equal(predictions.quantiles(values), np.quantile(values.astype(np.float64), predictions.QUANTILES))


@pytest.mark.parametrize(
    "dtype, stored", [(np.float32, np.float32), (np.float64, np.float64), (np.float16, np.float32), (np.int64, None)]
)
def test_up_to_50000_samples_every_point_is_kept_exactly(tmp_path, dtype, stored):
    y_true, y_pred = regression_data(predictions.EXACT_POINTS, seed=4)
    y_true, y_pred = (y_true * 10).astype(dtype), (y_pred * 10).astype(dtype)
    ids = np.arange(y_true.size) * 7
    step = write_and_read(tmp_path, y_true, y_pred, ids=ids)
    assert step.exact_points and step.samples == predictions.EXACT_POINTS
    assert step.body.true.dtype == (stored or np.float64) and step.body.pred.dtype == (stored or np.float64)
    assert np.array_equal(step.body.true, y_true) and np.array_equal(step.body.pred, y_pred)
    assert step.body.ids == [str(i) for i in ids]
    assert step.body.density.sum() == y_true.size


def test_beyond_50000_samples_only_the_density_is_kept(tmp_path):
    y_true, y_pred = regression_data(predictions.EXACT_POINTS + 1, seed=5)
    step = write_and_read(tmp_path, y_true, y_pred, ids=[f"x{i}" for i in range(y_true.size)])
    assert not step.exact_points
    assert step.body.true is None and step.body.pred is None and step.body.ids is None
    lo, hi = step.range
    density, _, _ = np.histogram2d(y_true, y_pred, bins=128, range=[[lo, hi], [lo, hi]])
    assert np.array_equal(step.body.density, density)
    assert step.mae == pytest.approx(metrics.mean_absolute_error(y_true, y_pred), rel=1e-12)


def test_hostile_and_unicode_ids_are_kept_as_given(tmp_path):
    ids = ["<img src=x onerror=alert(1)>", "", "שלום", "🙂", "a\nb", "\x00"]
    step = write_and_read(tmp_path, np.arange(6.0), np.arange(6.0)[::-1], ids=ids)
    assert step.body.ids == ids


def test_a_constant_target_has_no_r2_and_numpys_widened_range(tmp_path):
    step = write_and_read(tmp_path, [3.0, 3.0, 3.0], [3.0, 3.0, 3.0])
    assert np.isnan(step.r2) and step.mae == 0 and step.max_abs_error == 0
    assert step.range == (2.5, 3.5)
    counts, edges = np.histogram(np.zeros(3), bins=60)
    assert np.array_equal(step.residual_edges, edges) and np.array_equal(step.residual_counts, counts)
    density, _, _ = np.histogram2d([3.0] * 3, [3.0] * 3, bins=128, range=[[3, 3], [3, 3]])
    assert np.array_equal(step.body.density, density) and step.body.density[64, 64] == 3
    column = write_and_read(tmp_path / "column", np.array([[1.0], [2.0]]), np.array([1.5, 2.5]))
    assert column.samples == 2 and column.mean_error == 0.5 and column.r2 == pytest.approx(0.0)


def test_ten_million_samples_are_reduced_in_bounded_memory(tmp_path):
    n = 10_000_000
    rng = np.random.default_rng(6)
    y_true = rng.normal(5.0, 2.0, n)
    y_pred = y_true + rng.standard_t(3, n)
    inputs = y_true.nbytes + y_pred.nbytes
    tracemalloc.start()
    try:
        data = predictions.from_input(y_true, y_pred)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one float64 copy of an input alone would be 80 MB
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.1f} MiB for {inputs / 2**20:.0f} MiB of inputs"
    assert not data.exact_points and data.body.true is None
    assert data.mae == pytest.approx(metrics.mean_absolute_error(y_true, y_pred), rel=1e-10)
    assert data.rmse == pytest.approx(np.sqrt(metrics.mean_squared_error(y_true, y_pred)), rel=1e-10)
    assert data.r2 == pytest.approx(metrics.r2_score(y_true, y_pred), rel=1e-10)
    assert np.array_equal(data.quantile_edges, np.quantile(y_true, predictions.QUANTILES))
    counts, edges = np.histogram(y_pred - y_true, bins=60)
    assert np.array_equal(data.residual_counts, counts) and np.array_equal(data.residual_edges, edges)
    lo, hi = data.range
    density, _, _ = np.histogram2d(y_true, y_pred, bins=128, range=[[lo, hi], [lo, hi]])
    assert np.array_equal(data.body.density, density)
    with modellens.Writer(tmp_path) as writer:
        writer.predictions("big", y_true, y_pred, step=0)
    (stored,) = read_predictions(tmp_path)["big"].values()
    assert stored.samples == n and stored.body.density.sum() == n
    assert os.path.getsize(writer.path) < 200_000  # the density and small arrays, no points


# ---------------------------------------------------------------------------- classification


def classification_data(n: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from tempered probabilities: a model that is over-confident."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.0, (n, classes))
    drawn = softmax(logits / 1.8, axis=1)
    labels = (drawn.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return labels, logits


def ece_reference(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> tuple[float, float, list]:
    """ECE and MCE as Guo et al. (2017) compute them: bins (lo, hi] of confidence."""
    edges = np.linspace(0, 1, bins + 1)
    ece, mce, rows = 0.0, 0.0, []
    for b in range(bins):
        inside = (confidence > edges[b]) & (confidence <= edges[b + 1])
        if b == 0:
            inside |= confidence == 0
        if not inside.any():
            rows.append((0, np.nan, np.nan))
            continue
        accuracy, mean_confidence = correct[inside].mean(), confidence[inside].mean()
        ece += inside.mean() * abs(accuracy - mean_confidence)
        mce = max(mce, abs(accuracy - mean_confidence))
        rows.append((int(inside.sum()), mean_confidence, accuracy))
    return ece, mce, rows


def wrong_reference(labels: np.ndarray, probabilities: np.ndarray, top: int = 100) -> list[tuple]:
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = [i for i in range(labels.size) if predicted[i] != labels[i]]
    wrong.sort(key=lambda i: (-confidence[i], i))
    return [(i, labels[i], predicted[i], confidence[i], probabilities[i, labels[i]]) for i in wrong[:top]]


def assert_classification_matches(step: predictions.Classification, labels: np.ndarray, probabilities: np.ndarray):
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = predicted == labels
    assert step.samples == labels.size
    assert step.accuracy == metrics.accuracy_score(labels, predicted)
    ece, mce, rows = ece_reference(confidence, correct)
    assert step.ece == pytest.approx(ece, rel=1e-10, abs=1e-15) and step.mce == pytest.approx(mce, rel=1e-10)
    assert step.reliability_counts.tolist() == [r[0] for r in rows]
    assert np.allclose(step.reliability[0], [r[1] for r in rows], rtol=1e-10, equal_nan=True)
    assert np.allclose(step.reliability[1], [r[2] for r in rows], rtol=1e-10, equal_nan=True)
    prob_true, prob_pred = calibration_curve(correct.astype(int), confidence, n_bins=15, strategy="uniform")
    filled = step.reliability_counts > 0
    assert np.allclose(step.reliability[1, filled], prob_true, rtol=1e-10)
    assert np.allclose(step.reliability[0, filled], prob_pred, rtol=1e-10)
    right_counts, edges = np.histogram(confidence[correct], bins=20, range=(0, 1))
    wrong_counts, _ = np.histogram(confidence[~correct], bins=20, range=(0, 1))
    assert np.array_equal(predictions.confidence_edges(), edges)
    assert step.confidence_counts.tolist() == [right_counts.tolist(), wrong_counts.tolist()]
    reference = wrong_reference(labels, probabilities)
    assert step.wrong_index.tolist() == [r[0] for r in reference]
    assert step.wrong_labels.tolist() == [[r[1] for r in reference], [r[2] for r in reference]]
    assert np.allclose(step.wrong_scores[0], [r[3] for r in reference], rtol=1e-12)
    assert np.allclose(step.wrong_scores[1], [r[4] for r in reference], rtol=1e-12)


def test_classification_from_probabilities_matches_independent_computations(tmp_path):
    labels, logits = classification_data(20_000, 5)
    probabilities = softmax(logits, axis=1)
    step = write_and_read(tmp_path, labels, probabilities, class_names=list("abcde"))
    assert isinstance(step, predictions.Classification) and step.class_names == list("abcde")
    assert_classification_matches(step, labels, probabilities)
    assert 0.02 < step.ece < 0.5 and step.wrong_index.size == 100


def test_logits_are_a_softmax_away_from_probabilities(tmp_path):
    labels, logits = classification_data(3_000, 4, seed=1)
    from_logits = write_and_read(tmp_path / "logits", labels, logits, logits=True)
    from_probabilities = write_and_read(tmp_path / "probabilities", labels, softmax(logits, axis=1))
    assert_classification_matches(from_logits, labels, softmax(logits, axis=1))
    assert from_logits.accuracy == from_probabilities.accuracy
    assert from_logits.ece == pytest.approx(from_probabilities.ece, rel=1e-12)
    assert from_logits.wrong_index.tolist() == from_probabilities.wrong_index.tolist()
    assert from_logits.class_names == ["0", "1", "2", "3"]
    huge = write_and_read(tmp_path / "huge", [0, 1], np.array([[1000.0, -1000.0], [5000.0, 0.0]]), logits=True)
    assert huge.accuracy == 0.5 and huge.wrong_scores.tolist() == [[1.0], [0.0]]


def test_many_chunks_and_tied_confidences_give_the_same_lists(tmp_path):
    """300,000 rows of 3 classes cross several chunks; repeated rows tie in confidence, broken by
    index (the lowest first)."""
    labels, logits = classification_data(300_000, 3, seed=2)
    probabilities = softmax(np.round(logits, 1), axis=1).astype(np.float32)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    step = write_and_read(tmp_path, labels, probabilities)
    assert_classification_matches(step, labels, probabilities.astype(np.float64))
    confidences = step.wrong_scores[0]
    assert (np.diff(confidences) <= 0).all() and (np.diff(confidences) == 0).any()


def test_string_labels_and_ids_name_the_wrong_samples(tmp_path):
    names = ["cat", "<b>dog</b>", "🐟"]
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.7, 0.2], [0.3, 0.3, 0.4], [0.05, 0.9, 0.05], [0.5, 0.5, 0.0]])
    y_true = ["cat", "cat", "🐟", "🐟", "<b>dog</b>"]
    step = write_and_read(tmp_path, y_true, probabilities, class_names=names, ids=[10, 11, 12, 13, 14])
    assert step.class_names == names and step.accuracy == 0.4
    assert step.wrong_index.tolist() == [3, 1, 4]  # confidences 0.9, 0.7, 0.5 (a tie picks column 0)
    assert step.wrong_ids == ["13", "11", "14"]
    assert step.wrong_labels.tolist() == [[2, 0, 1], [1, 1, 0]]
    assert step.wrong_scores.tolist() == [[0.9, 0.7, 0.5], [0.05, 0.1, 0.5]]
    no_ids = write_and_read(tmp_path / "plain", [0, 1, 1], np.eye(3)[[0, 1, 2]])
    assert no_ids.wrong_ids is None and no_ids.wrong_index.tolist() == [2] and no_ids.accuracy == 2 / 3
    assert no_ids.ece == pytest.approx(1 / 3) and no_ids.mce == pytest.approx(1 / 3)


def test_a_perfect_classifier_has_no_wrong_samples(tmp_path):
    step = write_and_read(tmp_path, np.arange(4) % 2, np.eye(2)[np.arange(4) % 2], ids=["a", "b", "c", "d"])
    assert step.accuracy == 1.0 and step.ece == 0.0 and step.wrong_index.size == 0 and step.wrong_ids is None
    assert step.reliability_counts[-1] == 4 and step.confidence_counts.tolist()[0][-1] == 4


# ---------------------------------------------------------------------------- refused


N = 6
GOOD = np.linspace(0.0, 5.0, N)
PROBS = np.full((N, 3), 1 / 3)
LABELS = np.arange(N) % 3

BAD_INPUTS = [
    ("lengths differ", {"y_true": GOOD, "y_pred": GOOD[:-1]}, ValueError, "same samples"),
    ("NaN truth", {"y_true": np.where(GOOD > 4, np.nan, GOOD), "y_pred": GOOD}, ValueError, "y_true contains NaN"),
    ("Inf prediction", {"y_true": GOOD, "y_pred": np.where(GOOD > 4, np.inf, GOOD)}, ValueError, "y_pred contains"),
    ("one sample", {"y_true": [1.0], "y_pred": [2.0]}, ValueError, "at least 2 samples"),
    ("no sample", {"y_true": [], "y_pred": []}, ValueError, "at least 2 samples"),
    ("3-D prediction", {"y_true": GOOD, "y_pred": np.zeros((N, 2, 2))}, ValueError, "y_pred must be"),
    ("2-D truth for regression", {"y_true": np.zeros((N, 2)), "y_pred": GOOD}, ValueError, "y_true must be"),
    ("bool truth", {"y_true": GOOD > 2, "y_pred": GOOD}, TypeError, "y_true must hold real numbers"),
    ("str truth", {"y_true": [str(v) for v in GOOD], "y_pred": GOOD}, TypeError, "y_true must hold real"),
    ("class names for regression", {"y_true": GOOD, "y_pred": GOOD, "class_names": ["a"]}, ValueError, "class_names"),
    ("logits for regression", {"y_true": GOOD, "y_pred": GOOD, "logits": True}, ValueError, "logits=True"),
    ("logits not a bool", {"y_true": LABELS, "y_pred": PROBS, "logits": "yes"}, TypeError, "logits"),
    ("overflowing error", {"y_true": [-1e308, 1e308], "y_pred": [1e308, -1e308]}, ValueError, "overflows"),
    ("overflowing range", {"y_true": [-1e308, 0.0], "y_pred": [-1e308, 1e308]}, ValueError, "overflows"),
    ("overflowing errors' span", {"y_true": [0.0, 1e308], "y_pred": [1e308, 0.0]}, ValueError, "overflows"),
    ("ids short", {"y_true": GOOD, "y_pred": GOOD, "ids": list(range(N - 1))}, ValueError, "ids has 5 entries"),
    ("ids 2-D", {"y_true": GOOD, "y_pred": GOOD, "ids": np.zeros((N, 1), int)}, ValueError, "ids must be 1-D"),
    ("ids floats", {"y_true": GOOD, "y_pred": GOOD, "ids": GOOD}, TypeError, "ids must be str or int"),
    ("ids None", {"y_true": GOOD, "y_pred": GOOD, "ids": [None, *range(N - 1)]}, TypeError, "NoneType"),
    ("ids a string", {"y_true": GOOD, "y_pred": GOOD, "ids": "abcdef"}, TypeError, "ids must be a sequence"),
    ("ids surrogate", {"y_true": GOOD, "y_pred": GOOD, "ids": ["\ud800", *"abcde"]}, ValueError, "not valid Unicode"),
    ("probability above 1", {"y_true": LABELS, "y_pred": PROBS * 3.1}, ValueError, "outside \\[0, 1\\]"),
    ("negative probability", {"y_true": LABELS, "y_pred": PROBS - 0.4}, ValueError, "outside \\[0, 1\\]"),
    ("rows not summing to 1", {"y_true": LABELS, "y_pred": PROBS * 0.99}, ValueError, "row 0 of y_pred sums"),
    ("NaN probability", {"y_true": LABELS, "y_pred": np.where(PROBS > 0, np.nan, 0)}, ValueError, "NaN or Inf"),
    ("NaN logit", {"y_true": LABELS, "y_pred": np.full((N, 3), np.nan), "logits": True}, ValueError, "NaN or Inf"),
    ("label too large", {"y_true": LABELS + 1, "y_pred": PROBS}, ValueError, "the label 3"),
    ("negative label", {"y_true": LABELS - 1, "y_pred": PROBS}, ValueError, "the label -1"),
    ("fractional label", {"y_true": LABELS + 0.5, "y_pred": PROBS}, ValueError, "non-integer"),
    ("str labels, no names", {"y_true": list("abcabc"), "y_pred": PROBS}, ValueError, "give class_names"),
    (
        "unknown str label",
        {"y_true": list("abcabz"), "y_pred": PROBS, "class_names": list("abc")},
        ValueError,
        "'z', which is not in class_names",
    ),
    ("names too few", {"y_true": LABELS, "y_pred": PROBS, "class_names": ["a", "b"]}, ValueError, "class_names has 2"),
    ("names repeat", {"y_true": LABELS, "y_pred": PROBS, "class_names": ["a", "b", "a"]}, ValueError, "duplicate"),
    ("labels short", {"y_true": LABELS[:-1], "y_pred": PROBS}, ValueError, "same samples"),
    ("one-hot truth", {"y_true": np.eye(3)[LABELS], "y_pred": PROBS}, ValueError, "y_true must be \\[n\\] class"),
    ("no rows", {"y_true": np.zeros(0, int), "y_pred": np.zeros((0, 3))}, ValueError, "no samples"),
    ("text scores", {"y_true": LABELS, "y_pred": np.full((N, 3), "x")}, TypeError, "y_pred must hold numbers"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_naming_the_argument_with_nothing_written(tmp_path, case):
    _, kwargs, error, message = case
    with modellens.Writer(tmp_path) as writer:
        writer.scalar("before", 1.0, step=0)
        writer.flush()
        (path,) = [os.path.join(tmp_path, name) for name in os.listdir(tmp_path)]
        size = os.path.getsize(path)
        with pytest.raises(error, match=message):
            writer.predictions("p", step=1, **kwargs)
        writer.flush()
        assert os.path.getsize(path) == size
    assert read_predictions(tmp_path) == {}


# ---------------------------------------------------------------------------- wire format


def blobs_of(data: predictions.Predictions) -> list[bytes]:
    return list(predictions.encode("t", data).tensor.string_val)


def test_encode_decode_round_trip_and_header_only_decode():
    y_true, y_pred = regression_data(300, seed=7)
    data = predictions.from_input(y_true, y_pred, ids=np.arange(300))
    blobs = blobs_of(data)
    assert len(blobs) == 2
    header = predictions.decode(np.array(blobs[:1], dtype=object))
    assert header.body is None and header.mae == data.mae and header.range == data.range
    assert np.array_equal(header.quantile_errors, data.quantile_errors, equal_nan=True)
    full = predictions.read_step(blobs)
    assert np.array_equal(full.body.true, y_true) and full.body.ids == [str(i) for i in range(300)]
    labels, logits = classification_data(500, 3, seed=8)
    classification = predictions.from_input(labels, logits, logits=True, ids=[f"s{i}" for i in range(500)])
    decoded = predictions.read_step(blobs_of(classification))
    assert decoded.wrong_ids == classification.wrong_ids and decoded.ece == classification.ece
    assert np.array_equal(decoded.wrong_scores, classification.wrong_scores)


def test_malformed_steps_are_unreadable_records():
    from modellens import _proto

    y_true, y_pred = regression_data(50, seed=9)
    header, body = blobs_of(predictions.from_input(y_true, y_pred, ids=list(range(50))))
    parsed = predictions.decode([header])

    def edited_header(edit) -> bytes:
        message = _proto.PredictionsStep.FromString(header)
        edit(message)
        return message.SerializeToString()

    def edited_body(edit) -> bytes:
        message = _proto.Arrays.FromString(body)
        edit(message)
        return message.SerializeToString()

    bad_headers = [
        b"",
        header[:-3],
        edited_header(lambda m: setattr(m, "task", "ranking")),
        edited_header(lambda m: setattr(m, "samples", 49)),  # counts no longer add up
        edited_header(lambda m: setattr(m, "samples", 1)),
        edited_header(lambda m: m.arrays.pop()),
        edited_header(lambda m: m.class_names.append("x")),
        edited_header(lambda m: setattr(m.arrays[0], "dtype", "<i8")),
        edited_header(lambda m: setattr(m.arrays[0], "data", m.arrays[0].data[:-1])),
    ]
    for bad in bad_headers:
        with pytest.raises(UnreadableRecord):
            predictions.decode([bad])
    with pytest.raises(UnreadableRecord):
        predictions.decode([])

    def drop(name):
        return lambda m: m.arrays.remove(next(a for a in m.arrays if a.name == name))

    def truncate(name):
        def edit(m):
            item = next(a for a in m.arrays if a.name == name)
            item.shape[0] -= 1
            item.data = item.data[: -np.dtype(item.dtype).itemsize]

        return edit

    def not_utf8(message):
        item = next(a for a in message.arrays if a.name == "id_utf8")
        item.data = b"\xff" * len(item.data)

    bad_bodies = [
        body[:-7],
        b"\xff\xff",
        edited_body(drop("density")),
        edited_body(drop("true")),
        edited_body(drop("id_utf8")),
        edited_body(truncate("pred")),
        edited_body(truncate("id_ends")),
        edited_body(not_utf8),
    ]
    for bad in bad_bodies:
        with pytest.raises(UnreadableRecord):
            predictions.read_body(parsed, bad)
    assert predictions.read_body(parsed, body).ids == [str(i) for i in range(50)]
    classification = predictions.decode(blobs_of(predictions.from_input([0, 1], np.eye(2))))
    assert predictions.read_body(classification, _proto.Arrays().SerializeToString()) is None
    with pytest.raises(UnreadableRecord):
        predictions.read_body(classification, body)
