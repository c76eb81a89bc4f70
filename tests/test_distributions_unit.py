"""Distributions without a server: wire round trip, input validation, verdicts on built series,
and statistics of standard TensorBoard histogram buckets."""

from __future__ import annotations

import numpy as np
import pytest

import modellens
from modellens import _metadata, _proto, distributions
from modellens.distributions import health, series, tensorboard_histograms
from modellens.distributions.stats import Stats


def round_trip(data: distributions.Distributions) -> distributions.Distributions:
    value = distributions.encode("t", data)
    assert value.metadata.plugin_data.plugin_name == "modellens"
    return distributions.decode(np.array([value.tensor.string_val[0]], dtype=object))


def test_round_trip_keeps_every_field():
    rng = np.random.default_rng(0)
    tensors = {
        "conv.weight": rng.normal(size=(8, 3, 3, 3)).astype(np.float32),
        "conv.bias": np.array([0.0, np.nan, np.inf, -np.inf]),
        "scalar": np.float64(3.5),
        "empty": np.zeros((0, 4)),
        "ints": np.arange(1000, dtype=np.int32),
    }
    data = distributions.from_input(tensors, extras={"update_ratio": {"conv.weight": 1e-3}})
    back = round_trip(data)
    assert back.names == list(tensors)
    assert back.shapes == [(8, 3, 3, 3), (4,), (), (0, 4), (1000,)]
    assert back.dtypes == ["float32", "float64", "float64", "float64", "int32"]
    for field in ("counts", "values", "percentiles", "histograms"):
        np.testing.assert_array_equal(getattr(back.stats, field), getattr(data.stats, field))
    np.testing.assert_array_equal(back.extras["update_ratio"], [1e-3, np.nan, np.nan, np.nan, np.nan])
    assert back.stats.counts[1].tolist() == [4, 1, 1, 1, 1]
    assert back.stats.values[1, 0] == 0.0 and back.stats.values[1, 1] == 0.0  # the finite values


def test_a_large_step_is_compressed():
    tensors = {f"layer{i}.weight": np.zeros((64, 64)) for i in range(200)}
    value = distributions.encode("t", distributions.from_input(tensors))
    assert len(value.tensor.string_val[0]) < 10_000


@pytest.mark.parametrize(
    "raw",
    [
        np.array([b"\xff\xfe not a message"], dtype=object),
        np.array([1.0]),
        np.array([b"a", b"b"], dtype=object),
        np.array(
            [_proto.DistributionsStep(names=["a"], dtypes=["f"], bins=64, arrays=b"\x01").SerializeToString()],
            dtype=object,
        ),
        np.array([_proto.DistributionsStep(names=["a"], dtypes=[], bins=64).SerializeToString()], dtype=object),
        np.array([_proto.DistributionsStep(names=["a"], dtypes=["f"], bins=0).SerializeToString()], dtype=object),
        np.array(
            [
                _proto.DistributionsStep(
                    names=["a"], dtypes=["f"], bins=64, compression=1, arrays=b"zz"
                ).SerializeToString()
            ],
            dtype=object,
        ),
    ],
)
def test_malformed_steps_are_unreadable_records(raw):
    with pytest.raises(_metadata.UnreadableRecord):
        distributions.decode(raw)


def test_a_step_naming_a_tensor_twice_is_refused():
    value = distributions.encode("t", distributions.from_input({"a": np.ones(3), "b": np.ones(3)}))
    step = _proto.DistributionsStep.FromString(value.tensor.string_val[0])
    step.names[1] = "a"
    with pytest.raises(_metadata.UnreadableRecord, match="twice"):
        distributions.decode(np.array([step.SerializeToString()], dtype=object))


def test_arrays_longer_than_their_header_are_refused():
    value = distributions.encode("t", distributions.from_input({"a": np.ones(3)}))
    step = _proto.DistributionsStep.FromString(value.tensor.string_val[0])
    step.arrays += b"\0" * 8
    with pytest.raises(_metadata.UnreadableRecord, match="longer"):
        distributions.decode(np.array([step.SerializeToString()], dtype=object))


