"""Heatmap routes over both TensorBoard data providers: series from the headers, one step's cells
as exact JSON numbers with NaN/±Inf and padding as null and the non-finite cells counted, and
400/404 (never 500) for bad parameters and damaged bodies."""

from __future__ import annotations

import numpy as np
import pytest

import modellens
from harness import PROVIDERS, Served
from modellens import heatmap


def exact_matrix(step: int) -> np.ndarray:
    values = np.random.default_rng(step).normal(size=(5, 7)).astype(np.float32)
    values[1, 2], values[3, 0], values[4, 6] = np.nan, np.inf, -np.inf
    return values


REDUCED = np.random.default_rng(11).normal(size=(2050, 3)).astype(np.float32)  # row blocks of 3
REDUCED[0, 0] = REDUCED[1, 1] = np.nan
REDUCED[4, 2] = np.inf
REDUCED[2049, 0] = -np.inf
ACTIVATION = np.random.default_rng(12).normal(size=(2, 3, 4, 5)).astype(np.float32)


@pytest.fixture(params=PROVIDERS)
def served(request, tmp_path):
    with modellens.Writer(tmp_path / "run") as writer:
        for step in (0, 3):
            writer.tensor_heatmap("fc/weight", exact_matrix(step), step=step)
        writer.tensor_heatmap("long", REDUCED, step=1)
        writer.tensor_heatmap("act", ACTIVATION, step=2, layout="channels", batch_index=1)
        broken = heatmap.encode("broken", heatmap.from_input(exact_matrix(0)))
        broken.tensor.string_val[1] = broken.tensor.string_val[1][:-7]
        writer._write(broken, 0, None)
    served = Served(tmp_path, request.param)
    tags = {"fc/weight", "long", "act", "broken"}
    served.wait_for(lambda: set(served.json("/heatmap/tags")["runs"].get("run", [])) == tags)
    yield served
    served.close()


def test_series_has_the_statistics_of_every_step(served):
    series = served.json("/heatmap/series", run="run", tag="fc/weight")
    assert [s["step"] for s in series["steps"]] == [0, 3] and series["downsampled"] is False
    item = series["steps"][1]
    finite = exact_matrix(3)[np.isfinite(exact_matrix(3))].astype(np.float64)
    assert item["shape"] == [5, 7] and item["reduced"] is False
    assert (item["nan"], item["posinf"], item["neginf"]) == (1, 1, 1)
    assert item["finite_min"] == finite.min() and item["finite_max"] == finite.max()
    assert item["mean"] == pytest.approx(finite.mean(), rel=1e-12) and item["std"] == pytest.approx(finite.std())
    assert set(item) == {"step", "wall_time", "shape", "finite_min", "finite_max", "mean", "std"} | {
        "nan",
        "posinf",
        "neginf",
        "reduced",
    }


def test_an_exact_step_serves_every_value_and_lists_the_nonfinite_cells(served):
    body = served.json("/heatmap/step", run="run", tag="fc/weight", step=3)
    truth = exact_matrix(3)
    assert (body["rows"], body["cols"], body["stored_rows"], body["stored_cols"]) == (5, 7, 5, 7)
    assert (body["row_block"], body["col_block"], body["reduced"]) == (1, 1, False)
    assert (body["layout"], body["dtype"], body["tile"], body["grid"], body["channels"]) == (
        "matrix",
        "float32",
        None,
        None,
        None,
    )
    assert body["min"] is None and body["max"] is None and body["count"] == 35 and body["zeros"] == 0
    expected = [float(v) if np.isfinite(v) else None for v in truth.reshape(-1)]
    assert body["values"] == expected  # exact: the float32 values as JSON doubles
    assert body["nonfinite"] == {"cells": [9, 21, 34], "nan": [1, 0, 0], "posinf": [0, 1, 0], "neginf": [0, 0, 1]}


def test_a_reduced_step_serves_block_means_extremes_and_counts(served):
    body = served.json("/heatmap/step", run="run", tag="long", step=1)
    assert (body["rows"], body["cols"], body["row_block"], body["col_block"]) == (2050, 3, 3, 1)
    assert (body["stored_rows"], body["stored_cols"], body["reduced"]) == (684, 3, True)
    values = np.array([np.nan if v is None else v for v in body["values"]]).reshape(684, 3)
    low = np.array([np.nan if v is None else v for v in body["min"]]).reshape(684, 3)
    high = np.array([np.nan if v is None else v for v in body["max"]]).reshape(684, 3)
    padded = np.full((684 * 3, 3), np.nan)
    padded[:2050] = REDUCED
    blocks = padded.reshape(684, 3, 3).transpose(0, 2, 1)  # [block row, col, the block's 3 rows]
    finite = np.where(np.isfinite(blocks), blocks, np.nan)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        np.testing.assert_array_equal(low, np.nanmin(finite, axis=2).astype(np.float32))
        np.testing.assert_array_equal(high, np.nanmax(finite, axis=2).astype(np.float32))
        np.testing.assert_allclose(values, np.nanmean(finite, axis=2), rtol=1e-6)
    assert body["nonfinite"] == {
        "cells": [0, 1, 5, 683 * 3],
        "nan": [1, 1, 0, 0],
        "posinf": [0, 0, 1, 0],
        "neginf": [0, 0, 0, 1],
    }
    assert (body["nan"], body["posinf"], body["neginf"], body["count"]) == (2, 1, 1, 2050 * 3)


def test_a_channel_grid_says_its_geometry_and_hides_padding(served):
    body = served.json("/heatmap/step", run="run", tag="act", step=2)
    assert (body["layout"], body["tile"], body["grid"], body["channels"], body["batch_index"]) == (
        "channels",
        [4, 5],
        [2, 2],
        3,
        1,
    )
    assert body["shape"] == [2, 3, 4, 5] and body["channels_last"] is False and body["count"] == 60
    image = np.array(body["values"], dtype=object).reshape(8, 10)
    assert image[4:, 5:].tolist() == [[None] * 5] * 4  # the padding tile: null, not listed
    assert body["nonfinite"]["cells"] == [] and body["nan"] == 0
    assert image[4:, :5].astype(float).tolist() == ACTIVATION[1, 2].astype(float).tolist()


def test_bad_parameters_get_400_and_absent_or_damaged_steps_404(served):
    cases = [
        ("step", {"run": "run", "tag": "fc/weight"}, 400),
        ("step", {"run": "run", "tag": "fc/weight", "step": "x"}, 400),
        ("step", {"run": "run", "step": 3}, 400),
        ("series", {"tag": "fc/weight"}, 400),
        ("step", {"run": "run", "tag": "fc/weight", "step": 2}, 404),
        ("step", {"run": "nope", "tag": "fc/weight", "step": 3}, 404),
        ("step", {"run": "run", "tag": "nope", "step": 3}, 404),
        ("series", {"run": "run", "tag": "nope"}, 404),
        ("step", {"run": "run", "tag": "broken", "step": 0}, 404),  # a healthy header, a damaged body
    ]
    for route, params, status in cases:
        response = served.get(f"/heatmap/{route}", **params)
        assert response.status_code == status, (route, params, response.get_data(as_text=True)[:200])
    assert served.json("/heatmap/series", run="run", tag="broken")["steps"][0]["shape"] == [5, 7]
