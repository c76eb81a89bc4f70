"""``modellens.keras.Callback(..., heatmaps=[variable paths])`` with real Keras 3 (TensorFlow
backend): the variables' values at the logged steps, read back from the event files."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
if keras.backend.backend() != "tensorflow":  # pragma: no cover
    pytest.skip("modellens.keras needs the TensorFlow backend", allow_module_level=True)

import modellens  # noqa: E402
import modellens.keras  # noqa: E402
from harness import modellens_values  # noqa: E402
from heatmap_logs import read_heatmaps  # noqa: E402

BATCH = 8


def data(seed: int = 0, shape: tuple[int, ...] = (5,)):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, *shape)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    return x, y


def dense_model(seed: int = 0, **compile_args):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((5,))
    h = keras.layers.Dense(6, activation="tanh", name="first")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", **compile_args)
    return model


class After(keras.callbacks.Callback):
    """The weights after each optimizer step, by step."""

    def __init__(self):
        super().__init__()
        self.after = {}

    def on_train_begin(self, logs=None):
        self.after[0] = {v.path: v.numpy().copy() for v in self.model.weights}

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        self.after[step] = {v.path: v.numpy().copy() for v in self.model.weights}


def test_variables_are_logged_at_the_weights_steps_with_their_values(tmp_path):
    x, y = data()
    model = dense_model()
    probe = After()
    callback = modellens.keras.Callback(tmp_path, every=3, heatmaps=["first/kernel", "head/bias"])
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[probe, callback])
    logged = read_heatmaps(tmp_path)
    assert set(logged) == {"heatmaps/first/kernel", "heatmaps/head/bias"}
    for path in ("first/kernel", "head/bias"):
        assert sorted(logged[f"heatmaps/{path}"]) == [0, 3, 6]
        for step in (0, 3, 6):
            header, body = logged[f"heatmaps/{path}"][step]
            expected = probe.after[step][path]
            assert header.shape == expected.shape and header.dtype == "float32"
            np.testing.assert_array_equal(body.values.reshape(expected.shape), expected)
    assert logged["heatmaps/head/bias"][3][0].layout == "row"
    assert {tag for tag, _, _ in modellens_values(tmp_path)} >= {"weights", "gradients", "updates"}


def test_steps_per_execution_logs_the_values_of_the_logged_steps(tmp_path):
    x, y = data()
    reference = dense_model()
    reference.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[modellens.keras.Callback(tmp_path / "one", every=3, log=(), heatmaps="first/kernel")],
    )
    chunked = dense_model(steps_per_execution=4)
    chunked.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[modellens.keras.Callback(tmp_path / "four", every=3, log=(), heatmaps="first/kernel")],
    )
    one = read_heatmaps(tmp_path / "one")["heatmaps/first/kernel"]
    four = read_heatmaps(tmp_path / "four")["heatmaps/first/kernel"]
    assert sorted(one) == sorted(four) == [0, 3, 6, 9, 12, 15]
    for step in one:
        np.testing.assert_allclose(four[step][1].values, one[step][1].values, rtol=1e-5, atol=1e-7)
    tags = {tag for tag, _, _ in modellens_values(tmp_path / "one")}
    assert tags == {"heatmaps/first/kernel", "model"}  # log=(): the heatmaps (and the graph) only


def test_a_conv_kernel_is_drawn_as_its_grid_of_kernels(tmp_path):
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(keras.layers.GlobalAveragePooling2D()(h)))
    model.compile(optimizer="sgd", loss="mse")
    x, y = data(shape=(6, 6, 2))
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        verbose=0,
        callbacks=[modellens.keras.Callback(tmp_path, every=8, heatmaps=["conv/kernel"])],
    )
    header, body = read_heatmaps(tmp_path)["heatmaps/conv/kernel"][8]
    kernel = model.get_layer("conv").kernel.numpy()  # [kh, kw, in, out]
    assert header.layout == "kernels" and header.channels_last and header.geometry.grid == (4, 2)
    for out in range(4):
        for channel in range(2):
            np.testing.assert_array_equal(
                body.values[out * 3 : out * 3 + 3, channel * 3 : channel * 3 + 3], kernel[:, :, channel, out]
            )


def test_an_unknown_path_is_refused_when_fit_starts_listing_the_valid_ones(tmp_path):
    x, y = data()
    model = dense_model()
    callback = modellens.keras.Callback(tmp_path, every=3, heatmaps=["first/kernal"])
    with pytest.raises(ValueError, match="heatmaps names 'first/kernal'") as caught:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[callback])
    message = str(caught.value)
    assert "did you mean 'first/kernel'" in message and "head/bias" in message
    assert "apply" not in vars(model.optimizer)  # nothing was wrapped
    assert read_heatmaps(tmp_path) == {}
    for bad, error in ((3, TypeError), ([1], TypeError)):
        with pytest.raises(error, match="heatmaps"):
            modellens.keras.Callback(tmp_path, heatmaps=bad)
    with pytest.raises(ValueError, match="log"):
        modellens.keras.Callback(tmp_path, log=())
