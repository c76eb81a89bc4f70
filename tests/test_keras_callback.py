"""``modellens.keras.Callback`` with real Keras 3 (TensorFlow backend), tiny models, real event files.

Ground truth comes from the training itself: a probe callback snapshots the weights before each
optimizer step, recomputes that step's gradients with a ``tf.GradientTape`` on the same batch and
reads the weights after it; what ModelLens logged is read back from the event files through
TensorBoard's ``EventAccumulator`` and ``modellens.distributions.decode``.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
if keras.backend.backend() != "tensorflow":  # pragma: no cover
    pytest.skip("modellens.keras needs the TensorFlow backend", allow_module_level=True)

import modellens  # noqa: E402
import modellens.keras  # noqa: E402
from modellens import distributions, graph  # noqa: E402
from modellens.distributions.stats import VALUE_FIELDS  # noqa: E402

MIN, MAX, MEAN, NORM = (VALUE_FIELDS.index(f) for f in ("min", "max", "mean", "norm"))
BATCH = 8
SAMPLES = 64  # 8 batches per epoch


def read_run(logdir):
    """``{tag: [(step, Distributions), ...]}`` from every event file of ``logdir``, in order (the
    graph the callback logs is under ``"model"``, as ``modellens.graph.Graph``)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    out = {}
    for path in sorted(glob.glob(os.path.join(str(logdir), "events.out.tfevents.*"))):
        accumulator = EventAccumulator(path, size_guidance={"tensors": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["tensors"]:
            for event in accumulator.Tensors(tag):
                decode = graph.decode if tag == "model" else distributions.decode
                value = decode(tensor_util.make_ndarray(event.tensor_proto))
                out.setdefault(tag, []).append((event.step, value))
    return out


def steps(records, tag):
    return [step for step, _ in records.get(tag, [])]


def at(records, tag, step):
    (value,) = [v for s, v in records[tag] if s == step]
    return value


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(SAMPLES, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 2)) + 0.1).astype("float32")
    return x, y


def build(*, frozen=True, seed=0, **compile_args):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((5,))
    h = keras.layers.Dense(6, activation="tanh", name="first")(inputs)
    h = keras.layers.Dense(6, activation="tanh", name="frozen")(h)
    outputs = keras.layers.Dense(2, name="head")(h)
    model = keras.Model(inputs, outputs)
    model.get_layer("frozen").trainable = not frozen
    compile_args.setdefault("optimizer", keras.optimizers.Adam(1e-2))
    model.compile(loss="mse", **compile_args)
    return model


class Probe(keras.callbacks.Callback):
    """Per optimizer step s (1-based): weights before, tape gradients on the batch, weights after."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y
        self.before, self.after, self.grads = {}, {}, {}
        self.batch_grads = []  # per micro-batch, in order

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy()) + 1
        self.before[step] = {v.path: v.numpy().copy() for v in self.model.weights}
        xb = self.x[batch * BATCH : (batch + 1) * BATCH]
        yb = self.y[batch * BATCH : (batch + 1) * BATCH]
        with tf.GradientTape() as tape:
            loss = keras.losses.MeanSquaredError()(yb, self.model(xb, training=True))
        variables = self.model.trainable_weights
        self.grads[step] = {v.path: g.numpy() for v, g in zip(variables, tape.gradient(loss, variables))}
        self.batch_grads.append(self.grads[step])

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        self.after[step] = {v.path: v.numpy().copy() for v in self.model.weights}


def assert_stats_match(value, arrays, rtol=1e-4):
    """Logged min/max/mean/norm of each tensor equal those of ``arrays`` (name → numpy)."""
    assert value.names == list(arrays)
    for t, name in enumerate(value.names):
        reference = arrays[name].astype(np.float64)
        scale = max(np.abs(reference).max(), 1e-30)
        expected = [reference.min(), reference.max(), reference.mean(), np.linalg.norm(reference)]
        got = value.stats.values[t, [MIN, MAX, MEAN, NORM]]
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-6 * scale, err_msg=name)


# ---------------------------------------------------------------------------- gradients, updates, weights


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One epoch of 8 steps, every=3, probed: logs at 3 and 6 (and the initial weights at 0)."""
    logdir = tmp_path_factory.mktemp("keras_grads")
    x, y = data()
    model = build()
    probe = Probe(x, y)
    initial = {v.path: v.numpy().copy() for v in model.weights}
    keras_board = keras.callbacks.TensorBoard(str(logdir / "keras"), update_freq=3)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[probe, keras_board, modellens.keras.Callback(str(logdir / "modellens"), every=3)],
    )
    return model, probe, initial, read_run(logdir / "modellens"), logdir / "keras" / "train"


