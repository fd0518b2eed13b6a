import numpy as np
import pytest

from facecraft.rigs.errors import ParameterError
from facecraft.rigs.stats import lagged_pearson, pearson


def test_pearson_is_nan_for_a_flat_curve_and_one_for_a_scaled_copy():
    x = np.sin(np.linspace(0, 6, 50))
    assert pearson(x, 3 * x + 1) == pytest.approx(1.0)
    assert pearson(x, -x) == pytest.approx(-1.0)
    assert np.isnan(pearson(x, np.zeros_like(x)))
    with pytest.raises(ParameterError, match="length"):
        pearson(x, x[:-1])


def test_lagged_pearson_finds_the_shift_within_the_window():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    late = np.concatenate([np.zeros(3), x[:-3]])  # ``late`` lags x by 3 frames
    r, lag = lagged_pearson(x, late, max_lag=6)
    assert lag == 3 and r > 0.99
    r0, lag0 = lagged_pearson(x, late, max_lag=1)  # the true shift is outside the window
    assert abs(lag0) <= 1 and r0 < 0.3
    early = np.concatenate([x[2:], np.zeros(2)])
    assert lagged_pearson(x, early, max_lag=6)[1] == -2
    assert lagged_pearson(x, np.zeros_like(x), max_lag=2) == (pytest.approx(float("nan"), nan_ok=True), 0)
    with pytest.raises(ParameterError, match="max_lag"):
        lagged_pearson(x, x, max_lag=-1)
