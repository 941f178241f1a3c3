"""The optimizer kernels against scikit-learn's update formulas in NumPy, bit
for bit: every SIMD variant, the multiply-by-1/n path (n a power of two) and
the division path (any other n)."""

import numpy as np
import pytest

from cymlp import _optimizers

N_ROWS = [1.0, 128.0, 64.0, 200.0, 3.5, 0.75]   # batch sizes and weighted sums
SIZES = [1, 7, 16, 33, 1000]                     # SIMD tails and full vectors


def _arrays(n, dtype, seed=0):
    rs = np.random.RandomState(seed)
    w = rs.uniform(-1, 1, n).astype(dtype)
    g = (rs.randn(n) * 10).astype(dtype)
    s1 = rs.uniform(-0.1, 0.1, n).astype(dtype)
    s2 = rs.uniform(0, 0.1, n).astype(dtype)
    return w, g, s1, s2


def _grad(w, g, alpha, n_rows):
    # scikit-learn: coef_grads = (a^T delta + alpha * W) / n_samples
    return (g + alpha * w) / n_rows


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 1e-3])
@pytest.mark.parametrize("n_rows", N_ROWS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_step_is_sklearns(dtype, n, n_rows, alpha, nesterov):
    w, g, v, _ = _arrays(n, dtype)
    lr, mom = 0.05, 0.9
    grad = _grad(w, g, alpha, n_rows)
    v_ref = mom * v - lr * grad
    update = mom * v_ref - lr * grad if nesterov else v_ref
    w_ref = w + update
    _optimizers.sgd_step(w, g, v, lr, mom, nesterov, alpha, n_rows)
    np.testing.assert_array_equal(v, v_ref)
    np.testing.assert_array_equal(w, w_ref)


@pytest.mark.parametrize("alpha", [0.0, 1e-3])
@pytest.mark.parametrize("n_rows", N_ROWS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_step_is_sklearns(dtype, n, n_rows, alpha):
    w, g, m, v = _arrays(n, dtype)
    lr_t, b1, b2, eps = 1e-3 * np.sqrt(1 - 0.999**3) / (1 - 0.9**3), 0.9, 0.999, 1e-8
    grad = _grad(w, g, alpha, n_rows)
    m_ref = b1 * m + (1 - b1) * grad
    v_ref = b2 * v + (1 - b2) * grad**2
    w_ref = w + -float(lr_t) * m_ref / (np.sqrt(v_ref) + eps)
    _optimizers.adam_step(w, g, m, v, lr_t, b1, b2, eps, alpha, n_rows)
    np.testing.assert_array_equal(m, m_ref)
    np.testing.assert_array_equal(v, v_ref)
    np.testing.assert_array_equal(w, w_ref)
