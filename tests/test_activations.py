"""Hidden activations and their derivatives against NumPy and central differences."""

import numpy as np
import pytest
from scipy.special import expit, softmax

from cymlp._activations import apply_activation, apply_derivative, softmax_exp

REFERENCE = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": expit,
    "exp": np.exp,
    "softmax": lambda z: softmax(z, axis=1),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(name, dtype):
    rng = np.random.RandomState(0)
    z = rng.randn(13, 7).astype(dtype) * 3
    b = rng.randn(7).astype(dtype)
    expected = REFERENCE[name]((z.astype(np.float64) + b))
    out = z.copy()
    apply_activation(name, out, b)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite(dtype):
    z = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=dtype)
    for name in ["logistic", "tanh", "relu", "softmax"]:
        out = z.copy()
        apply_activation(name, out)
        assert np.isfinite(out).all(), name
    out = z.copy()
    apply_activation("logistic", out)
    np.testing.assert_allclose(out[0, [0, 2, 4]], [0.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype, lo, hi", [(np.float32, -110.0, 89.0),
                                            (np.float64, -760.0, 710.0)])
def test_softmax_exp_within_2_ulp(dtype, lo, hi):
    # softmax's own vectorizable exponential, over its whole range (subnormal
    # results included), against the exact value rounded from extended precision
    x = np.concatenate([np.linspace(lo, hi, 400_001), np.linspace(-1, 1, 100_001),
                        np.random.RandomState(0).uniform(lo, 0, 100_000)]).astype(dtype)
    got = x.copy()
    softmax_exp(got)
    exact = np.exp(x.astype(np.longdouble))
    finite = exact < np.finfo(dtype).max
    assert np.all(np.isinf(got[~finite]))
    ulp = np.spacing(np.maximum(exact[finite], np.finfo(dtype).tiny).astype(dtype))
    err = np.abs(got[finite].astype(np.longdouble) - exact[finite]) / ulp.astype(np.longdouble)
    # where long double is plain double (MSVC, Apple arm64), the float64
    # reference is libm's exp, itself up to 1 ulp off
    slack = 1.0 if np.finfo(np.longdouble).eps >= np.finfo(dtype).eps else 0.0
    assert err.max() <= 2.0 + slack
    assert got[x == 0].tolist() == [1.0] * int(np.sum(x == 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_exp_special_values(dtype):
    x = np.array([np.nan, -np.inf, np.inf, -1e30, 1e30, 0.0, -0.0], dtype=dtype)
    softmax_exp(x)
    assert np.isnan(x[0])
    np.testing.assert_array_equal(x[1:], [0.0, np.inf, 0.0, np.inf, 1.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_propagates_non_finite_rows(dtype):
    # a NaN or infinite score makes that row NaN (the training loss then stops
    # the fit), and leaves the other rows alone
    z = np.array([[1.0, np.nan, 2.0], [0.5, 1.0, 1.5], [np.inf, 0.0, 1.0],
                  [np.nan, 0.0, 1.0], [-np.inf, 0.0, 1.0]], dtype=dtype)
    out = z.copy()
    apply_activation("softmax", out)
    assert np.isnan(out[[0, 2, 3]]).all()
    np.testing.assert_allclose(out[1], softmax(z[1].astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(out[4], [0.0, *softmax([0.0, 1.0])], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cols", [1, 2, 3, 10, 17, 32, 33, 100])
@pytest.mark.parametrize("with_bias", [False, True])
def test_softmax_tiles_equal_one_row_at_a_time(dtype, cols, with_bias):
    # batches of short rows go through transposed tiles of 64 rows (the rest,
    # and rows wider than 32, one at a time): the same operations in the same
    # order, so the same bits as a row alone, and softmax within rounding
    rng = np.random.RandomState(cols)
    z = (rng.randn(203, cols) * 30).astype(dtype)
    z[5, 1 % cols] = np.nan
    z[70, 0] = np.inf
    z[71, :] = -np.inf
    z[130, :] = 1e30
    z[131, 0] = -0.0
    b = rng.randn(cols).astype(dtype) if with_bias else None
    got = z.copy()
    apply_activation("softmax", got, b)
    for i in range(z.shape[0]):
        row = z[i:i + 1].copy()
        apply_activation("softmax", row, b)
        assert row.tobytes() == got[i:i + 1].tobytes(), i
    ok = np.isfinite(z).all(axis=1)
    zb = z.astype(np.float64) + (0 if b is None else b)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got[ok], softmax(zb[ok], axis=1), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", ["identity", "relu", "tanh", "logistic"])
def test_derivative_against_central_differences(name):
    rng = np.random.RandomState(0)
    z = rng.randn(11, 6)
    z[np.abs(z) < 1e-3] = 0.5  # keep away from relu's kink
    upstream = rng.randn(11, 6)
    a = z.copy()
    apply_activation(name, a)
    delta = upstream.copy()
    apply_derivative(name, a, delta)
    eps = 1e-6
    zp, zm = z + eps, z - eps
    apply_activation(name, zp)
    apply_activation(name, zm)
    numeric = upstream * (zp - zm) / (2 * eps)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)
