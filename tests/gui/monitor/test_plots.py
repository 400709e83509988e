"""The arrays the plots draw: a step line through a boolean's values, and a long trace thinned."""

from __future__ import annotations

import numpy as np

from sdv_studio.gui.monitor.plots import MAX_POINTS, steps, thinned


def test_steps_hold_each_value_until_the_next_and_break_at_a_gap() -> None:
    x, y = steps(np.array([1.0, 2.0, 4.0, 5.0]), np.array([1.0, 0.0, np.nan, 1.0]), until=7.0)
    assert list(x) == [1.0, 2.0, 2.0, 4.0, 4.0, 5.0, 5.0, 7.0]
    assert list(y[:4]) == [1.0, 1.0, 0.0, 0.0] and np.isnan(y[4:6]).all() and list(y[6:]) == [1.0, 1.0]
    x, _y = steps(np.array([1.0, 2.0]), np.array([1.0, 0.0]), until=None)
    assert x[-1] == 2.0  # a device not heard: its last value is not drawn past its own time


def test_a_long_trace_is_thinned_and_keeps_its_spikes_and_gaps() -> None:
    x = np.arange(20_000.0)
    y = np.zeros(20_000)
    y[12_345] = 1.0  # one short toggle
    y[15_000:15_010] = np.nan  # a gap
    thin_x, thin_y = thinned(x, y)
    assert len(thin_x) == len(thin_y) <= 1.02 * MAX_POINTS and thin_x[0] == 0.0 and thin_x[-1] == 19_999.0
    assert np.nanmax(thin_y) == 1.0 and np.isnan(thin_y).any()
    assert np.all(np.diff(thin_x) >= 0)
    short = np.arange(10.0)
    assert thinned(short, short)[0] is short  # few enough: as they are
