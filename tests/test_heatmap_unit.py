"""The tensor heatmap kind without a server: every layout's index mapping, exact and
block-reduced round trips against plain references, NaN/±Inf counted per block and globally with
padding excluded, torch/TensorFlow/fp16/bf16 inputs, and bad input refused with nothing written."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import modellens
from heatmap_logs import read_heatmaps
from modellens import heatmap
from modellens._metadata import UnreadableRecord


def write_and_read(tmp_path, tensor, **kwargs) -> tuple[heatmap.HeatmapHeader, heatmap.HeatmapBody]:
    with modellens.Writer(tmp_path) as writer:
        writer.tensor_heatmap("t", tensor, step=kwargs.pop("step", 4), **kwargs)
    return read_heatmaps(tmp_path)["t"][4]


def reference_stats(data: np.ndarray) -> dict:
    """Global statistics written plainly in float64."""
    flat = np.asarray(data, np.float64).reshape(-1)
    finite = flat[np.isfinite(flat)]
    return {
        "finite_min": finite.min() if finite.size else math.nan,
        "finite_max": finite.max() if finite.size else math.nan,
        "mean": finite.mean() if finite.size else math.nan,
        "std": finite.std() if finite.size else math.nan,
        "count": flat.size,
        "nan": int(np.isnan(flat).sum()),
        "posinf": int((flat == np.inf).sum()),
        "neginf": int((flat == -np.inf).sum()),
        "zeros": int((flat == 0).sum()),
    }


def assert_stats(stats: heatmap.Stats, data: np.ndarray) -> None:
    expected = reference_stats(data)
    for name in ("count", "nan", "posinf", "neginf", "zeros", "finite_min", "finite_max"):
        got, want = getattr(stats, name), expected[name]
        assert got == want or (math.isnan(got) and math.isnan(want)), (name, got, want)
    for name in ("mean", "std"):
        got, want = getattr(stats, name), expected[name]
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12) or (math.isnan(got) and math.isnan(want)), name


def reference_blocks(image: np.ndarray, data: np.ndarray, rb: int, cb: int) -> dict[str, np.ndarray]:
    """Per-block mean/min/max of finite values and NaN/±Inf counts, one block at a time in
    float64 (``data``: True for data cells; everything else is padding)."""
    rows, cols = -(-image.shape[0] // rb), -(-image.shape[1] // cb)
    out = {name: np.full((rows, cols), np.nan) for name in ("mean", "min", "max")}
    out |= {name: np.zeros((rows, cols), np.int64) for name in ("nan", "posinf", "neginf")}
    for i in range(rows):
        for j in range(cols):
            block = image[i * rb : (i + 1) * rb, j * cb : (j + 1) * cb].astype(np.float64)
            block = block[data[i * rb : (i + 1) * rb, j * cb : (j + 1) * cb]]
            finite = block[np.isfinite(block)]
            if finite.size:
                out["mean"][i, j], out["min"][i, j], out["max"][i, j] = finite.mean(), finite.min(), finite.max()
            out["nan"][i, j] = np.isnan(block).sum()
            out["posinf"][i, j] = (block == np.inf).sum()
            out["neginf"][i, j] = (block == -np.inf).sum()
    return out


def assert_blocks(body: heatmap.HeatmapBody, reference: dict[str, np.ndarray]) -> None:
    np.testing.assert_array_equal(body.min, reference["min"])  # exact values of the tensor
    np.testing.assert_array_equal(body.max, reference["max"])
    np.testing.assert_allclose(body.mean, reference["mean"], rtol=1e-6, atol=1e-7)
    assert np.array_equal(np.isnan(body.mean), np.isnan(reference["mean"]))
    for name in ("nan", "posinf", "neginf"):
        np.testing.assert_array_equal(getattr(body, name), reference[name], err_msg=name)


# ---------------------------------------------------------------------------- layouts


def test_auto_picks_row_matrix_kernels_or_channels():
    assert heatmap.resolve_layout((7,), "auto") == "row"
    assert heatmap.resolve_layout((3, 4), "auto") == "matrix"
    assert heatmap.resolve_layout((3, 4, 5), "auto") == "matrix"
    assert heatmap.resolve_layout((64, 32, 3, 3), "auto") == "kernels"
    assert heatmap.resolve_layout((64, 32, 11, 11), "auto") == "kernels"
    assert heatmap.resolve_layout((8, 32, 12, 3), "auto") == "channels"
    assert heatmap.resolve_layout((3, 3, 32, 64), "auto", channels_last=True) == "kernels"
    assert heatmap.resolve_layout((8, 28, 28, 16), "auto", channels_last=True) == "channels"


def test_row_and_matrix_are_reshapes(tmp_path):
    header, body = write_and_read(tmp_path / "row", np.arange(7, dtype=np.float32))
    assert (header.layout, header.geometry.rows, header.geometry.cols) == ("row", 1, 7)
    np.testing.assert_array_equal(body.values, np.arange(7)[None])
    for shape in [(3, 5), (2, 3, 4), (2, 3, 4, 5)]:
        tensor = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
        header, body = write_and_read(tmp_path / str(len(shape)), tensor, layout="matrix")
        assert (header.geometry.rows, header.geometry.cols) == (shape[0], math.prod(shape[1:]))
        rows, cols = np.indices(body.values.shape)
        # cell (r, c) is tensor[r, unravel(c) over the trailing dims]
        trailing = np.unravel_index(cols.reshape(-1), shape[1:])
        np.testing.assert_array_equal(body.values.reshape(-1), tensor[(rows.reshape(-1), *trailing)])
        assert header.geometry.tile is None and header.geometry.grid is None


@pytest.mark.parametrize("channels_last", [False, True])
def test_kernels_place_each_kernel_in_its_tile(tmp_path, channels_last):
    out, inputs, kh, kw = 4, 3, 2, 5
    shape = (kh, kw, inputs, out) if channels_last else (out, inputs, kh, kw)
    weight = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    header, body = write_and_read(tmp_path, weight, channels_last=channels_last)
    assert header.layout == "kernels" and header.channels_last is channels_last
    geo = header.geometry
    assert (geo.rows, geo.cols, geo.tile, geo.grid) == (out * kh, inputs * kw, (kh, kw), (out, inputs))
    for o in range(out):
        for c in range(inputs):
            for i in range(kh):
                for j in range(kw):
                    expected = weight[i, j, c, o] if channels_last else weight[o, c, i, j]
                    assert body.values[o * kh + i, c * kw + j] == expected


@pytest.mark.parametrize("channels_last", [False, True])
def test_channels_show_one_sample_in_a_square_grid_with_padding_excluded(tmp_path, channels_last):
    n, channels, height, width = 3, 5, 4, 6
    activation = np.random.default_rng(1).normal(size=(n, channels, height, width)).astype(np.float32)
    activation[2, 1, 0, 0] = np.nan
    given = activation.transpose(0, 2, 3, 1) if channels_last else activation
    header, body = write_and_read(tmp_path, given, layout="channels", batch_index=2, channels_last=channels_last)
    geo = header.geometry
    assert header.shape == given.shape and header.batch_index == 2 and geo.channels == channels
    assert (geo.tile, geo.grid, geo.rows, geo.cols) == ((height, width), (2, 3), 2 * height, 3 * width)
    for c in range(channels):
        tr, tc = divmod(c, 3)
        tile = body.values[tr * height : (tr + 1) * height, tc * width : (tc + 1) * width]
        np.testing.assert_array_equal(tile, activation[2, c])
    mask = geo.data_mask()
    assert not mask[height:, 2 * width :].any() and mask[:height].all() and mask[height:, : 2 * width].all()
    assert_stats(header.stats, activation[2])  # one NaN; the padding tile is not counted
    assert header.stats.nan == 1 and header.stats.count == channels * height * width


def test_a_3d_channels_tensor_and_a_single_channel(tmp_path):
    maps = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    header, body = write_and_read(tmp_path / "a", maps, layout="channels")
    assert header.batch_index is None and header.geometry.grid == (1, 2)
    np.testing.assert_array_equal(body.values, np.concatenate([maps[0], maps[1]], axis=1))
    header, body = write_and_read(tmp_path / "b", maps[:1], layout="channels")
    assert header.geometry.grid == (1, 1) and header.geometry.padding() is None


def test_grid_columns_are_the_ceiling_of_the_square_root():
    for channels, grid in [
        (1, (1, 1)),
        (2, (1, 2)),
        (4, (2, 2)),
        (5, (2, 3)),
        (10, (3, 4)),
        (64, (8, 8)),
        (65, (8, 9)),
    ]:
        assert heatmap.geometry((channels, 2, 2), "channels").grid == grid, channels


# ---------------------------------------------------------------------------- exact round trip


def test_exact_round_trip_keeps_every_value_nan_and_inf(tmp_path):
    tensor = np.random.default_rng(2).normal(size=(1024, 1024)).astype(np.float32)
    tensor[5, 7], tensor[9, 0], tensor[1023, 1023], tensor[0, 3] = np.nan, np.inf, -np.inf, 0.0
    header, body = write_and_read(tmp_path, tensor)
    assert not header.reduced and (header.row_block, header.col_block) == (1, 1)
    assert body.values.dtype == np.float32
    np.testing.assert_array_equal(body.values, tensor)  # NaN positions included
    assert_stats(header.stats, tensor)
    assert (header.stats.nan, header.stats.posinf, header.stats.neginf) == (1, 1, 1)


def test_float64_and_wide_integers_are_kept_in_float64(tmp_path):
    values = np.array([[1 / 3, 1e-300], [2.0**60, -7.0]])
    header, body = write_and_read(tmp_path / "f8", values)
    assert body.values.dtype == np.float64 and header.dtype == "float64"
    np.testing.assert_array_equal(body.values, values)
    big = np.array([2**40 + 1, -(2**33), 7], np.int64)
    header, body = write_and_read(tmp_path / "i8", big)
    assert body.values.dtype == np.float64 and header.dtype == "int64"
    np.testing.assert_array_equal(body.values[0].astype(np.int64), big)
    header, body = write_and_read(tmp_path / "u1", np.array([[0, 255], [True, 3]], np.uint8))
    assert body.values.dtype == np.float32 and header.stats.zeros == 1
    header, body = write_and_read(tmp_path / "b", np.array([True, False, True]))
    assert body.values.tolist() == [[1.0, 0.0, 1.0]] and header.dtype == "bool"


def test_all_nonfinite_has_undefined_statistics(tmp_path):
    header, body = write_and_read(tmp_path, np.array([np.nan, np.inf, -np.inf, np.nan]))
    s = header.stats
    assert math.isnan(s.finite_min) and math.isnan(s.mean) and math.isnan(s.std)
    assert (s.count, s.nan, s.posinf, s.neginf, s.zeros) == (4, 2, 1, 1, 0)


# ---------------------------------------------------------------------------- block reduction


def test_a_large_matrix_is_block_reduced_with_exact_extremes_and_counts(tmp_path):
    rng = np.random.default_rng(3)
    tensor = rng.normal(size=(2100, 1500)).astype(np.float32)  # blocks 3 × 2, ragged last row block
    for index, value in zip(rng.integers(0, tensor.size, 300), [np.nan, np.inf, -np.inf] * 100):
        tensor.flat[index] = value
    tensor[0:3, 0:2] = np.nan  # a block without any finite value
    header, body = write_and_read(tmp_path, tensor)
    assert header.reduced and (header.row_block, header.col_block) == (3, 2)
    assert header.stored == (700, 750) and body.mean.shape == (700, 750) and body.values is None
    assert_blocks(body, reference_blocks(tensor, np.ones(tensor.shape, bool), 3, 2))
    assert_stats(header.stats, tensor)
    assert int(body.nan.sum()) == header.stats.nan and int(body.posinf.sum()) == header.stats.posinf


@pytest.mark.parametrize("fraction", [0.002, 0.4], ids=["few nonfinite", "many nonfinite"])
def test_nonfinite_cells_are_counted_per_block_however_many(tmp_path, fraction):
    rng = np.random.default_rng(9)
    tensor = rng.normal(size=(1500, 1100)).astype(np.float64)  # blocks 2 × 2, ragged both ways
    picked = rng.random(tensor.shape) < fraction
    tensor[picked] = rng.choice([np.nan, np.inf, -np.inf], size=int(picked.sum()))
    tensor[1499, 1099] = np.nan  # in the last block, beside its padding
    header, body = write_and_read(tmp_path, tensor)
    assert header.stored == (750, 550) and body.mean.dtype == np.float64
    assert_blocks(body, reference_blocks(tensor, np.ones(tensor.shape, bool), 2, 2))
    assert_stats(header.stats, tensor)


def test_a_ragged_edge_is_padding_not_nan(tmp_path):
    tensor = np.arange(1025 * 3, dtype=np.float32).reshape(1025, 3)  # 513 row blocks of 2, the last holds 1 row
    header, body = write_and_read(tmp_path, tensor)
    assert header.stored == (513, 3) and body.nan is not None and not body.nan.any()
    assert body.mean[-1].tolist() == tensor[-1].tolist() and header.stats.nan == 0


def test_a_reduced_channel_grid_excludes_its_padding_tiles(tmp_path):
    rng = np.random.default_rng(4)
    activation = rng.normal(size=(2, 5, 601, 700)).astype(np.float32)  # grid 2 × 3, image 1202 × 2100
    activation[0, 4, 600, 699] = np.nan  # the last cell before the padding tile
    activation[0, 2, 10, 10] = -np.inf
    header, body = write_and_read(tmp_path, activation, layout="channels", batch_index=0)
    geo = header.geometry
    assert (geo.rows, geo.cols, header.row_block, header.col_block) == (1202, 2100, 2, 3)
    image = np.full((geo.rows, geo.cols), np.nan, np.float32)
    for c in range(5):
        tr, tc = divmod(c, 3)
        image[tr * 601 : (tr + 1) * 601, tc * 700 : (tc + 1) * 700] = activation[0, c]
    reference = reference_blocks(image, geo.data_mask(), 2, 3)
    assert_blocks(body, reference)
    assert int(body.nan.sum()) == 1 and header.stats.nan == 1 and header.stats.neginf == 1
    assert np.isnan(body.mean[-1, -1]) and body.nan[-1, -1] == 0  # a padding block: no data, no NaN
    assert_stats(header.stats, activation[0])


def test_a_long_row_is_reduced_in_column_chunks(tmp_path, monkeypatch):
    values = np.random.default_rng(5).normal(size=300_001)
    values[12345] = np.nan
    monkeypatch.setattr(heatmap, "_CHUNK_CELLS", 4096)  # many chunks over one row
    header, body = write_and_read(tmp_path, values)
    assert header.layout == "row" and header.col_block == 293 and header.stored == (1, 1024)
    assert_blocks(body, reference_blocks(values[None], np.ones((1, values.size), bool), 1, 293))
    assert_stats(header.stats, values)
    assert body.mean.dtype == np.float64


@pytest.mark.parametrize("chunk", [1 << 22, 5000])
def test_chunking_does_not_change_the_result(monkeypatch, chunk):
    rng = np.random.default_rng(6)
    tensor = rng.normal(size=(3000, 2500)).astype(np.float32)
    tensor[rng.integers(0, 3000, 50), rng.integers(0, 2500, 50)] = np.inf
    baseline = heatmap.from_input(tensor)
    monkeypatch.setattr(heatmap, "_CHUNK_CELLS", chunk)
    again = heatmap.from_input(tensor)
    for name in ("min", "max", "posinf"):
        np.testing.assert_array_equal(getattr(again, name), getattr(baseline, name))
    np.testing.assert_allclose(again.mean, baseline.mean, rtol=1e-6)
    assert again.stats.finite_min == baseline.stats.finite_min and again.stats.posinf == baseline.stats.posinf
    assert again.stats.std == pytest.approx(baseline.stats.std, rel=1e-12)
    assert_stats(again.stats, tensor)


def test_a_large_conv_weight_is_reduced_over_its_kernel_grid(tmp_path):
    weight = np.random.default_rng(7).normal(size=(512, 512, 3, 3)).astype(np.float32)
    header, body = write_and_read(tmp_path, weight)
    assert header.layout == "kernels" and header.geometry.rows == 1536 and header.stored == (768, 768)
    image = weight.transpose(0, 2, 1, 3).reshape(1536, 1536)
    np.testing.assert_array_equal(body.min, image.reshape(768, 2, 768, 2).min(axis=(1, 3)))
    np.testing.assert_array_equal(body.max, image.reshape(768, 2, 768, 2).max(axis=(1, 3)))
    assert body.nan is not None and not body.nan.any()
    assert_stats(header.stats, weight)


# ---------------------------------------------------------------------------- inputs


def test_torch_inputs_of_every_float_dtype(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.randn(6, 8, generator=torch.Generator().manual_seed(0))
    base[1, 2] = float("nan")
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int32):
        tensor = (base * 100).to(dtype) if dtype == torch.int32 else base.to(dtype)
        tensor = tensor.nan_to_num(0) if dtype == torch.int32 else tensor
        name = str(dtype).removeprefix("torch.")
        header, body = write_and_read(
            tmp_path / name, torch.nn.Parameter(tensor, requires_grad=False) if dtype.is_floating_point else tensor
        )
        assert header.dtype == name
        np.testing.assert_array_equal(body.values, tensor.to(torch.float64).numpy())
        assert header.stats.nan == int(torch.isnan(tensor).sum())


def test_a_torch_batch_sample_is_picked_before_leaving_the_device(tmp_path):
    torch = pytest.importorskip("torch")
    activation = torch.randn(4, 3, 16, 16, requires_grad=True) * 2
    header, body = write_and_read(tmp_path, activation, batch_index=-1)  # auto → channels (16 > 11)
    assert header.layout == "channels" and header.batch_index == 3
    np.testing.assert_array_equal(body.values[:16, 16:32], activation[3, 1].detach().numpy())


def test_tensorflow_and_keras_inputs(tmp_path):
    tf = pytest.importorskip("tensorflow")
    values = np.random.default_rng(8).normal(size=(3, 3, 2, 4)).astype(np.float32)
    header, body = write_and_read(tmp_path / "tf", tf.constant(values), channels_last=True)
    assert header.layout == "kernels" and header.geometry.grid == (4, 2)
    np.testing.assert_array_equal(body.values[0:3, 0:3], values[:, :, 0, 0])
    half = tf.constant(values, dtype=tf.bfloat16)
    header, body = write_and_read(tmp_path / "bf16", half, layout="matrix")
    assert header.dtype == "bfloat16"
    np.testing.assert_array_equal(body.values.reshape(-1), half.numpy().astype(np.float32).reshape(-1))
    variable = tf.Variable(values[0, 0])
    header, body = write_and_read(tmp_path / "var", variable)
    np.testing.assert_array_equal(body.values, values[0, 0])


def test_fp16_numpy_and_lists(tmp_path):
    half = np.array([[0.1, 65504.0], [np.inf, -0.0]], np.float16)
    header, body = write_and_read(tmp_path / "f2", half)
    assert header.dtype == "float16" and body.values.dtype == np.float32
    np.testing.assert_array_equal(body.values, half.astype(np.float32))
    assert header.stats.zeros == 1 and header.stats.posinf == 1
    header, body = write_and_read(tmp_path / "list", [[1, 2, 3]])
    assert body.values.tolist() == [[1.0, 2.0, 3.0]]


# ---------------------------------------------------------------------------- refused


BAD_INPUTS = [
    ("rank 0", dict(tensor=np.float32(3)), ValueError, "1-D to 4-D"),
    ("rank 5", dict(tensor=np.zeros((1, 1, 1, 1, 2))), ValueError, "1-D to 4-D"),
    ("empty", dict(tensor=np.zeros((3, 0))), ValueError, "empty"),
    ("strings", dict(tensor=np.array(["a", "b"])), TypeError, "real numbers"),
    ("a str", dict(tensor="abc"), TypeError, "numeric"),
    ("complex", dict(tensor=np.ones(3, np.complex64)), TypeError, "real numbers"),
    ("objects", dict(tensor=np.array([None, 1], dtype=object)), TypeError, "real numbers"),
    ("ragged", dict(tensor=[[1, 2], [3]]), TypeError, "tensor"),
    ("unknown layout", dict(tensor=np.ones((2, 2)), layout="image"), ValueError, "layout must be one of"),
    ("row of 2-D", dict(tensor=np.ones((2, 2)), layout="row"), ValueError, "'row' is for 1-D"),
    ("matrix of 1-D", dict(tensor=np.ones(3), layout="matrix"), ValueError, "use 'row'"),
    ("kernels of 3-D", dict(tensor=np.ones((2, 2, 2)), layout="kernels"), ValueError, "'kernels' is for 4-D"),
    ("channels of 2-D", dict(tensor=np.ones((2, 2)), layout="channels"), ValueError, "'channels' is for"),
    ("batch out of range", dict(tensor=np.ones((2, 3, 20, 20)), batch_index=2), ValueError, "out of range"),
    ("negative batch out of range", dict(tensor=np.ones((2, 3, 20, 20)), batch_index=-3), ValueError, "out of range"),
    ("batch of kernels", dict(tensor=np.ones((2, 3, 3, 3)), batch_index=1), ValueError, "layout='channels'"),
    ("batch not int", dict(tensor=np.ones((2, 3, 20, 20)), batch_index=1.0), TypeError, "batch_index"),
    ("batch bool", dict(tensor=np.ones((2, 3, 20, 20)), batch_index=True), TypeError, "batch_index"),
    ("channels_last not bool", dict(tensor=np.ones((2, 2)), channels_last=1), TypeError, "channels_last"),
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
            writer.tensor_heatmap("t", step=1, **kwargs)
        writer.flush()
        assert os.path.getsize(path) == size
    assert read_heatmaps(tmp_path) == {}


def test_bad_tag_step_and_torch_complex_are_refused(tmp_path):
    with modellens.Writer(tmp_path) as writer:
        with pytest.raises(TypeError, match="tag"):
            writer.tensor_heatmap("", np.ones(3), step=0)
        with pytest.raises(ValueError, match="step"):
            writer.tensor_heatmap("t", np.ones(3), step=-1)
        torch = pytest.importorskip("torch")
        with pytest.raises(TypeError, match="real"):
            writer.tensor_heatmap("t", torch.ones(3, dtype=torch.complex64), step=0)
    assert read_heatmaps(tmp_path) == {}


# ---------------------------------------------------------------------------- malformed records


def test_malformed_blobs_are_unreadable_records():
    value = heatmap.encode("t", heatmap.from_input(np.arange(12.0).reshape(3, 4)))
    blobs = list(value.tensor.string_val)
    header, _ = heatmap.read_step(blobs)
    for garbage in (b"\xff\xfe", b"", blobs[1]):
        with pytest.raises(UnreadableRecord):
            heatmap.decode([garbage])
    with pytest.raises(UnreadableRecord):
        heatmap.read_body(header, blobs[1][:-3])
    with pytest.raises(UnreadableRecord):
        heatmap.read_body(header, blobs[0])
    with pytest.raises(UnreadableRecord):
        heatmap.read_step(blobs[:1])

    def broken(change) -> bytes:
        message = heatmap._proto.HeatmapStep.FromString(blobs[0])
        change(message)
        return message.SerializeToString()

    for change in (
        lambda m: setattr(m, "rows", 4),
        lambda m: setattr(m, "layout", "kernels"),
        lambda m: setattr(m, "layout", "spiral"),
        lambda m: setattr(m, "row_block", 2),
        lambda m: setattr(m, "batch_index", 1),
        lambda m: m.shape.append(2),
        lambda m: m.arrays.pop(),
    ):
        with pytest.raises(UnreadableRecord):
            heatmap.decode([broken(change)])
    reduced = heatmap.encode("t", heatmap.from_input(np.ones((2000, 3))))
    big_header, _ = heatmap.read_step(list(reduced.tensor.string_val))
    with pytest.raises(UnreadableRecord):  # an exact body where a reduced one belongs
        heatmap.read_body(big_header, blobs[1])
