"""A long curve as a page gets it: min and max per screen column, every point once zoomed in."""

from __future__ import annotations

import numpy as np

from bliss_shell.plot.decimate import COLUMNS, FULL_POINTS, decimate


def test_a_long_curve_keeps_every_peak_and_dip_in_at_most_four_points_per_column():
    x = np.arange(1_000_000.0)
    diode = np.sin(x / 5000)
    diode[123_457] = 50.0  # one hot point
    diode[876_543] = -50.0  # one dead point
    rows = decimate(x, {"diode": diode}, None, None)
    assert 2 * COLUMNS <= len(rows["x"]) <= 4 * COLUMNS + 2
    assert {123_457.0, 876_543.0} <= set(rows["x"])
    assert rows["x"][0] == 0 and rows["x"][-1] == 999_999  # both ends
    assert np.all(np.diff(rows["x"]) > 0)  # in order, each point once
    assert np.array_equal(rows["diode"], diode[rows["x"].astype(int)])  # the values of those points, untouched


def test_every_channel_keeps_its_own_extremes():
    x = np.arange(300_000.0)
    quiet, busy = np.zeros_like(x), np.zeros_like(x)
    quiet[1000] = 1.0
    busy[2000] = -1.0
    rows = decimate(x, {"quiet": quiet, "busy": busy}, None, None)
    assert {1000.0, 2000.0} <= set(rows["x"])


def test_a_failed_read_nan_never_hides_a_value_of_its_column():
    x = np.arange(100_000.0)
    diode = np.full_like(x, np.nan)
    diode[40_000] = 7.0  # the only good point of its column, among NaN
    rows = decimate(x, {"diode": diode}, None, None)
    assert 40_000.0 in set(rows["x"])


def test_zoomed_in_to_full_points_or_fewer_every_point_comes():
    x = np.linspace(0.0, 10.0, 1_000_000)
    diode = np.cos(x)
    low, high = x[500_000], x[500_000 + FULL_POINTS - 1]
    rows = decimate(x, {"diode": diode}, low, high)
    assert np.array_equal(rows["x"], x[500_000 : 500_000 + FULL_POINTS])
    assert np.array_equal(rows["diode"], diode[500_000 : 500_000 + FULL_POINTS])
    reversed_window = decimate(x, {"diode": diode}, high, low)  # a window dragged right to left
    assert np.array_equal(reversed_window["x"], rows["x"])


def test_a_short_curve_comes_whole():
    x = np.arange(FULL_POINTS, dtype=float)
    rows = decimate(x, {"diode": x * 2}, None, None)
    assert np.array_equal(rows["x"], x) and np.array_equal(rows["diode"], x * 2)