def test_a_torch_module_logs_its_parameters_tied_once():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 10, bias=False))
    model[1].weight = model[0].weight  # tied
    data = distributions.from_input(model)
    assert data.names == ["0.weight"]
    assert data.shapes == [(10, 4)]


def test_a_users_own_module_class_is_a_model():
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):  # defined here, not in torch: its bases say what it is
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)

    data = distributions.from_input(Net())
    assert data.names == ["fc.weight", "fc.bias"]


@pytest.mark.parametrize(
    "values",
    [np.array([0.0, 1e-310, 5e-311]), np.array([-1e308, 1e308, 0.0]), np.array([-np.finfo(np.float64).max, 1.0])],
    ids=["denormal range", "range overflows", "float64 extremes"],
)
def test_extreme_float64_ranges_are_binned_exactly_once(values):
    stats = distributions.from_input({"x": values}).stats
    assert stats.histograms.sum() == values.size
    assert stats.values[0, 0] == values.min() and stats.values[0, 1] == values.max()
    assert stats.histograms[0, 0] >= 1 and stats.histograms[0, -1] >= 1  # min in the first bin, max in the last


@pytest.mark.parametrize(
    "tensors, extras, error, words",
    [
        ({}, None, ValueError, "tensors is empty"),
        ([1, 2, 3], None, TypeError, "mapping name"),
        ({1: np.ones(2)}, None, TypeError, "must all be str"),
        ({"a\ud800": np.ones(2)}, None, ValueError, "not valid Unicode"),
        ({"a": np.ones(2, dtype=complex)}, None, TypeError, r"tensors\['a'\] has dtype complex128"),
        ({"a": np.array(["x"])}, None, TypeError, r"tensors\['a'\]"),
        ({"a": np.ones(2, dtype=bool)}, None, TypeError, "real numbers"),
        ({"a": np.ones(2)}, {"update_ratio": {"b": 1.0}}, ValueError, "not one of the tensors"),
        ({"a": np.ones(2)}, {"bad name": {"a": 1.0}}, ValueError, "identifiers"),
        ({"a": np.ones(2)}, {"norm": {"a": 1.0}}, ValueError, "standard statistic"),
        ({"": np.ones(2)}, None, ValueError, "empty tensor name"),
        ({"a": np.ones(2)}, {"update_ratio": {"a": "x"}}, TypeError, "must be a number"),
        ({"a": np.ones(2)}, [1], TypeError, "extras must be a mapping"),
    ],
)
def test_bad_input_names_the_argument_and_writes_nothing(tmp_path, tensors, extras, error, words):
    with modellens.Writer(tmp_path) as writer:
        writer.flush()
        size = (tmp_path / writer.path.split("/")[-1]).stat().st_size
        with pytest.raises(error, match=words):
            writer.distributions("weights", tensors, step=0, extras=extras)
        writer.flush()
        assert (tmp_path / writer.path.split("/")[-1]).stat().st_size == size


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(tag="", step=0), TypeError, "tag must be"),
        (dict(tag="t\udc80", step=0), ValueError, "tag"),
        (dict(tag="t", step=-1), ValueError, "step"),
        (dict(tag="t", step=2**63), ValueError, "step"),
        (dict(tag="t", step=1.0), TypeError, "step"),
        (dict(tag="t", step=0, wall_time="noon"), TypeError, "wall_time"),
        (dict(tag="t", step=0, wall_time=float("nan")), ValueError, "wall_time"),
    ],
)
def test_bad_tag_step_and_wall_time(tmp_path, kwargs, error, words):
    with modellens.Writer(tmp_path) as writer, pytest.raises(error, match=words):
        writer.distributions(tensors={"a": np.ones(2)}, **kwargs)


