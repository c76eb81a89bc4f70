"""``modellens.keras.Callback(attention_example=...)``: MultiHeadAttention scores on a held example.

Ground truth is Keras itself: each layer called by hand with ``return_attention_scores=True`` on
its input (recomputed from the model's weights after ``fit``); what the callback logged is read
back from the event files.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
if keras.backend.backend() != "tensorflow":  # pragma: no cover
    pytest.skip("modellens.keras needs the TensorFlow backend", allow_module_level=True)

import modellens  # noqa: E402
import modellens.keras  # noqa: E402
from attention_logs import read_attention  # noqa: E402
from modellens import keras as mlkeras  # noqa: E402
from modellens.attention import keras_capture  # noqa: E402

T, D, HEADS = 8, 8, 2
TOKENS = [f"<{i}>" for i in range(T)]
BATCH, SAMPLES = 8, 32  # 4 steps per epoch


def model_with_two_mha(seed: int = 0, dropout: float = 0.1):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((T, D))
    h = keras.layers.Dense(D, name="embed")(inputs)
    a = keras.layers.MultiHeadAttention(HEADS, 4, dropout=dropout, name="mha_1")(h, h)
    h2 = keras.layers.Add(name="residual")([h, a])
    b = keras.layers.MultiHeadAttention(HEADS, 4, dropout=dropout, name="mha_2")(h2, h2)
    outputs = keras.layers.Dense(1, name="head")(keras.layers.GlobalAveragePooling1D()(b))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(SAMPLES, T, D)).astype("float32")
    return x, x[:, :, 0].mean(axis=1, keepdims=True)


def manual_scores(model, x):
    """Each MHA layer called by hand on its input: [B, H, T, T] scores."""
    h = model.get_layer("embed")(x)
    a, first = model.get_layer("mha_1")(h, h, return_attention_scores=True)
    h2 = model.get_layer("residual")([h, a])
    _, second = model.get_layer("mha_2")(h2, h2, return_attention_scores=True)
    return [np.asarray(first), np.asarray(second)]


def assert_record(record, expected, names) -> None:
    header = record.header
    assert (header.layers, header.heads, header.queries, header.keys) == (len(expected), HEADS, T, T)
    assert header.layer_names == names and header.tokens == TOKENS
    for layer, scores in enumerate(expected):
        for head in range(HEADS):
            stored = record.quantized(layer, head)
            error = np.abs(stored.dense() - scores[0, head])
            assert np.all(error <= stored.scales[:, None] / 510 + 1e-6), (layer, head)
            assert error.max() <= header.max_error + 1e-6


def mha_layers(model):
    return [
        layer for layer in model._flatten_layers(recursive=True) if isinstance(layer, keras.layers.MultiHeadAttention)
    ]


def test_scores_of_a_functional_model_every_n_epochs(tmp_path):
    model = model_with_two_mha()
    x, y = data()
    held = x[:1]
    callback = mlkeras.Callback(
        str(tmp_path), every=4, log=("weights",), graph=False, attention_example=(held, TOKENS), attention_every=2
    )
    model.fit(x, y, batch_size=BATCH, epochs=4, verbose=0, callbacks=[callback])
    logs = read_attention(tmp_path)
    assert list(logs) == ["attention"]
    assert sorted(logs["attention"]) == [0, 8, 16]  # start, then every 2 epochs (4 steps each)
    assert_record(logs["attention"][16], manual_scores(model, held), ["mha_1", "mha_2"])
    assert not np.array_equal(logs["attention"][0].map(0, 0), logs["attention"][16].map(0, 0))
    for layer in mha_layers(model):
        assert "call" not in layer.__dict__  # the class's call again
    # the model still trains and predicts as before
    before = model.predict(held, verbose=0)
    np.testing.assert_allclose(model(held, training=False), before, rtol=1e-5, atol=1e-6)


def test_nested_model_and_a_caller_that_asks_for_scores(tmp_path):
    keras.utils.set_random_seed(1)
    inner_in = keras.Input((T, D))
    mha = keras.layers.MultiHeadAttention(HEADS, 4, name="mha")
    out, scores = mha(inner_in, inner_in, return_attention_scores=True)  # the model itself asks
    inner = keras.Model(inner_in, [out, scores], name="block")
    inputs = keras.Input((T, D))
    h, s = inner(inputs)
    outer_mha = keras.layers.MultiHeadAttention(HEADS, 4, name="top")
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(outer_mha(h, h)))
    model = keras.Model(inputs, [outputs, s])
    x = data(1)[0][:1]
    plain = model(x, training=False)
    found = []
    keras_capture.capture(model, x, lambda name, scores: found.append((name, np.asarray(scores))))
    assert [name for name, _ in found] == ["block/mha", "top"]
    np.testing.assert_allclose(found[0][1], np.asarray(plain[1]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(x, training=False)[0], plain[0], rtol=1e-5, atol=1e-6)
    assert all("call" not in layer.__dict__ for layer in (mha, outer_mha))
    records, skipped = keras_capture.records(model, x, TOKENS, None)
    assert [(tag, collector.names) for tag, collector in records] == [("attention", ["block/mha", "top"])]
    assert skipped == []


def test_call_restored_when_the_forward_raises():
    model = model_with_two_mha()
    wrong = np.zeros((1, T, D + 3), "float32")
    with pytest.raises(ValueError):
        keras_capture.capture(model, wrong, lambda name, scores: None)
    assert all("call" not in layer.__dict__ for layer in mha_layers(model))
    layer = mha_layers(model)[0]
    own = layer.call  # an instance override the user made stays in place
    layer.__dict__["call"] = own
    keras_capture.capture(model, data()[0][:1], lambda name, scores: None)
    assert layer.__dict__["call"] is own


def test_bad_attention_example_raises_and_writes_nothing(tmp_path):
    model = model_with_two_mha()
    x, y = data()
    callback = mlkeras.Callback(str(tmp_path), graph=False, attention_example=(x[:1], TOKENS[:-1]))
    with pytest.raises(ValueError, match="no MultiHeadAttention call on x matches"):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[callback])
    assert all("call" not in layer.__dict__ for layer in mha_layers(model))
    assert not os.path.exists(tmp_path) or not os.listdir(tmp_path)  # raised before opening the writer
    assert "apply" not in model.optimizer.__dict__  # nor wrapping the optimizer
    with pytest.raises(TypeError, match=r"attention_example must be a tuple \(x, tokens\)"):
        mlkeras.Callback(str(tmp_path), attention_example=x[:1])
    with pytest.raises(TypeError, match=r"tokens\[1\] is a int"):
        mlkeras.Callback(str(tmp_path), attention_example=(x[:1], ["a", 1]))
    with pytest.raises(ValueError, match="attention_every must be a positive int"):
        mlkeras.Callback(str(tmp_path), attention_example=(x[:1], TOKENS), attention_every=0)
    dense_only = keras.Sequential([keras.Input((D,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="no keras.layers.MultiHeadAttention"):
        keras_capture.capture(dense_only, np.zeros((1, D), "float32"), lambda name, scores: None)


def test_writer_target_and_no_attention_by_default(tmp_path):
    model = model_with_two_mha(dropout=0.0)
    x, y = data()
    with modellens.Writer(tmp_path / "run") as writer:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[mlkeras.Callback(writer, graph=False)])
        assert read_attention(tmp_path / "run") == {}
        callback = mlkeras.Callback(writer, graph=False, attention_example=(x[:1], TOKENS))
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[callback])
    logs = read_attention(tmp_path / "run")
    assert sorted(logs["attention"]) == [8]  # resumed at 4 steps: no step-0 record, then epoch end
