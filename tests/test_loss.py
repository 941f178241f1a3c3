"""Output activation + loss + delta, against scikit-learn's loss functions and
central differences of the loss with respect to the pre-activation."""

import numpy as np
import pytest
from sklearn.neural_network._base import LOSS_FUNCTIONS

from cymlp._loss import output_loss_and_delta

OUT = {"log_loss": 4, "binary_log_loss": 3, "squared_error": 3, "poisson": 5}


def _targets(name, rng, n, k):
    if name == "log_loss":
        return np.eye(k)[rng.randint(k, size=n)]
    if name == "binary_log_loss":
        return (rng.rand(n, k) > 0.5).astype(float)
    if name == "poisson":
        return rng.poisson(2.0, size=(n, k)).astype(float)
    return rng.randn(n, k)


def _loss_value(name, z, bias, y, sw):
    zz = z.copy()
    total, _ = output_loss_and_delta(name, zz, bias, y, sw)
    return total


@pytest.mark.parametrize("name", ["log_loss", "binary_log_loss", "squared_error", "poisson"])
@pytest.mark.parametrize("weighted", [False, True])
def test_delta_is_gradient_of_loss(name, weighted):
    rng = np.random.RandomState(0)
    n, k = 9, (4 if name == "log_loss" else 3)
    z = rng.randn(n, k) * 0.5
    bias = rng.randn(k) * 0.1
    y = _targets(name, rng, n, k)
    sw = rng.uniform(0.5, 2, n) if weighted else None
    _, delta = output_loss_and_delta(name, z.copy(), bias, y, sw)
    eps = 1e-6
    numeric = np.empty_like(z)
    for i in range(n):
        for j in range(k):
            zp, zm = z.copy(), z.copy()
            zp[i, j] += eps
            zm[i, j] -= eps
            numeric[i, j] = (_loss_value(name, zp, bias, y, sw) - _loss_value(name, zm, bias, y, sw)) / (2 * eps)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["log_loss", "binary_log_loss", "poisson"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_value_matches_sklearn(name, dtype):
    rng = np.random.RandomState(1)
    n, k = 20, (5 if name == "log_loss" else 2)
    z = (rng.randn(n, k) * 2).astype(dtype)
    bias = (rng.randn(k) * 0.1).astype(dtype)
    y = _targets(name, rng, n, k).astype(dtype)
    sw = rng.uniform(0.5, 2, n)
    for weights in (None, sw):
        act = z.copy()
        total, _ = output_loss_and_delta(name, act, bias, y, weights)
        ours = total / (n if weights is None else weights.sum())
        ref = LOSS_FUNCTIONS[name](y.astype(bool) if name != "poisson" else y, act, weights)
        np.testing.assert_allclose(ours, ref, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_squared_error_sums_over_outputs():
    """Documented difference (scikit-learn #8349): the squared error is summed
    over outputs so that it is the function its gradient belongs to; for one
    output it equals scikit-learn's value."""
    rng = np.random.RandomState(2)
    z = rng.randn(10, 3)
    y = rng.randn(10, 3)
    bias = np.zeros(3)
    total, _ = output_loss_and_delta("squared_error", z.copy(), bias, y)
    ref = LOSS_FUNCTIONS["squared_error"](y, z)
    np.testing.assert_allclose(total / 10, 3 * ref, rtol=1e-12)
    z1, y1 = np.ascontiguousarray(z[:, :1]), np.ascontiguousarray(y[:, :1])
    total1, _ = output_loss_and_delta("squared_error", z1.copy(), bias[:1], y1)
    np.testing.assert_allclose(total1 / 10, LOSS_FUNCTIONS["squared_error"](y1, z1), rtol=1e-12)