# ---------------------------------------------------------------------------- verdicts


def make_step(norms: dict[str, float], *, shapes=None, nan: dict[str, int] | None = None, extras=None):
    """A Distributions step whose tensors have the given L2 norms (other fields consistent)."""
    names = list(norms)
    count = len(names)
    counts = np.zeros((count, 5), dtype=np.int64)
    counts[:, 0] = 100
    for name, value in (nan or {}).items():
        counts[names.index(name), 2] = value
    norm = np.array([norms[n] for n in names])
    values = np.stack([-norm / 10, norm / 10, np.zeros(count), norm / 10, norm], axis=1)
    stats = Stats(counts, values, np.zeros((count, 7)), np.zeros((count, 64), dtype=np.int64))
    extra_columns = {k: np.array([v.get(n, np.nan) for n in names]) for k, v in (extras or {}).items()}
    return distributions.Distributions(names, shapes or [(10, 10)] * count, ["float32"] * count, stats, extra_columns)


def tag_series(steps: list) -> series.TagSeries:
    return series.assemble([(10 * i, float(i), data) for i, data in enumerate(steps)])


LAYERS = [f"layers.{i}.weight" for i in range(8)]


def test_a_healthy_run_has_no_verdict():
    rng = np.random.default_rng(0)
    gradients = tag_series([make_step({n: 0.1 * np.exp(rng.normal(0, 0.1)) for n in LAYERS}) for _ in range(30)])
    weights = tag_series([make_step({n: 5 + 0.01 * i for n in LAYERS}) for i in range(30)])
    updates = tag_series(
        [make_step({n: 0.01 for n in LAYERS}, extras={"update_ratio": {n: 2e-3 for n in LAYERS}}) for _ in range(30)]
    )
    assert health.verdicts({"gradients": gradients, "weights": weights, "updates": updates}) == []


def test_vanishing_gradients_name_the_early_layers():
    steps = [make_step({n: 10.0 ** (-6 + i) for i, n in enumerate(LAYERS)}) for _ in range(10)]
    (verdict,) = health.verdicts({"gradients": tag_series(steps)})
    assert verdict.kind == "vanishing_gradients" and verdict.tensors == LAYERS[:2]
    assert verdict.first_step == 0 and verdict.last_step == 90
    assert verdict.evidence["ratio_median"] < 1e-3


def test_nonfinite_and_exploding_gradients_give_their_first_step():
    steps = [make_step({n: 1.0 for n in LAYERS}) for _ in range(6)]
    steps.append(make_step({n: 500.0 for n in LAYERS}))  # step 60: ×500 the median
    steps += [make_step({n: 1.0 for n in LAYERS}, nan={LAYERS[3]: 7}) for _ in range(3)]  # from step 70
    found = {v.kind: v for v in health.verdicts({"gradients": tag_series(steps)})}
    assert set(found) == {"nonfinite", "exploding_gradients"}
    assert found["nonfinite"].first_step == 70 and found["nonfinite"].tensors == [LAYERS[3]]
    assert found["nonfinite"].evidence["at_first_step"]["nan"] == 7
    assert found["exploding_gradients"].first_step == 60 and found["exploding_gradients"].evidence[
        "ratio"
    ] == pytest.approx(500)


def test_update_ratios_outside_the_band_and_thresholds_that_move():
    ratios = {LAYERS[0]: 0.05, LAYERS[1]: 1e-6, **{n: 1e-3 for n in LAYERS[2:]}}
    updates = tag_series([make_step({n: 1.0 for n in LAYERS}, extras={"update_ratio": ratios}) for _ in range(10)])
    found = {v.kind: v for v in health.verdicts({"updates": updates})}
    assert found["update_ratio_high"].tensors == [LAYERS[0]]
    assert found["update_ratio_low"].tensors == [LAYERS[1]]
    loose = health.Thresholds(update_ratio_low=1e-7, update_ratio_high=0.1)
    assert health.verdicts({"updates": updates}, loose) == []