def test_steps_are_those_of_keras_tensorboard_callback(trained):
    """Step = optimizer.iterations after the update; every=3 logs where update_freq=3 does."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, _, _, records, keras_dir = trained
    assert steps(records, "weights") == [0, 3, 6]
    assert steps(records, "gradients") == [3, 6]
    assert steps(records, "updates") == [3, 6]
    accumulator = EventAccumulator(str(keras_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert [event.step for event in accumulator.Tensors("batch_loss")] == [3, 6]


def test_logged_gradients_match_a_gradient_tape_on_the_same_batch(trained):
    _, probe, _, records, _ = trained
    for step in (3, 6):
        assert_stats_match(at(records, "gradients", step), probe.grads[step], rtol=1e-4)


def test_frozen_weights_are_logged_but_have_no_gradients_or_updates(trained):
    _, _, _, records, _ = trained
    trainable = ["first/kernel", "first/bias", "head/kernel", "head/bias"]
    assert at(records, "weights", 3).names == [
        "first/kernel",
        "first/bias",
        "frozen/kernel",
        "frozen/bias",
        "head/kernel",
        "head/bias",
    ]
    assert at(records, "gradients", 3).names == trainable
    assert at(records, "updates", 3).names == trainable


def test_updates_are_the_weight_change_of_the_logged_step_with_their_ratio(trained):
    _, probe, _, records, _ = trained
    for step in (3, 6):
        value = at(records, "updates", step)
        delta = {n: probe.after[step][n] - probe.before[step][n] for n in value.names}
        assert_stats_match(value, delta, rtol=1e-5)
        ratio = [
            np.linalg.norm(delta[n]) / np.linalg.norm(probe.before[step][n].astype(np.float64)) for n in value.names
        ]
        np.testing.assert_allclose(value.extras["update_ratio"], ratio, rtol=1e-5)


def test_weights_are_those_after_the_logged_step_and_the_initial_ones_at_zero(trained):
    _, probe, initial, records, _ = trained
    assert_stats_match(at(records, "weights", 0), initial, rtol=1e-6)
    for step in (3, 6):
        assert_stats_match(at(records, "weights", step), probe.after[step], rtol=1e-6)


def test_training_is_unwrapped_after_fit(trained):
    model, _, _, _, _ = trained
    optimizer = model.optimizer
    assert "apply" not in vars(optimizer) and "_backend_update_step" not in vars(optimizer)
    assert optimizer.apply.__func__ is type(optimizer).apply
    assert model.train_function is None


# ---------------------------------------------------------------------------- executions


def fit_logged(logdir, *, every, epochs=2, **compile_args):
    x, y = data()
    model = build(**compile_args)
    callback = modellens.keras.Callback(str(logdir), every=every)
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=[callback])
    return model, read_run(logdir)


def test_steps_per_execution_and_xla_log_the_same_steps_and_values(tmp_path):
    """16 steps, every=3. spe=1 is the reference; spe=5 under XLA (executions end mid-way and
    at epoch ends), spe=8 (two logging steps in one execution) and run_eagerly log the same."""
    _, reference = fit_logged(tmp_path / "spe1", every=3, jit_compile=False)
    assert steps(reference, "weights") == [0, 3, 6, 9, 12, 15]
    assert steps(reference, "gradients") == steps(reference, "updates") == [3, 6, 9, 12, 15]
    for name, args in (
        ("spe5_xla", dict(steps_per_execution=5, jit_compile=True)),
        ("spe8", dict(steps_per_execution=8)),
        ("eager", dict(run_eagerly=True)),
    ):
        _, records = fit_logged(tmp_path / name, every=3, **args)
        for tag in ("weights", "gradients", "updates"):
            assert steps(records, tag) == steps(reference, tag), (name, tag)
            for (step, got), (_, want) in zip(records[tag], reference[tag]):
                assert got.names == want.names
                np.testing.assert_allclose(
                    got.stats.values, want.stats.values, rtol=1e-5, atol=1e-7, err_msg=f"{name} {tag} {step}"
                )
                np.testing.assert_array_equal(got.stats.counts, want.stats.counts)
                for column in want.extras:
                    np.testing.assert_allclose(got.extras[column], want.extras[column], rtol=1e-5)


def test_more_logging_steps_than_buffers_in_one_execution_warns_and_keeps_the_last(tmp_path):
    with pytest.warns(RuntimeWarning, match="fell into one execution"):
        _, records = fit_logged(tmp_path, every=1, epochs=1, steps_per_execution=8)
    # One execution of 8 steps, MAX_SLOTS buffer sets: the last four steps are kept.
    kept = list(range(8 - modellens.keras.MAX_SLOTS + 1, 9))
    assert steps(records, "gradients") == kept
    assert steps(records, "weights") == [0] + kept


def test_default_every_and_jit_auto(tmp_path):
    x, y = data()
    model = build()  # jit_compile="auto"
    model.fit(
        x, y, batch_size=1, epochs=2, shuffle=False, verbose=0, callbacks=[modellens.keras.Callback(str(tmp_path))]
    )
    records = read_run(tmp_path)
    assert steps(records, "gradients") == [100]  # 128 steps, every=100
    assert steps(records, "weights") == [0, 100]


def test_gradients_are_those_applied_after_clipping_and_unscaling(tmp_path):
    x, y = data()
    clip = 1e-3
    optimizer = keras.optimizers.SGD(1e-2, clipnorm=clip, loss_scale_factor=64.0)
    model = build(optimizer=optimizer)
    probe = Probe(x, y)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[probe, modellens.keras.Callback(str(tmp_path), every=4, log="gradients")],
    )
    records = read_run(tmp_path)
    assert list(records) == ["model", "gradients"] and steps(records, "gradients") == [4, 8]
    for step in (4, 8):
        value = at(records, "gradients", step)
        raw = np.array([np.linalg.norm(probe.grads[step][n]) for n in value.names])
        np.testing.assert_allclose(value.stats.values[:, NORM], np.minimum(raw, clip), rtol=1e-4)


def test_loss_scale_optimizer_gradients_are_unscaled(tmp_path):
    x, y = data()
    model = build(optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-2)))
    probe = Probe(x, y)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[probe, modellens.keras.Callback(str(tmp_path), every=4)],
    )
    records = read_run(tmp_path)
    assert steps(records, "gradients") == [4, 8]
    for step in (4, 8):
        assert_stats_match(at(records, "gradients", step), probe.grads[step], rtol=1e-4)
    inner = model.optimizer.inner_optimizer
    assert "apply" not in vars(inner) and "apply" not in vars(model.optimizer)


def test_gradient_accumulation_counts_real_updates(tmp_path):
    x, y = data()
    optimizer = keras.optimizers.SGD(1e-2, gradient_accumulation_steps=2)
    model = build(optimizer=optimizer)
    probe = Probe(x, y)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[probe, modellens.keras.Callback(str(tmp_path), every=2)],
    )
    records = read_run(tmp_path)
    # 8 micro-batches = 4 updates; update k averages micro-batches 2k-1 and 2k (1-based).
    assert steps(records, "gradients") == steps(records, "updates") == [2, 4]
    assert int(model.optimizer.iterations.numpy()) == 4
    for step in (2, 4):
        first, second = probe.batch_grads[2 * step - 2], probe.batch_grads[2 * step - 1]
        mean = {name: (first[name] + second[name]) / 2 for name in first}
        assert_stats_match(at(records, "gradients", step), mean, rtol=1e-4)


# ---------------------------------------------------------------------------- lifecycle


def test_a_second_fit_continues_and_a_fit_without_the_callback_is_plain(tmp_path):
    x, y = data()
    model = build()
    callback = modellens.keras.Callback(str(tmp_path), every=5)
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
    records = read_run(tmp_path)
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 2  # one file per fit
    assert steps(records, "weights") == [0, 5, 10, 15]
    assert steps(records, "gradients") == [5, 10, 15]
    assert callback.writer is None  # its own writer is closed at train end
    before = {v.path: v.numpy().copy() for v in model.weights}
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert "apply" not in vars(model.optimizer)
    assert read_run(tmp_path).keys() == records.keys() and steps(read_run(tmp_path), "weights") == [0, 5, 10, 15]
    assert any(not np.array_equal(before[v.path], v.numpy()) for v in model.weights)


def test_a_fit_that_raised_leaves_nothing_behind_for_the_next_callback(tmp_path):
    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 4:
                raise RuntimeError("boom")

    x, y = data()
    model = build()
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[modellens.keras.Callback(str(tmp_path / "a"), every=2), Boom()],
        )
    assert "apply" in vars(model.optimizer)  # Keras skipped on_train_end
    probe = Probe(x, y)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[probe, modellens.keras.Callback(str(tmp_path / "b"), every=4)],
    )
    records = read_run(tmp_path / "b")
    assert steps(records, "gradients") == [8, 12]  # continues from the 5 steps of the failed fit
    for step in (8, 12):
        assert_stats_match(at(records, "gradients", step), probe.grads[step])
    assert "apply" not in vars(model.optimizer) and "_backend_update_step" not in vars(model.optimizer)


def test_a_user_writer_is_flushed_not_closed(tmp_path):
    x, y = data()
    model = build()
    with modellens.Writer(str(tmp_path)) as writer:
        model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[modellens.keras.Callback(writer, every=4, log=("weights",))],
        )
        assert steps(read_run(tmp_path), "weights") == [0, 4, 8]  # on disk: flushed at train end
        writer.distributions("weights", model, step=9)  # still open
    assert steps(read_run(tmp_path), "weights") == [0, 4, 8, 9]


# ---------------------------------------------------------------------------- arguments, imports


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(every=0), ValueError, "every"),
        (dict(every=-3), ValueError, "every"),
        (dict(every=2.0), ValueError, "every"),
        (dict(every=True), ValueError, "every"),
        (dict(every="5"), ValueError, "every"),
        (dict(log=("weights", "activations")), ValueError, "log"),
        (dict(log=()), ValueError, "log"),
        (dict(log=[1]), TypeError, "log"),
        (dict(log=5), TypeError, "log"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        modellens.keras.Callback(str(tmp_path), **kwargs)


@pytest.mark.parametrize("target, error", [(3, TypeError), (None, TypeError), ("", ValueError)])
def test_bad_target(target, error):
    with pytest.raises(error, match="target"):
        modellens.keras.Callback(target)


def test_imports_are_lazy_and_a_missing_keras_says_what_to_install():
    code = (
        "import sys\n"
        "import modellens, modellens.keras\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported TF'\n"
        "sys.modules['keras'] = None\n"
        "try:\n"
        "    modellens.keras.Callback\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "modellens.keras needs Keras 3 with TensorFlow: pip install 'modellens[keras]'" in result.stdout


def test_the_graph_is_logged_once_and_graph_false_skips_it(tmp_path):
    x, y = data()
    for name, graph_option in (("on", True), ("off", False)):
        model = build()
        callback = modellens.keras.Callback(tmp_path / name, every=4, graph=graph_option)
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[callback])
    logged = read_run(tmp_path / "on")["model"]
    assert [step for step, _ in logged] == [0] and logged[0][1].capture == "symbolic"
    assert logged[0][1].totals == {"params": 92, "trainable": 50, "frozen": 42}
    names = {logged[0][1].text(i) for row in logged[0][1].nodes["param_names"] for i in row}
    assert names == {v.path for v in model.weights}  # the names Training health logs
    assert "model" not in read_run(tmp_path / "off")
    with pytest.raises(TypeError, match="graph must be True or False"):
        modellens.keras.Callback(tmp_path / "x", graph=1)
