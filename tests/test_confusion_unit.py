"""Unit tests: confusion-matrix encode → decode, metrics, and every bad-input case."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import f1_score, precision_recall_fscore_support
from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _proto
from modellens import confusion_matrix as cm
from modellens._writer import Writer


def round_trip(data: cm.ConfusionMatrix) -> cm.ConfusionMatrix:
    value = cm.encode("t", data)
    assert value.metadata.plugin_data.plugin_name == "modellens"
    assert value.metadata.data_class == summary_pb2.DATA_CLASS_TENSOR
    plugin_data = _metadata.parse_plugin_data(value.metadata.plugin_data.content)
    assert plugin_data.version == 1 and plugin_data.kind == _metadata.kind_number("CONFUSION_MATRIX")
    return cm.decode(np.array(list(value.tensor.string_val), dtype=object))


@pytest.mark.parametrize("largest", [0, 255, 256, 70_000, 2**33])
def test_round_trip_keeps_exact_counts_of_every_width(largest):
    counts = np.array([[largest, 1], [2, 3]], dtype=np.int64)
    back = round_trip(cm.ConfusionMatrix(counts=counts, class_names=["a", "b"]))
    np.testing.assert_array_equal(back.counts, counts)
    assert back.counts.dtype == np.int64
    assert back.class_names == ["a", "b"]


def test_round_trip_at_1000_classes_compresses():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 1000, 20_000)
    predicted = np.where(rng.random(20_000) < 0.8, truth, rng.integers(0, 1000, 20_000))
    data = cm.counts_from_labels(truth, predicted, labels=np.arange(1000))
    value = cm.encode("t", data)
    assert value.ByteSize() < 1000 * 1000 // 4  # far below even one byte per cell
    np.testing.assert_array_equal(
        round_trip(data).counts, sk_confusion_matrix(truth, predicted, labels=np.arange(1000))
    )


def test_counts_match_sklearn_for_integer_labels():
    rng = np.random.default_rng(1)
    truth, predicted = rng.integers(0, 7, 500), rng.integers(0, 7, 500)
    data = cm.counts_from_labels(truth, predicted)
    np.testing.assert_array_equal(data.counts, sk_confusion_matrix(truth, predicted, labels=range(7)))
    assert data.class_names == [str(i) for i in range(7)]


def test_string_labels_sort_like_sklearn_and_name_classes():
    truth = ["cat", "dog", "cat", "bird"]
    predicted = ["dog", "dog", "cat", "cat"]
    data = cm.counts_from_labels(truth, predicted)
    assert data.class_names == ["bird", "cat", "dog"]
    np.testing.assert_array_equal(data.counts, sk_confusion_matrix(truth, predicted))


def test_scores_are_reduced_by_argmax_and_one_hot_truth_accepted():
    truth = np.eye(3)[[0, 1, 2, 2]]
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    data = cm.counts_from_labels(truth, scores, class_names=["a", "b", "c"])
    np.testing.assert_array_equal(data.counts, sk_confusion_matrix([0, 1, 2, 2], [0, 1, 2, 0], labels=range(3)))


def test_a_column_of_labels_is_labels_not_scores():
    data = cm.counts_from_labels([[0], [1], [2]], np.array([[0], [1], [1]]))
    np.testing.assert_array_equal(data.counts, sk_confusion_matrix([0, 1, 2], [0, 1, 1], labels=range(3)))


def test_score_columns_follow_labels_and_string_class_names():
    scores = np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]])  # argmax: columns 2 and 0
    data = cm.counts_from_labels([0, 2], scores, labels=[2, 1, 0])  # column 0 is label 2
    np.testing.assert_array_equal(data.counts, sk_confusion_matrix([0, 2], [0, 2], labels=[2, 1, 0]))
    named = cm.counts_from_labels(["cat", "dog"], scores, class_names=["dog", "bird", "cat"])
    assert named.class_names == ["dog", "bird", "cat"]
    np.testing.assert_array_equal(named.counts, [[1, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_decode_refuses_counts_beyond_int64():
    step = _proto.ConfusionMatrixStep(num_classes=1, counts=np.array([2**64 - 1], "<u8").tobytes(), count_type=4)
    with pytest.raises(_metadata.UnreadableRecord, match="too large"):
        cm.decode(np.array([step.SerializeToString()], dtype=object))


def test_explicit_labels_fix_row_order():
    data = cm.counts_from_labels([10, 20, 30], [30, 20, 10], labels=[30, 20, 10])
    np.testing.assert_array_equal(data.counts, sk_confusion_matrix([10, 20, 30], [30, 20, 10], labels=[30, 20, 10]))
    assert data.class_names == ["30", "20", "10"]


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    data = cm.counts_from_labels(torch.tensor([0, 1, 1]), torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    np.testing.assert_array_equal(data.counts, [[1, 0], [1, 1]])


def test_tensorflow_tensors_are_accepted():
    tf = pytest.importorskip("tensorflow")
    data = cm.counts_from_labels(tf.constant([0, 1, 1]), tf.constant([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    np.testing.assert_array_equal(data.counts, [[1, 0], [1, 1]])
    strings = cm.counts_from_labels(tf.constant(["a", "b"]), tf.constant(["b", "b"]))
    assert strings.class_names == ["a", "b"]


def test_metrics_match_sklearn():
    rng = np.random.default_rng(2)
    truth, predicted = rng.integers(0, 5, 300), rng.integers(0, 4, 300)  # class 4 never predicted
    counts = cm.counts_from_labels(truth, predicted, labels=range(5)).counts
    scores = cm.metrics(counts)
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=range(5), zero_division=0)
    assert scores["precision"][4] is None  # undefined, not silently 0
    np.testing.assert_allclose(scores["precision"][:4], precision[:4])
    np.testing.assert_allclose(scores["recall"], recall)
    np.testing.assert_allclose(scores["f1"], f1)
    assert scores["support"] == support.tolist()
    assert scores["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    assert scores["accuracy"] == pytest.approx(np.mean(truth == predicted))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(y_true=[0, 1, 2], y_pred=[0, 1]), ValueError, "y_true has 3 samples but y_pred has 2"),
        (dict(y_true=[0, -1], y_pred=[0, 1]), ValueError, "negative label"),
        (dict(y_true=[0, 5], y_pred=[0, 1], labels=[0, 1, 2]), ValueError, "y_true contains the label 5"),
        (dict(y_true=[0, 1], y_pred=[0, 1], class_names=["a", "a"]), ValueError, "duplicate name 'a'"),
        (dict(y_true=[0, 3], y_pred=[0, 1], class_names=["a", "b"]), ValueError, "class_names has only 2"),
        (dict(y_true=[0.5, 1], y_pred=[0, 1]), ValueError, "non-integer floats"),
        (dict(y_true=[np.nan, 1], y_pred=[0, 1]), ValueError, "NaN"),
        (dict(y_true=["a", "b"], y_pred=[0, 1]), TypeError, "both be strings"),
        (dict(y_true=[0, 1], y_pred=[0, 1], class_names="ab"), TypeError, "not a single str"),
        (dict(y_true=[0, 1], y_pred=[0, 1], labels=[0, 0, 1]), ValueError, "labels has duplicates"),
        (dict(matrix=[[1, 2, 3], [4, 5, 6]]), ValueError, "square"),
        (dict(matrix=[[1, -2], [3, 4]]), ValueError, "negative count"),
        (dict(matrix=[[1.0, np.nan], [3, 4]]), ValueError, "NaN"),
        (dict(matrix=[[1.5, 2], [3, 4]]), ValueError, "non-integer"),
        (dict(matrix=[[1, 2], [3, 4]], class_names=["a"]), ValueError, "class_names has 1 entries"),
        (dict(matrix=[[1, 2], [3, 4]], y_true=[0]), ValueError, "not both"),
        (dict(y_true=[0, 1]), ValueError, "needs y_true and y_pred"),
        (dict(y_true=[0, 1], y_pred=[[np.nan, 1.0], [0.2, 0.8]]), ValueError, "NaN or Inf scores"),
        (dict(y_true=[0, 100_000], y_pred=[0, 1]), ValueError, "100001-class matrix"),
        (dict(y_true=[0, 1], y_pred=[0, 1], class_names=[]), ValueError, "class_names is empty"),
        (dict(y_true=[0, 1], y_pred=[0, 1], class_names=["a", "\ud800"]), ValueError, "not valid Unicode"),
        (dict(y_true=[1, "a"], y_pred=[1, 2]), TypeError, "mixes strings and numbers"),
        (dict(y_true=[0.9, 0.1], y_pred=[0, 1]), ValueError, "threshold"),
        (dict(y_true=["a", "b"], y_pred=[[0.9, 0.1], [0.2, 0.8]]), ValueError, "give class_names in column order"),
        (dict(y_true=[0, 1], y_pred=[[0.9, 0.1, 0], [0.2, 0.8, 0]], labels=[0, 1]), ValueError, "3 score columns"),
        (dict(matrix=np.array([[2**63, 1], [0, 2]], dtype=np.uint64)), ValueError, "too large"),
        # from the reliability run: each refusal names its argument, and nothing huge is allocated
        (dict(y_true=[0], y_pred=[99_999]), ValueError, "at most 4096 classes are inferred"),
        (dict(y_true=[0], y_pred=[40_000]), ValueError, "labels or class_names"),
        (dict(y_true=[0, 1], y_pred=[0, 1], labels=np.arange(20_000)), ValueError, "labels gives 20000 classes"),
        (dict(y_true=[b"\xff"], y_pred=[b"a"]), ValueError, "y_true holds bytes labels that are not UTF-8"),
        (dict(y_true=[0, 1], y_pred=[0, 1], step=2**63), ValueError, "step must be"),
        (dict(y_true=[0, 1], y_pred=[0, 1], tag="t\udc80"), ValueError, "tag"),
        (dict(y_true=[0, 1], y_pred=[0, 1], wall_time="noon"), TypeError, "wall_time"),
    ],
)
def test_bad_input_raises_a_clear_error_and_writes_nothing(tmp_path, kwargs, error, words):
    with Writer(tmp_path) as writer:
        path = writer.path
        writer.flush()
        size_before = (tmp_path / path.split("/")[-1]).stat().st_size
        with pytest.raises(error, match=words.replace("(", r"\(")):
            writer.confusion_matrix(**{"tag": "val/confusion", "step": 0, **kwargs})
        writer.flush()
        assert (tmp_path / path.split("/")[-1]).stat().st_size == size_before


@pytest.mark.parametrize("step", [-1, 1.5, True, None])
def test_bad_steps_and_tags_are_rejected(tmp_path, step):
    with Writer(tmp_path) as writer:
        with pytest.raises((TypeError, ValueError), match="step"):
            writer.confusion_matrix("t", [0], [0], step=step)
        with pytest.raises(TypeError, match="tag"):
            writer.confusion_matrix("", [0], [0], step=0)


def test_decode_rejects_malformed_payloads():
    with pytest.raises(_metadata.UnreadableRecord):
        cm.decode(np.array([b"\xff\xff garbage"], dtype=object))
    with pytest.raises(_metadata.UnreadableRecord):
        cm.decode(np.array([1.0]))
    step = _proto.ConfusionMatrixStep(num_classes=3, counts=b"\x01\x02", count_type=1)
    with pytest.raises(_metadata.UnreadableRecord, match="num_classes"):
        cm.decode(np.array([step.SerializeToString()], dtype=object))


def test_newer_versions_are_skipped_with_one_warning(caplog):
    content = _proto.PluginData(version=99, kind=1).SerializeToString()
    with caplog.at_level("WARNING"):
        for _ in range(3):
            with pytest.raises(_metadata.UnreadableRecord):
                _metadata.check_version(_metadata.parse_plugin_data(content), cm.VERSION)
    assert sum("version 99" in r.getMessage() for r in caplog.records) == 1