def test_dead_units_and_weights_that_never_change():
    activations = tag_series(
        [
            make_step({"relu1": 1.0, "relu2": 1.0}, extras={"dead_fraction": {"relu1": 0.8, "relu2": 0.0}})
            for _ in range(5)
        ]
    )
    weights = tag_series([make_step({"a.weight": 3.0, "b.weight": 3.0 + i}) for i in range(5)])
    gradients = tag_series([make_step({"a.weight": 0.1, "b.weight": 0.1}) for _ in range(5)])
    found = {
        v.kind: v
        for v in health.verdicts({"enc/activations": activations, "enc/weights": weights, "enc/gradients": gradients})
    }
    assert found["dead_units"].tensors == ["relu1"] and found["dead_units"].tag == "enc/activations"
    assert found["weights_not_updating"].tensors == ["a.weight"]


def test_tensors_that_appear_later_are_absent_before():
    table = tag_series([make_step({"a": 1.0}), make_step({"a": 2.0, "b": 3.0})])
    assert table.names == ["a", "b"]
    assert np.isnan(table.table["norm"][1, 0]) and table.table["norm"][1, 1] == 3.0
    assert table.present.tolist() == [[True, True], [False, True]]


# ---------------------------------------------------------------------------- old logs


def test_statistics_of_tensorboard_buckets():
    rng = np.random.default_rng(1)
    values = rng.normal(2.0, 0.5, 100_000)
    counts, edges = np.histogram(values, bins=30)
    buckets = np.stack([edges[:-1], edges[1:], counts], axis=1)
    stats = tensorboard_histograms.stats_of(tensorboard_histograms.decode(buckets))
    assert stats.counts[0].tolist() == [100_000, -1, -1, -1, -1]  # zeros/NaN/Inf unknown
    assert stats.values[0, 0] == edges[0] and stats.values[0, 1] == edges[-1]
    assert stats.values[0, 2] == pytest.approx(2.0, abs=0.01)
    assert stats.values[0, 3] == pytest.approx(0.5, rel=0.05)
    assert stats.percentiles[0, 3] == pytest.approx(2.0, abs=(edges[1] - edges[0]))
    columns = series.step_columns(tensorboard_histograms.as_distributions([("h", buckets)]))
    assert np.isnan(columns["zeros"][0]) and np.isnan(columns["nonfinite"][0])
    with pytest.raises(_metadata.UnreadableRecord):
        tensorboard_histograms.decode(np.ones((3, 2)))


def test_a_body_with_infinity_is_still_json():
    import json

    from modellens.tb_plugin.routes import _finite_or_null

    body = {"a": [1.0, float("inf"), {"b": float("nan")}], "c": (2, -float("inf")), "d": "x"}
    assert json.loads(json.dumps(_finite_or_null(body), allow_nan=False)) == {
        "a": [1.0, None, {"b": None}],
        "c": [2, None],
        "d": "x",
    }


def test_reduced_parts_merge_into_one_step_and_are_written_as_they_are(tmp_path):
    first = distributions.from_input({"a": np.arange(4.0)}, extras={"update_ratio": {"a": 0.5}})
    second = distributions.from_input({"b": np.ones(3)})
    merged = distributions.merge([first, second])
    assert merged.names == ["a", "b"] and merged.stats.counts[:, 0].tolist() == [4, 3]
    np.testing.assert_array_equal(merged.extras["update_ratio"], [0.5, np.nan])
    with pytest.raises(ValueError, match="duplicate"):
        distributions.merge([first, first])
    with modellens.Writer(tmp_path) as writer:
        writer.distributions("t", merged, step=0)
        with pytest.raises(TypeError, match="extras belong inside"):
            writer.distributions("t", merged, step=1, extras={"x": {"a": 1.0}})
